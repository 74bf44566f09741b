// FileIdentity: which file a path names (device and inode), so the SQLite store can tell
// that the database file it has open is no longer the file at its configured path (removed,
// or replaced by a restore or a careless `mv`). Writes would then land in an unlinked inode
// and vanish at the next restart: the store refuses them instead (issue 15, defect 4).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/status.h"

namespace ulak::store::sqlite {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

// The identity of the file at path; nullopt for an in-memory database (":memory:", "" or a
// "file:" URI), which has no file to lose. kUnavailable when stat() fails.
Result<std::optional<FileIdentity>> IdentityOf(const std::string& path);

// OK when path still names `expected`; kUnavailable naming the path otherwise.
Status CheckSameFile(const std::string& path, const std::optional<FileIdentity>& expected);

}  // namespace ulak::store::sqlite
