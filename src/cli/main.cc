// ulak: the webhook gateway's single binary.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "common/config.h"

namespace {

// Flags are optional values: only what the user typed overrides the file and environment.
// The setting flags come from the settings table (common/config.h), keyed by setting.
struct ServeFlags {
  std::optional<std::string> config_file;
  bool check_config = false;
  std::map<std::string, std::optional<std::string>> settings;  // YAML key -> value typed
};

std::string FlagHelp(const ulak::SettingInfo& s) {
  std::string help = s.description;
  help += " (env ";
  help += s.env;
  help += "; default ";
  help += *s.default_text ? s.default_text : "unset";
  help += ")";
  return help;
}

int BadConfig(const ulak::Status& s) {
  std::fprintf(stderr, "ulak: %s\n", s.message().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ulak: a self-hosted webhook gateway (send, receive, sign, retry, log)", "ulak"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ulak ") + ULAK_VERSION);

  ServeFlags flags;
  CLI::App* serve = app.add_subcommand("serve", "Run the HTTP API and the delivery engine in the foreground");
  for (const ulak::SettingInfo& setting : ulak::SettingsReference()) {
    if (setting.flag != nullptr) serve->add_option(setting.flag, flags.settings[setting.key], FlagHelp(setting));
  }
  serve->add_option("--config", flags.config_file, "YAML config file; flags beat env beat file");
  serve->add_flag("--check-config", flags.check_config,
                  "Validate the configuration (file, environment, flags) and exit: 0 if it is usable, 2 if not");

  std::string migrate_database = "sqlite:./data/ulak.db";
  CLI::App* migrate = app.add_subcommand("migrate", "Apply pending schema migrations and exit");
  migrate->add_option("--database", migrate_database, "database URL (env ULAK_DATABASE)")
      ->envname("ULAK_DATABASE");

  std::string registry_database = "sqlite:./data/ulak.db";
  std::string registry_organization;
  CLI::App* registry = app.add_subcommand("registry", "Print every source and webhook as registry YAML (seed 000)");
  registry->add_option("--database", registry_database, "database URL (env ULAK_DATABASE)")->envname("ULAK_DATABASE");
  registry->add_option("--organization", registry_organization, "only this organization's configurations");

  std::optional<std::string> rotate_database, rotate_mode;
  CLI::App* rotate = app.add_subcommand(
      "rotate-master-key",
      "Re-encrypt every stored secret under ULAK_MASTER_KEY; ULAK_MASTER_KEY_PREVIOUS names the old key(s). "
      "Run it with the server stopped");
  rotate->add_option("--database", rotate_database, "database URL (env ULAK_DATABASE; default sqlite:./data/ulak.db)");
  rotate->add_option("--mode", rotate_mode, "development|production (env ULAK_MODE; default development)")
      ->check(CLI::IsMember({"development", "production"}));

  std::optional<std::string> prune_database, prune_older_than, prune_config;
  bool prune_dry_run = false;
  CLI::App* prune = app.add_subcommand(
      "prune", "Delete, once, what is older than the retention period (the background task's deletion) and "
               "print counts");
  prune->add_option("--database", prune_database, "database URL (env ULAK_DATABASE; default sqlite:./data/ulak.db)");
  prune->add_option("--config", prune_config, "YAML config file (for retention_days, retention_batch)");
  prune->add_option("--older-than", prune_older_than,
                    "period such as 30d, 12h (every organization); default: each organization's retention_days, "
                    "else the server's (env ULAK_RETENTION_DAYS; default 30)");
  prune->add_flag("--dry-run", prune_dry_run, "count what would be deleted, delete nothing");

  app.add_subcommand("version", "Print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (app.got_subcommand("version")) {
    std::printf("ulak %s\n", ULAK_VERSION);
    return 0;
  }
  if (app.got_subcommand(migrate)) return ulak::cli::RunMigrate(migrate_database);
  if (app.got_subcommand(registry)) return ulak::cli::RunRegistry(registry_database, registry_organization);
  if (app.got_subcommand(rotate)) {
    ulak::Config config;
    if (ulak::Status s = ulak::ApplyEnvironment(ulak::ProcessEnv, config); !s.ok()) return BadConfig(s);
    if (rotate_database) config.database = *rotate_database;
    if (rotate_mode) config.mode = ulak::ParseMode(*rotate_mode).value();
    return ulak::cli::RunRotateMasterKey(config);
  }

  if (app.got_subcommand(prune)) {
    ulak::Config config;
    if (prune_config) {
      if (ulak::Status s = ulak::ApplyConfigFile(*prune_config, config); !s.ok()) return BadConfig(s);
    }
    if (ulak::Status s = ulak::ApplyEnvironment(ulak::ProcessEnv, config); !s.ok()) return BadConfig(s);
    if (prune_database) config.database = *prune_database;
    return ulak::cli::RunPrune(config, prune_older_than.value_or(""), prune_dry_run);
  }

  ulak::Config config;
  if (flags.config_file) {
    if (ulak::Status s = ulak::ApplyConfigFile(*flags.config_file, config); !s.ok()) return BadConfig(s);
  }
  if (ulak::Status s = ulak::ApplyEnvironment(ulak::ProcessEnv, config); !s.ok()) return BadConfig(s);
  for (const auto& [key, value] : flags.settings) {
    if (!value) continue;
    if (ulak::Status s = ulak::ApplySetting(key, *value, config); !s.ok()) return BadConfig(s);
  }
  if (ulak::Status s = ulak::ValidateConfig(config); !s.ok()) return BadConfig(s);
  if (flags.check_config) return ulak::cli::RunCheckConfig(config);
  return ulak::cli::RunServe(config);
}
