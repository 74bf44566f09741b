#include "store/sqlite/file_identity.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ulak::store::sqlite {

Result<std::optional<FileIdentity>> IdentityOf(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return std::optional<FileIdentity>();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Unavailable("cannot stat the database file " + path + ": " + std::strerror(errno));
  }
  return std::optional<FileIdentity>(FileIdentity{st.st_dev, st.st_ino});
}

Status CheckSameFile(const std::string& path, const std::optional<FileIdentity>& expected) {
  if (!expected) return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Unavailable("the database file " + path + " was removed under the running server (" +
                       std::strerror(errno) + "); restart ulak once the file is back");
  }
  if (FileIdentity{st.st_dev, st.st_ino} != *expected) {
    return Unavailable("the database file " + path +
                       " was replaced under the running server; restart ulak to use the new file");
  }
  return Status::Ok();
}

}  // namespace ulak::store::sqlite
