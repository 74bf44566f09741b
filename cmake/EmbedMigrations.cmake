# Compiles migrations/<dialect>/NNNN_name.sql into a C++ table, so the binary carries its own
# schema. Re-runs at configure time whenever a migration file is added or changed.
function(ulak_embed_migrations dialect function_name out_file)
  file(GLOB files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/migrations/${dialect}/*.sql)
  list(SORT files)
  set(entries "")
  foreach(f ${files})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    get_filename_component(name ${f} NAME_WE)
    string(REGEX MATCH "^([0-9]+)_" _ ${name})
    if(NOT CMAKE_MATCH_1)
      message(FATAL_ERROR "migration ${f} must be named NNNN_description.sql")
    endif()
    math(EXPR version "${CMAKE_MATCH_1} + 0")
    file(READ ${f} sql)
    string(APPEND entries "  {${version}, \"${name}\", R\"ulak_sql(${sql})ulak_sql\"},\n")
  endforeach()
  file(CONFIGURE OUTPUT ${out_file} CONTENT "// Generated from migrations/${dialect}/ by cmake/EmbedMigrations.cmake. Do not edit.
#include \"store/migration.h\"

namespace ulak::store {

const std::vector<Migration>& ${function_name}() {
  static const std::vector<Migration> kMigrations = {
${entries}  };
  return kMigrations;
}

}  // namespace ulak::store
" @ONLY)
endfunction()
