# Compiles a text file of the repository (docs/openapi.json) into a C++ function returning it,
# so the binary serves exactly the file in the repository. Re-runs at configure time whenever
# the file changes.
function(ulak_embed_text source function_name out_file)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
  file(READ ${source} text)
  file(RELATIVE_PATH relative ${CMAKE_SOURCE_DIR} ${source})
  file(CONFIGURE OUTPUT ${out_file} CONTENT "// Generated from ${relative} by cmake/EmbedText.cmake. Do not edit.
#include <string_view>

namespace ulak {

std::string_view ${function_name}() {
  static constexpr std::string_view kText = R\"ulak_text(${text})ulak_text\";
  return kText;
}

}  // namespace ulak
" @ONLY)
endfunction()
