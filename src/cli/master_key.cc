#include "cli/master_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "common/log.h"
#include "common/random.h"
#include "crypto/encoding.h"
#include "store/encrypting_store.h"
#include "store/store.h"

namespace ulak::cli {
namespace {

constexpr std::string_view kRequiredInProduction =
    "ULAK_MASTER_KEY is required in production mode: 32 bytes as 64 hex characters or base64 "
    "(generate one with `openssl rand -hex 32`)";

// A string that wipes itself: keys pass through a few temporaries on their way to the box.
struct WipedString {
  std::string value;
  ~WipedString() { OPENSSL_cleanse(value.data(), value.size()); }
};

std::optional<std::string> NonEmpty(const GetEnv& getenv, const char* name) {
  std::optional<std::string> v = getenv(name);
  if (v && v->find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;  // set but empty: unset
  return v;
}

Result<std::string> ParseNamed(std::string_view text, const std::string& where) {
  Result<std::string> key = crypto::ParseMasterKey(text);
  if (!key.ok()) return InvalidArgument(where + ": " + key.status().message());
  return key;
}

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Unavailable(what + " " + path + ": " + std::strerror(errno));
}

// Writes a new random key to path with mode 0600, atomically: the key is written and synced
// under a temporary name, then linked into place, so a concurrent start never reads half a
// key, and an existing file is never overwritten (link fails with EEXIST).
// Returns false (and no error) when the file appeared meanwhile.
Result<bool> CreateKeyFile(const std::string& path) {
  WipedString hex{crypto::HexEncode(SystemRandom::Instance().Bytes(crypto::kMasterKeyBytes)) + "\n"};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  const bool written = ::write(fd, hex.value.data(), hex.value.size()) == static_cast<ssize_t>(hex.value.size()) &&
                       ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    errno = saved_errno;
    return ErrnoStatus("cannot write", tmp);
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return false;
    errno = link_errno;
    return ErrnoStatus("cannot create", path);
  }
  return true;
}

// The development key: read from <data_dir>/master.key, created first when missing.
Result<std::string> DevelopmentKey(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Unavailable("cannot create the data directory " + data_dir + ": " + ec.message());
  const std::string path = (std::filesystem::path(data_dir) / kMasterKeyFileName).string();

  bool created = false;
  if (!std::filesystem::exists(path, ec)) {
    ULAK_ASSIGN_OR_RETURN(created, CreateKeyFile(path));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot read", path);
  if ((st.st_mode & 077) != 0) {
    Log(LogLevel::kWarn, "the master key file is readable by other users; chmod 600 it",
        {{"key_file", path}, {"mode", static_cast<int>(st.st_mode & 0777)}});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("cannot read", path);
  std::stringstream ss;
  ss << in.rdbuf();
  WipedString text{ss.str()};
  ULAK_ASSIGN_OR_RETURN(std::string key, ParseNamed(text.value, "the master key file " + path));
  Log(LogLevel::kWarn,
      created ? "no ULAK_MASTER_KEY: generated a development master key file; set ULAK_MASTER_KEY in production"
              : "no ULAK_MASTER_KEY: using the development master key file; set ULAK_MASTER_KEY in production",
      {{"key_file", path}, {"key_id", crypto::MasterKeyId(key)}});
  return key;
}

}  // namespace

std::string DataDirectoryFor(std::string_view database_url) {
  auto starts_with = [&](std::string_view p) { return database_url.substr(0, p.size()) == p; };
  std::string_view path = database_url;
  if (starts_with("sqlite://")) {
    path.remove_prefix(9);
  } else if (starts_with("sqlite:")) {
    path.remove_prefix(7);
  } else if (database_url.find("://") != std::string_view::npos ||
             database_url.find('=') != std::string_view::npos) {
    return "";  // not a file: a database other nodes may share (PostgreSQL)
  }
  if (path.empty() || path == ":memory:") return "./data";
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Result<std::shared_ptr<const crypto::SecretBox>> LoadSecretBox(const Config& config, const std::string& data_dir,
                                                               const GetEnv& getenv) {
  std::string current;
  if (std::optional<std::string> env = NonEmpty(getenv, "ULAK_MASTER_KEY")) {
    WipedString text{std::move(*env)};
    ULAK_ASSIGN_OR_RETURN(current, ParseNamed(text.value, "ULAK_MASTER_KEY"));
  } else if (config.mode == Mode::kProduction) {
    return InvalidArgument(std::string(kRequiredInProduction));
  } else if (data_dir.empty()) {
    // A key file beside one node would leave the other nodes unable to read the secrets.
    return InvalidArgument(
        "ULAK_MASTER_KEY is required with a PostgreSQL database: every node sharing it needs the same key "
        "(generate one with `openssl rand -hex 32`)");
  } else {
    ULAK_ASSIGN_OR_RETURN(current, DevelopmentKey(data_dir));
  }

  std::vector<std::string> previous;
  if (std::optional<std::string> env = NonEmpty(getenv, "ULAK_MASTER_KEY_PREVIOUS")) {
    WipedString list{std::move(*env)};
    size_t start = 0;
    int index = 0;
    while (start <= list.value.size()) {
      size_t comma = list.value.find(',', start);
      if (comma == std::string::npos) comma = list.value.size();
      const std::string_view item = std::string_view(list.value).substr(start, comma - start);
      ++index;
      if (item.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        ULAK_ASSIGN_OR_RETURN(std::string key,
                              ParseNamed(item, "ULAK_MASTER_KEY_PREVIOUS (key " + std::to_string(index) + ")"));
        previous.push_back(std::move(key));
      }
      start = comma + 1;
    }
  }
  Result<crypto::SecretBox> box = crypto::SecretBox::Create(std::move(current), std::move(previous));
  if (!box.ok()) return box.status();
  return std::make_shared<const crypto::SecretBox>(std::move(box).value());
}

Status CheckMasterKeySettings(const Config& config, const std::string& data_dir, const GetEnv& getenv) {
  if (NonEmpty(getenv, "ULAK_MASTER_KEY")) return LoadSecretBox(config, data_dir, getenv).status();  // no file
  if (config.mode == Mode::kProduction) return InvalidArgument(std::string(kRequiredInProduction));
  if (data_dir.empty()) {
    return InvalidArgument("ULAK_MASTER_KEY is required with a PostgreSQL database: every node sharing it needs the same key");
  }
  // Development with the key file: the previous keys are still checked, against a stand-in
  // current key, so that LoadSecretBox touches no file.
  const GetEnv stand_in = [&getenv](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "ULAK_MASTER_KEY") return std::string(2 * crypto::kMasterKeyBytes, '0');
    return getenv(name);
  };
  return LoadSecretBox(config, data_dir, stand_in).status();
}

int RunRotateMasterKey(const Config& config) {
  auto fail = [](std::string_view what, const Status& status) {
    std::fprintf(stderr, "ulak: %.*s: %s\n", static_cast<int>(what.size()), what.data(), status.message().c_str());
    return 1;
  };
  Result<std::shared_ptr<const crypto::SecretBox>> box = LoadSecretBox(config, DataDirectoryFor(config.database));
  if (!box.ok()) return fail("cannot load the master key", box.status());
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(config.database);
  if (!opened.ok()) return fail("cannot open the database", opened.status());
  if (Status s = (*opened)->Migrate(); !s.ok()) return fail("migration failed", s);
  store::EncryptingStore store(std::move(opened).value(), *box);
  // Every value must open before any is rewritten: a missing previous key then changes nothing.
  if (Status s = store.CheckAllSecretsOpen(); !s.ok()) return fail("cannot rotate", s);
  Result<store::ReencryptReport> report = store.ReencryptAll();
  if (!report.ok()) return fail("re-encryption failed (run it again once fixed; done values stay)", report.status());
  std::printf("re-sealed %lld secret value(s) (%lld webhook(s), %lld source(s)) under master key %s\n",
              static_cast<long long>(report->values), static_cast<long long>(report->webhooks),
              static_cast<long long>(report->sources), (*box)->current_key_id().c_str());
  if ((*box)->key_ids().size() > 1) {
    std::printf("every secret is now under the current key: ULAK_MASTER_KEY_PREVIOUS can be removed\n");
  }
  return 0;
}

}  // namespace ulak::cli
