// Incoming sources parsed once (provider, options, secrets, event map) and shared by every
// request to them, instead of a store read, a decryption and three JSON parses per request.
// Kept for a short TTL (other nodes' changes) and dropped at once on changes made here.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "incoming/event_map.h"
#include "incoming/verifier.h"
#include "store/store.h"

namespace ulak::api {

struct ParsedSource {
  store::Source record;
  incoming::Provider provider;
  incoming::SourceOptions options;
  std::vector<std::string> secrets;
  std::vector<incoming::EventMapRule> rules;
};

class SourceCache {
 public:
  static constexpr std::chrono::milliseconds kTtl{2000};

  explicit SourceCache(store::Store& store) : store_(store) {}

  Result<std::shared_ptr<const ParsedSource>> Get(const std::string& source_id);
  Result<std::shared_ptr<const ParsedSource>> GetDefault(const std::string& provider);
  // The per-organization provider path's source (/api/webhooks/stripe/{organization_id}):
  // the organization's active source of that provider marked default, else its oldest
  // active one. kNotFound when it has none.
  Result<std::shared_ptr<const ParsedSource>> GetForOrganization(const std::string& provider,
                                                                const std::string& organization_id);
  // After a change through this node.
  void Forget();

 private:
  struct Entry {
    std::shared_ptr<const ParsedSource> source;
    std::chrono::steady_clock::time_point until;
  };
  Result<std::shared_ptr<const ParsedSource>> Lookup(const std::string& key, bool by_provider);
  Result<std::shared_ptr<const ParsedSource>> Cached(const std::string& cache_key);
  void Keep(const std::string& cache_key, std::shared_ptr<const ParsedSource> parsed);

  store::Store& store_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> by_key_;  // GUARDED_BY(mu_): "id:<id>", "default:<provider>", "org:<organization>:<provider>"
};

}  // namespace ulak::api
