#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "api/admin_key.h"
#include "api/api.h"
#include "api/registry.h"
#include "api/source_cache.h"
#include "cli/commands.h"
#include "api/portal.h"
#include "cli/master_key.h"
#include "common/log.h"
#include "common/fd_limit.h"
#include "common/metrics.h"
#include "common/ids.h"
#include "delivery/claimer.h"
#include "delivery/engine.h"
#include "delivery/operations.h"
#include "delivery/http_transport.h"
#include "delivery/publisher.h"
#include "delivery/ssrf_guard.h"
#include "http/server.h"
#include "store/encrypting_store.h"
#include "store/retention.h"
#include "store/store.h"
#include "store/writer.h"

namespace ulak::cli {
namespace {

int Fail(std::string_view what, const Status& status) {
  Log(LogLevel::kError, what, {{"error", status.message()}});
  std::fprintf(stderr, "ulak: %.*s: %s\n", static_cast<int>(what.size()), what.data(), status.message().c_str());
  return 1;
}

http::ServerOptions ServerOptionsFrom(const Config& config, const std::string& host, uint16_t port) {
  http::ServerOptions o;
  o.host = host;
  o.port = port;
  o.threads = config.threads;
  o.max_body_bytes = config.max_body_bytes;
  o.max_header_bytes = config.max_header_bytes;
  o.max_header_count = config.max_header_count;
  o.max_connections = config.max_connections > 0 ? config.max_connections : DefaultMaxConnections(OpenFileLimit());
  o.header_timeout = std::chrono::milliseconds(config.header_timeout_ms);
  o.body_timeout = std::chrono::milliseconds(config.body_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  o.shutdown_grace = std::chrono::milliseconds(config.shutdown_grace_ms);
  return o;
}

Result<std::vector<delivery::Network>> AllowedNetworks(const Config& config) {
  const std::string list = config.allowed_networks.value_or(
      config.mode == Mode::kDevelopment ? "127.0.0.0/8,::1/128" : "");
  std::vector<delivery::Network> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      ULAK_ASSIGN_OR_RETURN(delivery::Network n, delivery::ParseNetwork(item));
      out.push_back(n);
    }
    start = comma + 1;
  }
  return out;
}

store::RetentionOptions RetentionOptionsFrom(const Config& config) {
  store::RetentionOptions o;
  o.default_days = static_cast<int>(std::min<int64_t>(config.retention_days, 36500));
  o.interval = std::chrono::seconds(std::max<int64_t>(1, config.retention_interval_s));
  o.batch = static_cast<int>(std::clamp<int64_t>(config.retention_batch, 1, 100'000));
  return o;
}

// Blocks SIGINT/SIGTERM in every thread (threads started later inherit the mask) so that
// only WaitForStopSignal receives them, synchronously.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int RunServe(const Config& config) {
  const sigset_t stop_signals = BlockStopSignals();
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config.log_level, &level);
  SetLogLevel(level);

  Result<std::pair<std::string, uint16_t>> listen = ParseHostPort(config.listen);
  if (!listen.ok()) return Fail("invalid listen address", listen.status());

  // Before the database is touched: production without a master key must not even start.
  Result<std::shared_ptr<const crypto::SecretBox>> box = LoadSecretBox(config, DataDirectoryFor(config.database));
  if (!box.ok()) return Fail("cannot load the master key", box.status());

  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(config.database);
  if (!opened.ok()) return Fail("cannot open the database", opened.status());
  std::unique_ptr<store::Store> store = std::move(opened).value();
  if (Status s = store->Migrate(); !s.ok()) return Fail("cannot migrate the database", s);
  // Everything below reads and writes secrets through the encrypting store only.
  auto encrypting = std::make_unique<store::EncryptingStore>(std::move(store), *box);
  if (Status s = encrypting->CheckAllSecretsOpen(); !s.ok()) return Fail("cannot decrypt the stored secrets", s);
  store = std::move(encrypting);

  Random& random = SystemRandom::Instance();
  std::optional<std::string> env_admin_key = ProcessEnv("ULAK_ADMIN_KEY");
  if (env_admin_key && env_admin_key->empty()) env_admin_key.reset();  // set but empty: unset
  Result<api::AdminKeySetup> admin = api::SetUpAdminKey(*store, random, env_admin_key);
  if (!admin.ok()) return Fail("cannot set up the admin key", admin.status());

  const Clock& clock = SystemClock::Instance();
  store::StoreWriterOptions writer_options;
  writer_options.outcome_linger = std::chrono::microseconds(config.writer_linger_us);
  // auto: a window on PostgreSQL only (config.h says why).
  writer_options.publish_window =
      std::chrono::microseconds(config.writer_publish_window_us.value_or(store->SharesWork() ? 2000 : 0));
  store::StoreWriter writer(*store, writer_options);
  Result<std::vector<delivery::Network>> allowed = AllowedNetworks(config);
  if (!allowed.ok()) return Fail("invalid allowed_networks", allowed.status());
  auto guard = std::make_shared<const delivery::SsrfGuard>(std::move(allowed).value());
  delivery::CurlTransportOptions transport_options;
  transport_options.address_filter = [guard](const sockaddr* addr, socklen_t len) { return guard->Check(addr, len); };
  std::unique_ptr<delivery::HttpTransport> transport = delivery::MakeCurlTransport(std::move(transport_options));
  delivery::EngineOptions engine_options;
  engine_options.auto_disable_failures = static_cast<int>(config.auto_disable_failures);
  engine_options.auto_disable_after = std::chrono::seconds(config.auto_disable_after_s);
  engine_options.breaker_failures = static_cast<int>(config.breaker_failures);
  engine_options.max_pending = config.max_pending_deliveries;
  engine_options.max_held = config.max_held_deliveries;
  engine_options.max_held_per_webhook = config.max_held_per_webhook;
  if (store->SharesWork()) {
    engine_options.node_id = NewId(clock, random);
    engine_options.lease = std::chrono::seconds(std::max<int64_t>(1, config.lease_s));
    Log(LogLevel::kInfo, "sharing work with other nodes",
        {{"node_id", engine_options.node_id}, {"lease_s", config.lease_s}});
  }
  delivery::DeliveryEngine engine(*store, writer, *transport, clock, random, engine_options);
  delivery::Publisher publisher(*store, writer, engine, clock, random);
  delivery::DeliveryOperations operations(*store, engine, publisher, clock, random);
  engine.SetDisableHandler([&operations](const delivery::ConfigPtr& webhook, const std::string& reason) {
    operations.DisableWebhook(webhook, reason);
  });
  if (Status s = engine.Start(); !s.ok()) return Fail("cannot start the delivery engine", s);
  std::unique_ptr<delivery::Claimer> claimer;
  if (engine_options.SharedWork()) {
    delivery::ClaimerOptions claimer_options;  // claims stop at the engine's bound
    claimer_options.max_held = std::min<size_t>(claimer_options.max_held, engine_options.max_held);
    claimer = std::make_unique<delivery::Claimer>(*store, engine, clock, claimer_options);
    claimer->Start();
  }

  store::Retention retention(*store, clock, RetentionOptionsFrom(config));
  retention.Start();

  api::Authenticator auth(*store, admin->hash);
  Result<std::string> portal_key = api::LoadPortalSigningKey(*store, **box, random);
  if (portal_key.ok()) {
    auth.EnablePortal(std::move(portal_key).value(), clock);
  } else {
    // Portal links stay off rather than keeping the server down; API keys work as before.
    Log(LogLevel::kWarn, "portal links disabled: cannot load the portal signing key",
        {{"detail", portal_key.status().message()}});
  }
  api::SourceCache source_cache(*store);
  api::ApiContext ctx{*store, clock, random, auth, &publisher, &engine, config.mode,
                      ProcessEnv("CRON_SECRET").value_or(ProcessEnv("ULAK_CRON_SECRET").value_or("")), &operations, &source_cache};
  if (std::optional<std::string> fa = ProcessEnv("ULAK_UI_FRAME_ANCESTORS"); fa && !fa->empty()) {
    ctx.ui_frame_ancestors = *fa;
  }
  ctx.writer = &writer;
  auto router = std::make_shared<const http::Router>(api::BuildRouter(ctx));
  Result<std::unique_ptr<http::Server>> listening = http::Server::Listen(
      ServerOptionsFrom(config, listen->first, listen->second),
      [router](http::Request&& request, http::Reply reply) {
        router->Dispatch(std::move(request), [reply = std::move(reply)](http::Response&& response) {
          Metrics::Instance().CountHttpResponse(response.status);
          reply(std::move(response));
        });
      });
  if (!listening.ok()) {
    retention.Stop();
    if (claimer) claimer->Stop();
    operations.Stop();
    engine.Stop();
    transport->Stop();
    writer.Stop();
    return Fail("cannot start the HTTP server", listening.status());
  }
  std::unique_ptr<http::Server> server = std::move(listening).value();
  server->Start();

  const std::string host = listen->first.find(':') != std::string::npos ? "[" + listen->first + "]" : listen->first;
  const std::string url = "http://" + host + ":" + std::to_string(server->port());
  Log(LogLevel::kInfo, "listening",
      {{"url", url}, {"port", static_cast<int>(server->port())}, {"mode", ModeName(config.mode)},
       {"database", config.database}});
  std::printf("ulak %s listening on %s (%s mode)\n", ULAK_VERSION, url.c_str(),
              std::string(ModeName(config.mode)).c_str());
  if (admin->generated_key) {
    // Printed once, to the terminal and never to the log: only its hash is kept.
    std::printf(
        "\nGenerated an admin API key. It is shown only this once; save it now:\n\n    %s\n\n"
        "Use it as: Authorization: Bearer <admin key>. Set ULAK_ADMIN_KEY to choose your own.\n",
        admin->generated_key->c_str());
  }
  std::fflush(stdout);

  const int sig = WaitForStopSignal(stop_signals);
  Log(LogLevel::kInfo, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server->Stop();  // in-flight requests finish first
  server.reset();
  retention.Stop();  // ends within one batch
  if (claimer) claimer->Stop();
  operations.Stop();
  engine.Stop();     // tries in flight stay pending in the store
  transport->Stop();
  writer.Stop();     // commits every recorded attempt
  store.reset();  // closes every connection; WAL checkpointed by SQLite on last close
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

int RunCheckConfig(const Config& config) {
  // Everything RunServe checks before it serves, without opening the database or creating
  // a file (the development master key file included). ValidateConfig already passed.
  auto bad = [](std::string_view what, const Status& status) {
    std::fprintf(stderr, "ulak: %.*s: %s\n", static_cast<int>(what.size()), what.data(), status.message().c_str());
    return 2;
  };
  if (Result<std::vector<delivery::Network>> allowed = AllowedNetworks(config); !allowed.ok()) {
    return bad("invalid allowed_networks", allowed.status());
  }
  if (Status s = store::CheckDatabaseUrl(config.database); !s.ok()) return bad("invalid database", s);
  if (Status s = CheckMasterKeySettings(config, DataDirectoryFor(config.database)); !s.ok()) {
    return bad("invalid master key settings", s);
  }
  if (std::optional<std::string> admin = ProcessEnv("ULAK_ADMIN_KEY"); admin && !admin->empty()) {
    if (admin->size() < api::kMinAdminKeyLength) {
      return bad("invalid ULAK_ADMIN_KEY",
                 InvalidArgument("it must be at least " + std::to_string(api::kMinAdminKeyLength) + " characters long"));
    }
  }
  std::printf("configuration OK: listen %s, database %s, %s mode\n", config.listen.c_str(), config.database.c_str(),
              std::string(ModeName(config.mode)).c_str());
  return 0;
}

int RunMigrate(const std::string& database_url) {
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(database_url);
  if (!opened.ok()) return Fail("cannot open the database", opened.status());
  std::unique_ptr<store::Store> store = std::move(opened).value();
  if (Status s = store->Migrate(); !s.ok()) return Fail("migration failed", s);
  Result<int> version = store->SchemaVersion();
  if (!version.ok()) return Fail("cannot read the schema version", version.status());
  std::printf("database %s is at schema version %d\n", database_url.c_str(), *version);
  return 0;
}

int RunRegistry(const std::string& database_url, const std::string& organization_id) {
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(database_url);
  if (!opened.ok()) return Fail("cannot open the database", opened.status());
  std::unique_ptr<store::Store> store = std::move(opened).value();
  if (Status s = store->Migrate(); !s.ok()) return Fail("migration failed", s);
  Result<std::string> yaml = api::RenderRegistryYaml(*store, organization_id);
  if (!yaml.ok()) return Fail("cannot read the registry", yaml.status());
  std::fwrite(yaml->data(), 1, yaml->size(), stdout);
  return 0;
}

}  // namespace ulak::cli

namespace ulak::cli {

int RunPrune(const Config& config, const std::string& older_than, bool dry_run) {
  std::optional<std::chrono::milliseconds> period;
  if (!older_than.empty()) {
    Result<std::chrono::milliseconds> parsed = store::ParsePeriod(older_than);
    if (!parsed.ok()) {
      std::fprintf(stderr, "ulak: --older-than: %s\n", parsed.status().message().c_str());
      return 2;
    }
    period = *parsed;
  }
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(config.database);
  if (!opened.ok()) return Fail("cannot open the database", opened.status());
  std::unique_ptr<store::Store> store = std::move(opened).value();
  if (Status s = store->Migrate(); !s.ok()) return Fail("migration failed", s);
  store::Retention retention(*store, SystemClock::Instance(), RetentionOptionsFrom(config));
  Result<store::PruneReport> report = retention.RunOnce(period, dry_run);
  if (!report.ok()) return Fail("prune failed", report.status());
  std::printf("%s %lld deliveries, %lld attempts, %lld events, %lld incoming requests (%lld organizations)\n",
              dry_run ? "would delete" : "deleted", static_cast<long long>(report->deliveries),
              static_cast<long long>(report->attempts), static_cast<long long>(report->events),
              static_cast<long long>(report->incoming), static_cast<long long>(report->organizations));
  if (report->busy) {
    std::printf("another node is pruning this database now; try again later\n");
    return 3;
  }
  return 0;
}

}  // namespace ulak::cli
