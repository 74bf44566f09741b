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

// One table of settable keys drives both the file and the environment, so the two cannot
// drift apart.
struct Setting {
  const char* key;
  const char* env;  // nullptr: file only
  std::function<Status(Config&, const std::string&)> apply;
};

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"listen", "ULAK_LISTEN", [](Config& c, const std::string& v) { c.listen = v; return Status::Ok(); }},
      {"database", "ULAK_DATABASE", [](Config& c, const std::string& v) { c.database = v; return Status::Ok(); }},
      {"mode", "ULAK_MODE",
       [](Config& c, const std::string& v) {
         ULAK_ASSIGN_OR_RETURN(c.mode, ParseMode(v));
         return Status::Ok();
       }},
      {"threads", "ULAK_THREADS", [](Config& c, const std::string& v) { return ParseNumber(v, "threads", c.threads); }},
      {"log_level", "ULAK_LOG_LEVEL", [](Config& c, const std::string& v) { c.log_level = v; return Status::Ok(); }},
      {"max_body_bytes", "ULAK_MAX_BODY_BYTES",
       [](Config& c, const std::string& v) { return ParseNumber(v, "max_body_bytes", c.max_body_bytes); }},
      {"allowed_networks", "ULAK_ALLOWED_NETWORKS",
       [](Config& c, const std::string& v) { c.allowed_networks = v; return Status::Ok(); }},
      {"auto_disable_failures", "ULAK_AUTO_DISABLE_FAILURES",
       [](Config& c, const std::string& v) { return ParseNumber(v, "auto_disable_failures", c.auto_disable_failures); }},
      {"auto_disable_after_s", "ULAK_AUTO_DISABLE_AFTER_S",
       [](Config& c, const std::string& v) { return ParseNumber(v, "auto_disable_after_s", c.auto_disable_after_s); }},
      {"breaker_failures", "ULAK_BREAKER_FAILURES",
       [](Config& c, const std::string& v) { return ParseNumber(v, "breaker_failures", c.breaker_failures); }},
      {"max_pending_deliveries", "ULAK_MAX_PENDING_DELIVERIES",
       [](Config& c, const std::string& v) { return ParseNumber(v, "max_pending_deliveries", c.max_pending_deliveries); }},
      {"lease_s", "ULAK_LEASE_S",
       [](Config& c, const std::string& v) { return ParseNumber(v, "lease_s", c.lease_s); }},
      {"retention_days", "ULAK_RETENTION_DAYS",
       [](Config& c, const std::string& v) { return ParseNumber(v, "retention_days", c.retention_days); }},
      {"retention_interval_s", "ULAK_RETENTION_INTERVAL_S",
       [](Config& c, const std::string& v) { return ParseNumber(v, "retention_interval_s", c.retention_interval_s); }},
      {"retention_batch", "ULAK_RETENTION_BATCH",
       [](Config& c, const std::string& v) { return ParseNumber(v, "retention_batch", c.retention_batch); }},
      {"max_header_bytes", nullptr,
       [](Config& c, const std::string& v) { return ParseNumber(v, "max_header_bytes", c.max_header_bytes); }},
      {"max_header_count", nullptr,
       [](Config& c, const std::string& v) { return ParseNumber(v, "max_header_count", c.max_header_count); }},
      {"header_timeout_ms", nullptr,
       [](Config& c, const std::string& v) { return ParseNumber(v, "header_timeout_ms", c.header_timeout_ms); }},
      {"body_timeout_ms", nullptr,
       [](Config& c, const std::string& v) { return ParseNumber(v, "body_timeout_ms", c.body_timeout_ms); }},
      {"idle_timeout_ms", nullptr,
       [](Config& c, const std::string& v) { return ParseNumber(v, "idle_timeout_ms", c.idle_timeout_ms); }},
      {"shutdown_grace_ms", nullptr,
       [](Config& c, const std::string& v) { return ParseNumber(v, "shutdown_grace_ms", c.shutdown_grace_ms); }},
  };
  return kSettings;
}

}  // namespace

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
    const Setting* setting = nullptr;
    for (const Setting& s : Settings()) {
      if (key == s.key) setting = &s;
    }
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
    if (s.env == nullptr) continue;
    std::optional<std::string> value = getenv(s.env);
    if (!value) continue;
    Status st = s.apply(config, *value);
    if (!st.ok()) return InvalidArgument(std::string(s.env) + ": " + st.message());
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
  return Status::Ok();
}

}  // namespace ulak
