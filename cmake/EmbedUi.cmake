# cmake -DUI_DIR=<dir with the bundle> -DOUT=<file.cc> -P EmbedUi.cmake
# Compiles every file of the UI bundle into a C++ table (api/ui_assets.h) as byte arrays, so
# any content (including ")" sequences and NULs) embeds safely.
file(GLOB files RELATIVE ${UI_DIR} ${UI_DIR}/*)
list(SORT files)
set(arrays "")
set(entries "")
set(i 0)
foreach(name ${files})
  if(IS_DIRECTORY ${UI_DIR}/${name})
    continue()
  endif()
  file(READ ${UI_DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  set(type "application/octet-stream")
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  elseif(name MATCHES "\\.png$")
    set(type "image/png")
  endif()
  string(APPEND arrays "const char kAsset${i}[] = {${bytes} 0};\n")
  string(APPEND entries "      {\"${name}\", \"${type}\", std::string_view(kAsset${i}, ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from the UI bundle by cmake/EmbedUi.cmake. Do not edit.
#include \"api/ui_assets.h\"

namespace ulak::api {
namespace {
${arrays}
}  // namespace

const std::vector<UiAsset>& UiAssets() {
  static const std::vector<UiAsset> kAssets = {
${entries}  };
  return kAssets;
}

}  // namespace ulak::api
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
