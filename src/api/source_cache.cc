#include "api/source_cache.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/json_io.h"

namespace ulak::api {
namespace {

Result<std::shared_ptr<const ParsedSource>> Parse(store::Source record) {
  auto parsed = std::make_shared<ParsedSource>();
  const std::optional<incoming::Provider> provider = incoming::ParseProvider(record.provider);
  if (!provider) return Internal("stored source " + record.id + " has an unknown provider " + record.provider);
  parsed->provider = *provider;
  const boost::json::value options = ParseJsonOr(record.options_json, boost::json::object());
  Result<incoming::SourceOptions> parsed_options =
      incoming::ParseSourceOptions(*provider, options.is_object() ? options.as_object() : boost::json::object());
  if (!parsed_options.ok()) {
    return Internal("stored source " + record.id + " is broken: " + parsed_options.status().message());
  }
  parsed->options = std::move(parsed_options).value();
  const boost::json::value secrets = ParseJsonOr(record.secrets_json, boost::json::array());
  if (secrets.is_array()) {
    for (const auto& s : secrets.as_array()) {
      if (s.is_string()) parsed->secrets.emplace_back(s.as_string());
    }
  }
  if (auto rules = incoming::ParseEventMap(ParseJsonOr(record.event_map_json, boost::json::array())); rules.ok()) {
    parsed->rules = std::move(rules).value();
  }
  parsed->record = std::move(record);
  return std::shared_ptr<const ParsedSource>(std::move(parsed));
}

}  // namespace

Result<std::shared_ptr<const ParsedSource>> SourceCache::Get(const std::string& source_id) {
  return Lookup(source_id, false);
}

Result<std::shared_ptr<const ParsedSource>> SourceCache::GetDefault(const std::string& provider) {
  return Lookup(provider, true);
}

Result<std::shared_ptr<const ParsedSource>> SourceCache::GetForOrganization(const std::string& provider,
                                                                           const std::string& organization_id) {
  // "" would mean every organization to the store.
  if (organization_id.empty()) return NotFound("No active " + provider + " source for this organization.");
  const std::string cache_key = "org:" + organization_id + ":" + provider;
  if (auto hit = Cached(cache_key); hit.ok()) return hit;
  // Never names another organization: an unknown organization and one without such a
  // source answer alike.
  Result<std::vector<store::Source>> all = store_.ListAllSources(organization_id);
  if (!all.ok() && all.status().code() != ErrorCode::kNotFound) return all.status();
  const store::Source* chosen = nullptr;
  if (all.ok()) {
    for (const store::Source& s : *all) {  // oldest first (ids are time-ordered)
      if (s.provider != provider || !s.is_active) continue;
      if (chosen == nullptr || (s.default_for_provider && !chosen->default_for_provider)) chosen = &s;
    }
  }
  if (chosen == nullptr) return NotFound("No active " + provider + " source for this organization.");
  ULAK_ASSIGN_OR_RETURN(std::shared_ptr<const ParsedSource> parsed, Parse(*chosen));
  Keep(cache_key, parsed);
  return parsed;
}

Result<std::shared_ptr<const ParsedSource>> SourceCache::Cached(const std::string& cache_key) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(cache_key);
  if (it != by_key_.end() && std::chrono::steady_clock::now() < it->second.until) return it->second.source;
  return NotFound("not cached");
}

void SourceCache::Keep(const std::string& cache_key, std::shared_ptr<const ParsedSource> parsed) {
  std::lock_guard lock(mu_);
  if (by_key_.size() > 10'000) by_key_.clear();  // bounded; sources are few
  by_key_[cache_key] = Entry{std::move(parsed), std::chrono::steady_clock::now() + kTtl};
}

void SourceCache::Forget() {
  std::lock_guard lock(mu_);
  by_key_.clear();
}

Result<std::shared_ptr<const ParsedSource>> SourceCache::Lookup(const std::string& key, bool by_provider) {
  const std::string cache_key = (by_provider ? "default:" : "id:") + key;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = by_key_.find(cache_key);
    if (it != by_key_.end() && now < it->second.until) return it->second.source;
  }
  ULAK_ASSIGN_OR_RETURN(store::Source record, by_provider ? store_.GetDefaultSource(key) : store_.GetSource("", key));
  ULAK_ASSIGN_OR_RETURN(std::shared_ptr<const ParsedSource> parsed, Parse(std::move(record)));
  std::lock_guard lock(mu_);
  if (by_key_.size() > 10'000) by_key_.clear();  // bounded; sources are few
  by_key_[cache_key] = Entry{parsed, now + kTtl};
  return parsed;
}

}  // namespace ulak::api
