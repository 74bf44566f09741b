// A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, a server
// listening only on a Unix socket in that directory (no TCP port, so parallel test
// processes never collide, and never the system cluster), fsync off. Stopped and removed
// when the process ends.
//
// One cluster per test process (Shared()), started on first use in about a second; each
// test takes a fresh database from it (CreateDatabase()), so tests stay isolated.
//
// initdb and postgres refuse to run as root: as root, the server commands run as the
// `postgres` system user (created by the postgresql package) and the directory is theirs.
// Missing binaries are an error, never a skip: scripts/install-deps.sh installs them.
//
// For failover tests a cluster of its own (StartPrivate()) can get a streaming-replication
// standby (StartStandby(): pg_basebackup -R into another temporary directory, a hot
// standby on its own socket directory, same port number), made synchronous so a commit
// acknowledged by the primary is on the standby too, and promoted (Promote()).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace ulak::testing {

class PostgresCluster {
 public:
  // The process-wide cluster, started on the first call. An error says why it could not
  // start (binaries missing, initdb or pg_ctl failed, with their output).
  static Result<PostgresCluster*> Shared();

  // A cluster of its own, not shared: stopped and removed with the object. For tests that
  // take the server away for good (a failover).
  static Result<std::unique_ptr<PostgresCluster>> StartPrivate();

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Creates an empty database (t_1, t_2, ...) and returns a libpq key=value connection
  // string for it.
  Result<std::string> CreateDatabase();
  // The directory holding the server's socket (the "host" of a connection string).
  const std::string& socket_dir() const { return dir_; }

  // Stops the server at once, as a crash would (pg_ctl stop -m immediate), and starts it
  // again on the same data: for tests of a database that goes away and comes back.
  Status StopForTest();
  Status StartForTest();

  // A streaming-replication standby of this running cluster: pg_basebackup -R of its data
  // into a new temporary directory, started as a hot standby (read-only, following this
  // server). Its socket_dir() differs from ours; the port is the same.
  Result<std::unique_ptr<PostgresCluster>> StartStandby();
  // On a primary: makes every commit wait until a standby has its WAL
  // (synchronous_standby_names = '*', set with ALTER SYSTEM after the standby was copied,
  // so a promoted standby does not inherit it), then waits until one streams synchronously.
  // Without it a commit acknowledged just before the primary dies may be missing after a
  // failover, as with any asynchronous replica.
  Status RequireSynchronousStandby();
  // On a standby: promotes it to a primary (pg_ctl promote), returning once it accepts writes.
  Status Promote();
  // Runs sql as the superuser on database dbname; the first column of the first row ("" when
  // no row).
  Result<std::string> QueryForTest(const std::string& sql, const std::string& dbname = "postgres");

 private:
  PostgresCluster() = default;
  static Result<std::unique_ptr<PostgresCluster>> Create();
  // A cluster object with its temporary directory made (and given to the server user), no
  // data directory yet.
  static Result<std::unique_ptr<PostgresCluster>> NewEmpty();
  // Runs one of the server's programs (as `postgres` when we are root) in dir_, returning
  // its exit code and output through status.
  Status RunServerCommand(const std::string& program, const std::vector<std::string>& args);
  std::string AdminConninfo(const std::string& dbname = "postgres") const;
  // Creates dir_/data: a copy of the build tree's cached initdb output, or initdb (then cached).
  Status InitDataDir();

  std::string bin_dir_;  // .../postgresql/NN/bin
  std::string dir_;      // the temporary directory: data/, server.log, the socket
  int run_as_uid_ = -1;  // -1: as ourselves
  int run_as_gid_ = -1;
  bool running_ = false;
  std::mutex mu_;
  int databases_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace ulak::testing
