#include "support/postgres_cluster.h"

#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ulak::testing {
namespace {

constexpr char kTempPattern[] = "/tmp/ulak_pg_XXXXXX";  // short: a socket path has ~107 bytes
constexpr char kOwnerFile[] = "/owner.pid";

// The newest server install, preferring 15 (the version the project targets).
std::string FindBinDir() {
  if (const char* env = getenv("ULAK_PG_BINDIR"); env != nullptr && *env != '\0') return env;
  glob_t g{};
  std::vector<std::string> dirs;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      const std::string initdb = g.gl_pathv[i];
      const std::string dir = initdb.substr(0, initdb.size() - std::string("/initdb").size());
      if (access(initdb.c_str(), X_OK) == 0 && access((dir + "/pg_ctl").c_str(), X_OK) == 0) dirs.push_back(dir);
    }
  }
  globfree(&g);
  for (const auto& d : dirs) {
    if (d.find("/postgresql/15/") != std::string::npos) return d;
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return std::atoi(a.c_str() + std::string("/usr/lib/postgresql/").size()) <
           std::atoi(b.c_str() + std::string("/usr/lib/postgresql/").size());
  });
  return dirs.empty() ? std::string() : dirs.back();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs program with args in dir, as uid/gid when given, output into out_path. Returns the
// exit code (128+N when killed by signal N, 127 when it could not start).
int Spawn(const std::string& program, const std::vector<std::string>& args, const std::string& dir,
          const std::string& out_path, int uid, int gid) {
  std::vector<std::string> argv_storage = {program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return 127;
  if (uid >= 0 && fchown(out, static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
    close(out);
    return 127;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(out);
    return 127;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    const int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) _exit(127);
    if (chdir(dir.c_str()) != 0) _exit(127);
    if (uid >= 0) {
      const gid_t group = static_cast<gid_t>(gid);
      if (setgroups(1, &group) != 0 || setgid(group) != 0 || setuid(static_cast<uid_t>(uid)) != 0) _exit(127);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

// Clusters left behind by test processes that died before their destructor ran (a crash,
// a ctest timeout): stopped and removed, so they do not pile up. A cluster whose owner
// still runs is left alone.
void ReapAbandonedClusters(const std::string& bin_dir, int uid, int gid) {
  glob_t g{};
  if (glob("/tmp/ulak_pg_*", GLOB_ONLYDIR, nullptr, &g) != 0) {
    globfree(&g);
    return;
  }
  for (size_t i = 0; i < g.gl_pathc; ++i) {
    const std::string dir = g.gl_pathv[i];
    const std::string owner = ReadFile(dir + kOwnerFile);
    if (owner.empty()) continue;  // being set up, or not ours
    const pid_t pid = static_cast<pid_t>(std::atol(owner.c_str()));
    if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) continue;
    if (std::filesystem::exists(dir + "/data/postmaster.pid")) {
      Spawn(bin_dir + "/pg_ctl", {"-D", dir + "/data", "-m", "immediate", "-w", "stop"}, dir, dir + "/reap.out", uid,
            gid);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  globfree(&g);
}

// Gives every file under path to uid/gid (as root, for the server user).
bool ChownTree(const std::string& path, int uid, int gid) {
  if (lchown(path.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) return false;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (lchown(it->path().c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) return false;
  }
  return !ec;
}

// The directory of the running test binary: the build tree, where a cache may live.
std::string ExecutableDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

// An exclusive flock held for its lifetime; a no-op when the file cannot be opened.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

Result<PostgresCluster*> PostgresCluster::Shared() {
  // Started once, stopped by the static's destructor when the test binary exits.
  static Result<std::unique_ptr<PostgresCluster>> cluster = Create();
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::NewEmpty() {
  std::unique_ptr<PostgresCluster> c(new PostgresCluster());
  c->bin_dir_ = FindBinDir();
  if (c->bin_dir_.empty()) {
    return Unavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin: "
        "run scripts/install-deps.sh (Debian package postgresql-15), or set ULAK_PG_BINDIR");
  }
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return Unavailable(
          "running as root, but there is no `postgres` system user to run the test server as "
          "(initdb refuses root); install the postgresql-15 package");
    }
    c->run_as_uid_ = static_cast<int>(pw->pw_uid);
    c->run_as_gid_ = static_cast<int>(pw->pw_gid);
  }
  ReapAbandonedClusters(c->bin_dir_, c->run_as_uid_, c->run_as_gid_);

  std::string tmpl = kTempPattern;
  if (mkdtemp(tmpl.data()) == nullptr) return Unavailable("mkdtemp failed for the test cluster");
  c->dir_ = tmpl;
  if (c->run_as_uid_ >= 0 &&
      chown(c->dir_.c_str(), static_cast<uid_t>(c->run_as_uid_), static_cast<gid_t>(c->run_as_gid_)) != 0) {
    return Unavailable("cannot give " + c->dir_ + " to the postgres user");
  }
  {
    std::ofstream owner(c->dir_ + kOwnerFile);
    owner << getpid() << "\n";
  }
  return c;
}

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::Create() {
  ULAK_ASSIGN_OR_RETURN(std::unique_ptr<PostgresCluster> c, NewEmpty());
  ULAK_RETURN_IF_ERROR(c->InitDataDir());
  ULAK_RETURN_IF_ERROR(c->StartForTest());
  return c;
}

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::StartPrivate() { return Create(); }

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::StartStandby() {
  if (!running_) return Unavailable("the primary is not running");
  ULAK_ASSIGN_OR_RETURN(std::unique_ptr<PostgresCluster> standby, NewEmpty());
  // -R writes standby.signal and primary_conninfo (our socket directory); -X stream copies
  // the WAL written during the copy; -c fast checkpoints at once instead of spreading it.
  // initdb's pg_hba.conf trusts local replication connections, and wal_level=replica,
  // max_wal_senders=10 and hot_standby=on are PostgreSQL's defaults.
  ULAK_RETURN_IF_ERROR(standby->RunServerCommand(
      "pg_basebackup", {"-D", standby->dir_ + "/data", "-R", "-X", "stream", "-c", "fast", "-h", dir_, "-p", "5432",
                        "-U", "postgres"}));
  ULAK_RETURN_IF_ERROR(standby->StartForTest());
  return standby;
}

Status PostgresCluster::RequireSynchronousStandby() {
  ULAK_RETURN_IF_ERROR(QueryForTest("ALTER SYSTEM SET synchronous_standby_names = '*'").status());
  ULAK_RETURN_IF_ERROR(QueryForTest("SELECT pg_reload_conf()").status());
  // The standby reconnects on its own schedule; a loaded machine may take seconds.
  for (int i = 0; i < 600; ++i) {
    ULAK_ASSIGN_OR_RETURN(std::string n,
                          QueryForTest("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"));
    if (n != "0") return Status::Ok();
    usleep(100 * 1000);
  }
  return Unavailable("no standby became synchronous within 60 s:\n" + ReadFile(dir_ + "/server.log"));
}

Status PostgresCluster::Promote() {
  // -w: returns once the server left recovery and accepts writes.
  return RunServerCommand("pg_ctl", {"-D", dir_ + "/data", "-w", "-t", "60", "promote"});
}

Result<std::string> PostgresCluster::QueryForTest(const std::string& sql, const std::string& dbname) {
  PGconn* conn = PQconnectdb(AdminConninfo(dbname).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = Unavailable(std::string("cannot connect to the test cluster: ") + PQerrorMessage(conn));
    PQfinish(conn);
    return s;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(res);
  Result<std::string> out = std::string();
  if (status == PGRES_TUPLES_OK) {
    if (PQntuples(res) > 0 && PQnfields(res) > 0) out = std::string(PQgetvalue(res, 0, 0));
  } else if (status != PGRES_COMMAND_OK) {
    out = Unavailable(sql + " failed: " + PQresultErrorMessage(res));
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

Status PostgresCluster::InitDataDir() {
  const std::string data = dir_ + "/data";
  // ctest runs every test in its own process, each with its own cluster; initdb is most of
  // a cluster's start, so its output is kept once in the build tree beside the test binary
  // and copied (a fresh, never started data directory) by later processes.
  const std::string cache_dir = ExecutableDir();
  const std::string cache = cache_dir + "/postgres_test_template";
  std::unique_ptr<FileLock> lock;
  if (!cache_dir.empty()) {
    lock = std::make_unique<FileLock>(cache + ".lock");
    if (ReadFile(cache + "/ready") == bin_dir_) {
      std::error_code ec;
      std::filesystem::copy(cache + "/data", data, std::filesystem::copy_options::recursive, ec);
      if (!ec && (run_as_uid_ < 0 || ChownTree(data, run_as_uid_, run_as_gid_))) return Status::Ok();
      std::filesystem::remove_all(data, ec);  // fall back to initdb
    }
  }
  // --no-sync and fsync=off: a test cluster's data need not survive a power cut.
  ULAK_RETURN_IF_ERROR(RunServerCommand(
      "initdb", {"-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "--no-locale", "-E", "UTF8"}));
  if (lock != nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
    std::filesystem::create_directories(cache, ec);
    if (!ec) std::filesystem::copy(data, cache + "/data", std::filesystem::copy_options::recursive, ec);
    if (!ec) {
      std::ofstream ready(cache + "/ready");  // written last: the cache is complete
      ready << bin_dir_;
    }
  }
  return Status::Ok();
}

PostgresCluster::~PostgresCluster() {
  if (running_) (void)StopForTest();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

Status PostgresCluster::RunServerCommand(const std::string& program, const std::vector<std::string>& args) {
  const std::string out_path = dir_ + "/" + program + ".out";
  const int rc = Spawn(bin_dir_ + "/" + program, args, dir_, out_path, run_as_uid_, run_as_gid_);
  if (rc == 0) return Status::Ok();
  std::string message = program + " exited with " + std::to_string(rc) + ":\n" + ReadFile(out_path);
  const std::string log = ReadFile(dir_ + "/server.log");
  if (!log.empty()) message += "\nserver.log:\n" + log;
  return Unavailable(std::move(message));
}

Status PostgresCluster::StartForTest() {
  // No TCP at all: the socket lives in our directory, named after the (default) port.
  const std::string options =
      "-c listen_addresses='' -k " + dir_ + " -p 5432 -F -c full_page_writes=off";
  ULAK_RETURN_IF_ERROR(RunServerCommand(
      "pg_ctl", {"-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "60", "-o", options, "start"}));
  running_ = true;
  return Status::Ok();
}

Status PostgresCluster::StopForTest() {
  ULAK_RETURN_IF_ERROR(RunServerCommand("pg_ctl", {"-D", dir_ + "/data", "-m", "immediate", "-w", "stop"}));
  running_ = false;
  return Status::Ok();
}

std::string PostgresCluster::AdminConninfo(const std::string& dbname) const {
  return "host=" + dir_ + " port=5432 user=postgres dbname=" + dbname;
}

Result<std::string> PostgresCluster::CreateDatabase() {
  int n = 0;
  {
    std::lock_guard lock(mu_);
    n = ++databases_;
  }
  const std::string name = "t_" + std::to_string(n);
  PGconn* conn = PQconnectdb(AdminConninfo().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = Unavailable(std::string("cannot connect to the test cluster: ") + PQerrorMessage(conn));
    PQfinish(conn);
    return s;
  }
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string error = ok ? "" : PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (!ok) return Unavailable("CREATE DATABASE " + name + " failed: " + error);
  return "host=" + dir_ + " port=5432 user=postgres dbname=" + name;
}

}  // namespace ulak::testing
