#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>

#include "common/log.h"

namespace ulak {
namespace {

template <typename T>
Status ParseNumber(std::string_view text, std::string_view what, T& out) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return InvalidArgument(std::string(what) + " must be a non-negative integer, got '" + std::string(text) + "'");
  }
  out = value;
  return Status::Ok();
}

// One table of every setting drives the file, the environment and the flags, so they cannot
// drift apart, and it is what docs/CONFIGURATION.md is checked against. `apply` is null for
// the rows their owners read from the environment themselves.
struct Setting {
  SettingInfo info;
  std::function<Status(Config&, const std::string&)> apply;
};

template <typename T>
std::function<Status(Config&, const std::string&)> Number(const char* key, T Config::*field) {
  return [key, field](Config& c, const std::string& v) { return ParseNumber(v, key, c.*field); };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {{"listen", "ULAK_LISTEN", "--listen", "127.0.0.1:8080", "HOST:PORT the HTTP API listens on ([::1]:8080 for IPv6)."},
       [](Config& c, const std::string& v) { c.listen = v; return Status::Ok(); }},
      {{"database", "ULAK_DATABASE", "--database", "sqlite:./data/ulak.db",
        "sqlite:PATH (embedded) or postgres://user:pass@host/db (several nodes share it)."},
       [](Config& c, const std::string& v) { c.database = v; return Status::Ok(); }},
      {{"mode", "ULAK_MODE", "--mode", "development",
        "development or production: production requires ULAK_MASTER_KEY and https webhook URLs."},
       [](Config& c, const std::string& v) {
         ULAK_ASSIGN_OR_RETURN(c.mode, ParseMode(v));
         return Status::Ok();
       }},
      {{"threads", "ULAK_THREADS", "--threads", "0", "HTTP I/O threads; 0 means one per core."},
       Number("threads", &Config::threads)},
      {{"log_level", "ULAK_LOG_LEVEL", "--log-level", "info", "debug, info, warn or error (JSON lines on stderr)."},
       [](Config& c, const std::string& v) { c.log_level = v; return Status::Ok(); }},
      {{"max_body_bytes", "ULAK_MAX_BODY_BYTES", nullptr, "1048576", "Largest request body accepted (413 beyond)."},
       Number("max_body_bytes", &Config::max_body_bytes)},
      {{"allowed_networks", "ULAK_ALLOWED_NETWORKS", nullptr, "",
        "Comma-separated CIDRs deliveries may reach although private or loopback; unset: 127.0.0.0/8,::1/128 in "
        "development, none in production."},
       [](Config& c, const std::string& v) { c.allowed_networks = v; return Status::Ok(); }},
      {{"auto_disable_failures", "ULAK_AUTO_DISABLE_FAILURES", nullptr, "50",
        "Consecutive failed deliveries that disable a webhook (with auto_disable_after_s); 0 never disables."},
       Number("auto_disable_failures", &Config::auto_disable_failures)},
      {{"auto_disable_after_s", "ULAK_AUTO_DISABLE_AFTER_S", nullptr, "259200",
        "How long the failure streak must last before a webhook is disabled (3 days)."},
       Number("auto_disable_after_s", &Config::auto_disable_after_s)},
      {{"breaker_failures", "ULAK_BREAKER_FAILURES", nullptr, "10",
        "Consecutive tries without any response that pause a webhook's deliveries (circuit breaker); 0 never."},
       Number("breaker_failures", &Config::breaker_failures)},
      {{"max_pending_deliveries", "ULAK_MAX_PENDING_DELIVERIES", nullptr, "200000",
        "Deliveries waiting beyond which POST /api/events answers 429."},
       Number("max_pending_deliveries", &Config::max_pending_deliveries)},
      {{"max_held_deliveries", "ULAK_MAX_HELD_DELIVERIES", nullptr, "100000",
        "Pending deliveries held in memory in all; beyond it they wait in the store and are paged in by due time."},
       Number("max_held_deliveries", &Config::max_held_deliveries)},
      {{"max_held_per_webhook", "ULAK_MAX_HELD_PER_WEBHOOK", nullptr, "10000",
        "Pending deliveries of one webhook held in memory; the rest wait in the store and are paged in by due time."},
       Number("max_held_per_webhook", &Config::max_held_per_webhook)},
      {{"lease_s", "ULAK_LEASE_S", nullptr, "30",
        "PostgreSQL, several nodes: how long a node's claim on a delivery lasts without renewal."},
       Number("lease_s", &Config::lease_s)},
      {{"writer_linger_us", "ULAK_WRITER_LINGER_US", nullptr, "5000",
        "Microseconds attempt outcomes wait for a publish to share its commit (one transaction, one fsync, "
        "instead of two); publishes never wait for it. 0 commits them at once."},
       Number("writer_linger_us", &Config::writer_linger_us)},
      {{"writer_publish_window_us", "ULAK_WRITER_PUBLISH_WINDOW_US", nullptr, "auto",
        "Group commit window: after a round of 16 or more publishes, microseconds the next round waits to hold as "
        "many (and twice what it began with): fewer, fuller commits, which every publish's latency pays. 0 never "
        "waits; auto: 2000 on PostgreSQL, 0 on SQLite."},
       [](Config& c, const std::string& v) {
         if (v == "auto") {
           c.writer_publish_window_us.reset();
           return Status::Ok();
         }
         int64_t us = 0;
         ULAK_RETURN_IF_ERROR(ParseNumber(v, "writer_publish_window_us", us));
         c.writer_publish_window_us = us;
         return Status::Ok();
       }},
      {{"retention_days", "ULAK_RETENTION_DAYS", nullptr, "30",
        "Days events, finished deliveries, their attempt logs and incoming request logs are kept (per organization: "
        "PATCH /api/organizations/{id} {\"retention_days\"}); 0 keeps forever."},
       Number("retention_days", &Config::retention_days)},
      {{"retention_interval_s", "ULAK_RETENTION_INTERVAL_S", nullptr, "600",
        "Seconds between two passes of the background cleanup."},
       Number("retention_interval_s", &Config::retention_interval_s)},
      {{"retention_batch", "ULAK_RETENTION_BATCH", nullptr, "100",
        "Finished deliveries (with their attempts) deleted per short cleanup transaction."},
       Number("retention_batch", &Config::retention_batch)},
      {{"max_connections", "ULAK_MAX_CONNECTIONS", nullptr, "0",
        "Most client connections held at once; beyond it new ones are closed at once and counted "
        "(ulak_connections_refused_total). 0: derived from the descriptor limit (ulimit -n), leaving room for "
        "the store and deliveries."},
       Number("max_connections", &Config::max_connections)},
      {{"max_header_bytes", nullptr, nullptr, "16384", "Largest request header block accepted (431 beyond)."},
       Number("max_header_bytes", &Config::max_header_bytes)},
      {{"max_header_count", nullptr, nullptr, "100", "Most request header fields accepted (431 beyond)."},
       Number("max_header_count", &Config::max_header_count)},
      {{"header_timeout_ms", nullptr, nullptr, "10000", "Time allowed to receive a request's headers (408 after)."},
       Number("header_timeout_ms", &Config::header_timeout_ms)},
      {{"body_timeout_ms", nullptr, nullptr, "30000", "Time allowed to receive a request's body (408 after)."},
       Number("body_timeout_ms", &Config::body_timeout_ms)},
      {{"idle_timeout_ms", nullptr, nullptr, "60000", "Keep-alive connections idle longer are closed."},
       Number("idle_timeout_ms", &Config::idle_timeout_ms)},
      {{"shutdown_grace_ms", nullptr, nullptr, "10000",
        "On SIGTERM/SIGINT, how long requests in flight may take to finish."},
       Number("shutdown_grace_ms", &Config::shutdown_grace_ms)},
      // Read from the environment only, by their owners: secrets never go in the file.
      {{nullptr, "ULAK_MASTER_KEY", nullptr, "",
        "Master key sealing secrets at rest: 32 bytes as 64 hex characters or base64. Required in production and "
        "with PostgreSQL; unset in development: a master.key file is generated beside the SQLite database."},
       nullptr},
      {{nullptr, "ULAK_MASTER_KEY_PREVIOUS", nullptr, "",
        "Older master keys, comma-separated, still accepted for reading (rotation, see rotate-master-key)."},
       nullptr},
      {{nullptr, "ULAK_ADMIN_KEY", nullptr, "",
        "The admin API key (at least 32 characters); unset: one is generated on the first start and printed once."},
       nullptr},
      {{nullptr, "CRON_SECRET", nullptr, "",
        "Bearer token of POST /api/webhooks/retry (seed 001's cron job); unset: only the admin key may call it."},
       nullptr},
      {{nullptr, "ULAK_CRON_SECRET", nullptr, "", "The same as CRON_SECRET, read when CRON_SECRET is unset."},
       nullptr},
  };
  return kSettings;
}

const Setting* FindSetting(std::string_view key) {
  for (const Setting& s : Settings()) {
    if (s.info.key != nullptr && key == s.info.key) return &s;
  }
  return nullptr;
}

}  // namespace

const std::vector<SettingInfo>& SettingsReference() {
  static const std::vector<SettingInfo> kReference = [] {
    std::vector<SettingInfo> out;
    for (const Setting& s : Settings()) out.push_back(s.info);
    return out;
  }();
  return kReference;
}

Status ApplySetting(std::string_view key, const std::string& value, Config& config) {
  const Setting* setting = FindSetting(key);
  if (setting == nullptr) return InvalidArgument("unknown setting '" + std::string(key) + "'");
  return setting->apply(config, value);
}

std::string_view ModeName(Mode mode) {
  return mode == Mode::kProduction ? "production" : "development";
}

Result<Mode> ParseMode(std::string_view name) {
  if (name == "development") return Mode::kDevelopment;
  if (name == "production") return Mode::kProduction;
  return InvalidArgument("mode must be 'development' or 'production', got '" + std::string(name) + "'");
}

Status ApplyConfigFile(const std::string& path, Config& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFound("cannot read config file " + path);
  } catch (const YAML::Exception& e) {
    return Malformed("config file " + path + " is not valid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();  // an empty file sets nothing
  if (!root.IsMap()) return Malformed("config file " + path + " must be a mapping of keys to values");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>("");
    const Setting* setting = FindSetting(key);
    if (setting == nullptr) return InvalidArgument("config file " + path + ": unknown key '" + key + "'");
    if (!entry.second.IsScalar()) {
      return InvalidArgument("config file " + path + ": '" + key + "' must be a single value");
    }
    Status s = setting->apply(config, entry.second.Scalar());
    if (!s.ok()) return InvalidArgument("config file " + path + ": " + s.message());
  }
  return Status::Ok();
}

Status ApplyEnvironment(const GetEnv& getenv, Config& config) {
  for (const Setting& s : Settings()) {
    if (s.info.env == nullptr || !s.apply) continue;
    std::optional<std::string> value = getenv(s.info.env);
    if (!value) continue;
    Status st = s.apply(config, *value);
    if (!st.ok()) return InvalidArgument(std::string(s.info.env) + ": " + st.message());
  }
  return Status::Ok();
}

std::optional<std::string> ProcessEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("listen address must be HOST:PORT, got '" + std::string(listen) + "'");
  }
  std::string_view host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("listen port must be 0-65535, got '" + std::string(port_text) + "'");
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

Status ValidateConfig(const Config& config) {
  ULAK_RETURN_IF_ERROR(ParseHostPort(config.listen).status());
  LogLevel level;
  if (!ParseLogLevel(config.log_level, &level)) {
    return InvalidArgument("log level must be debug, info, warn or error, got '" + config.log_level + "'");
  }
  if (config.max_body_bytes == 0) return InvalidArgument("max_body_bytes must be positive");
  if (config.retention_interval_s == 0) return InvalidArgument("retention_interval_s must be positive");
  if (config.retention_batch == 0 || config.retention_batch > 100'000) {
    return InvalidArgument("retention_batch must be 1-100000");
  }
  // Bounded: a linger or window of seconds would hold outcomes or publishes that long.
  if (config.writer_linger_us > 1'000'000) return InvalidArgument("writer_linger_us must be 0-1000000");
  if (config.writer_publish_window_us.value_or(0) > 100'000) {
    return InvalidArgument("writer_publish_window_us must be auto or 0-100000");
  }
  return Status::Ok();
}

}  // namespace ulak
