// fuzz_api's stand-in for the generated web UI bundle (generated/ui_assets.cc, built by npm and
// esbuild in the main build): the /ui routes are registered from whatever this lists, and
// serving a few bytes exercises them as well as the real megabyte would.
#include "api/ui_assets.h"

namespace ulak::api {

const std::vector<UiAsset>& UiAssets() {
  static const std::vector<UiAsset> kAssets = {
      {"index.html", "text/html; charset=utf-8", "<!doctype html><title>ulak</title>"},
      {"app.js", "text/javascript; charset=utf-8", "void 0;"},
      {"app.css", "text/css; charset=utf-8", "body{}"},
  };
  return kAssets;
}

}  // namespace ulak::api
