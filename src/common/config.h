// Server configuration: defaults, then a YAML file, then ULAK_* environment variables, then
// command-line flags. Each layer overrides only what it sets.
//
// Every setting is one row of the table SettingsReference() returns (config.cc): the file,
// the environment and the `ulak serve` flags are all applied through it, and tests check
// docs/CONFIGURATION.md and deploy/ulak.yaml against it (config_reference_test.cc). To add a
// setting: a Config field, a row in config.cc, a line in both documents.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ulak {

enum class Mode { kDevelopment, kProduction };
std::string_view ModeName(Mode mode);
Result<Mode> ParseMode(std::string_view name);

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite:./data/ulak.db";
  Mode mode = Mode::kDevelopment;
  int threads = 0;  // HTTP I/O threads; 0 = one per core
  std::string log_level = "info";
  // Networks deliveries may reach although the SSRF guard blocks them (comma-separated
  // CIDRs). Unset: 127.0.0.0/8 and ::1 in development (local sinks), none in production.
  std::optional<std::string> allowed_networks;

  // Delivery operations: auto-disable after this many consecutive failed deliveries spanning
  // at least this long (0 failures: never), and the backlog bound beyond which publishes get 429.
  int64_t auto_disable_failures = 50;
  int64_t auto_disable_after_s = 3 * 86400;
  // Circuit breaker: after this many consecutive tries of a webhook got no response at all,
  // its deliveries wait and one probe is sent per cooldown (1 s doubling to 60 s). 0: never.
  int64_t breaker_failures = 10;
  uint64_t max_pending_deliveries = 200'000;
  // Pending deliveries held in memory, in all and per webhook; the rest wait in the store
  // and are paged in by due time as the queues drain (issue 17).
  uint64_t max_held_deliveries = 100'000;
  uint64_t max_held_per_webhook = 10'000;
  // Several nodes on one PostgreSQL database: how long a node's claim on a delivery lasts
  // without renewal, i.e. how soon the others take over the work of a node that died.
  int64_t lease_s = 30;
  // The store writer (store/writer.h): how long attempt outcomes alone wait for a publish to
  // share its commit, and the group commit window of publish rounds (0: none; unset:
  // "auto", 2000 on PostgreSQL, where a round costs round trips and a transaction, 0 on
  // SQLite, where a commit is one fsync and waiting costs more than it saves).
  int64_t writer_linger_us = 5000;
  std::optional<int64_t> writer_publish_window_us;

  // Retention: finished deliveries with their attempt logs, the events they no longer need
  // and incoming request logs older than this many days are deleted (0 keeps forever; an
  // organization may set its own). A background pass runs every retention_interval_s and
  // deletes retention_batch rows per transaction.
  int64_t retention_days = 30;
  int64_t retention_interval_s = 600;
  int64_t retention_batch = 100;

  // HTTP limits.
  uint64_t max_body_bytes = 1 << 20;
  uint64_t max_header_bytes = 16 * 1024;
  uint64_t max_header_count = 100;
  // HTTP connections open at once; beyond it a new one is closed at once and counted.
  // 0: derived from the descriptor limit (DefaultMaxConnections, common/fd_limit.h).
  uint64_t max_connections = 0;
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 60'000;
  int64_t shutdown_grace_ms = 10'000;

  bool operator==(const Config&) const = default;
};

// One setting as documented. Rows without a key are read from the environment by their
// owner (the master keys, the admin key, the cron secret), never from the file.
struct SettingInfo {
  const char* key;           // YAML key; nullptr: environment only
  const char* env;           // environment variable; nullptr: none
  const char* flag;          // `ulak serve` flag; nullptr: none
  const char* default_text;  // the default, as it would be written in the file; "" for unset
  const char* description;   // one sentence, for --help and docs/CONFIGURATION.md
};
const std::vector<SettingInfo>& SettingsReference();

// Applies one setting by its YAML key (the path a flag also takes). Unknown key: InvalidArgument.
Status ApplySetting(std::string_view key, const std::string& value, Config& config);

// Reads a YAML file (flat keys as in Config, e.g. `listen: 0.0.0.0:8080`,
// `max_body_bytes: 2097152`). Unknown keys are an error, so a typo does not go unnoticed.
Status ApplyConfigFile(const std::string& path, Config& config);

// Applies the environment variable of every setting that has a key (ULAK_LISTEN,
// ULAK_DATABASE, ...; see SettingsReference). `getenv` is injectable for tests.
using GetEnv = std::function<std::optional<std::string>(const char* name)>;
Status ApplyEnvironment(const GetEnv& getenv, Config& config);
std::optional<std::string> ProcessEnv(const char* name);

// Checks values that every layer could have set: listen address shape, mode, log level.
Status ValidateConfig(const Config& config);

// Splits "HOST:PORT" ("[::1]:8080" for IPv6).
Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view listen);

}  // namespace ulak
