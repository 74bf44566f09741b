# The web UI (ui/): `npm ci` of the pinned packages (ui/package-lock.json) into the build tree,
# esbuild bundles ui/src into ${ULAK_UI_DIST}, and cmake/EmbedUi.cmake compiles the bundle
# into generated/ui_assets.cc. All at build time, so `make run` and `make test` produce it on a
# clean clone; npm (Debian's nodejs/npm, scripts/install-deps.sh) is required.
find_program(ULAK_NPM npm REQUIRED)
find_program(ULAK_NODE node REQUIRED)
set(ULAK_UI_NODE ${CMAKE_BINARY_DIR}/ui-node)  # node_modules for the build and the browser tests
set(ULAK_UI_DIST ${CMAKE_BINARY_DIR}/ui-dist)
set(ULAK_UI_ASSETS_CC ${CMAKE_BINARY_DIR}/generated/ui_assets.cc)
file(GLOB_RECURSE ULAK_UI_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/src/*)

add_custom_command(
  OUTPUT ${ULAK_UI_NODE}/node_modules/.ulak-installed
  COMMAND ${CMAKE_COMMAND} -E make_directory ${ULAK_UI_NODE}
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/ui/package.json ${CMAKE_SOURCE_DIR}/ui/package-lock.json ${ULAK_UI_NODE}/
  COMMAND ${ULAK_NPM} ci --prefix ${ULAK_UI_NODE} --no-audit --no-fund --loglevel=error
  COMMAND ${CMAKE_COMMAND} -E touch ${ULAK_UI_NODE}/node_modules/.ulak-installed
  DEPENDS ${CMAKE_SOURCE_DIR}/ui/package.json ${CMAKE_SOURCE_DIR}/ui/package-lock.json
  COMMENT "npm ci (ui/package-lock.json)"
  VERBATIM)

add_custom_command(
  OUTPUT ${ULAK_UI_DIST}/index.html ${ULAK_UI_DIST}/app.js ${ULAK_UI_DIST}/app.css
  COMMAND ${ULAK_NODE} ${CMAKE_SOURCE_DIR}/ui/build.js ${ULAK_UI_NODE}/node_modules ${ULAK_UI_DIST}
  DEPENDS ${ULAK_UI_SOURCES} ${CMAKE_SOURCE_DIR}/ui/build.js ${ULAK_UI_NODE}/node_modules/.ulak-installed
  COMMENT "esbuild: bundling the web UI"
  VERBATIM)

add_custom_command(
  OUTPUT ${ULAK_UI_ASSETS_CC}
  COMMAND ${CMAKE_COMMAND} -DUI_DIR=${ULAK_UI_DIST} -DOUT=${ULAK_UI_ASSETS_CC} -P ${CMAKE_SOURCE_DIR}/cmake/EmbedUi.cmake
  DEPENDS ${ULAK_UI_DIST}/index.html ${ULAK_UI_DIST}/app.js ${ULAK_UI_DIST}/app.css ${CMAKE_SOURCE_DIR}/cmake/EmbedUi.cmake
  COMMENT "Embedding the web UI"
  VERBATIM)
