// The web UI's files (ui/, bundled by esbuild), compiled into the binary by
// cmake/EmbedUi.cmake, so `ulak serve` needs no second server and nothing from the internet.
#pragma once

#include <string_view>
#include <vector>

namespace ulak::api {

struct UiAsset {
  std::string_view name;          // "index.html", "app.js", ...
  std::string_view content_type;
  std::string_view bytes;
};

// Generated.
const std::vector<UiAsset>& UiAssets();

}  // namespace ulak::api
