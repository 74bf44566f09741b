// OAuthTokens: access tokens for templated webhooks whose credentials are a refresh token
// (issue 12; RFC 6749 §6, the refresh_token grant as a form-encoded POST).
//
// One cache entry per credential set (the caller's key: webhook id + digest of its
// credentials, so changed credentials never reuse an old token). A token is kept in memory
// only, never persisted, until shortly before its expires_in (a tenth of it, at most 60 s);
// without expires_in (Salesforce sends none) for an hour or until the CRM answers 401, when
// the caller Invalidate()s it. Concurrent Get()s of a key with no fresh token share one
// refresh: never a refresh per delivery.
//
// The refresh goes through the same HttpTransport as deliveries, so the token URL passes
// the same SSRF guard (its AddressFilter). Errors name the token endpoint's error code
// ("invalid_grant"), never a credential.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "delivery/http_transport.h"

namespace ulak::delivery {

struct OAuthCredentials {
  std::string token_url;
  std::string refresh_token;
  std::string client_id;
  std::string client_secret;
  std::chrono::milliseconds timeout{30'000};
};

class OAuthTokens {
 public:
  // `transport` and `clock` must outlive this object and every refresh in flight.
  OAuthTokens(HttpTransport& transport, const Clock& clock) : transport_(transport), clock_(clock) {}

  // The access token, or kUnavailable "OAuth token refresh failed: <reason>". `done` runs
  // exactly once: at once on the calling thread when a fresh token is cached, else on the
  // transport's loop thread when the (shared) refresh ends. It must not block.
  using Done = std::function<void(Result<std::string>&& access_token)>;
  void Get(const std::string& key, const OAuthCredentials& credentials, Done done);

  // The CRM refused `token` (HTTP 401): the next Get refreshes, unless another caller has
  // refreshed meanwhile (then its newer token stays).
  void Invalidate(const std::string& key, const std::string& token);

  // Refreshes started since construction (for tests and metrics).
  int RefreshCount();

 private:
  struct Entry {
    std::string token;
    TimePoint refresh_after;  // the token is used until then
    bool refreshing = false;
    std::vector<Done> waiting;
  };
  void Finish(const std::string& key, Result<std::string> token, std::chrono::milliseconds lifetime);

  HttpTransport& transport_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  int refreshes_ = 0;                               // GUARDED_BY(mu_)
};

// Parses a token endpoint's answer: the access token and its lifetime (expires_in; an hour
// when absent), or the error ("invalid_grant (HTTP 400)"). Exposed for tests.
struct TokenAnswer {
  std::string access_token;
  std::chrono::milliseconds lifetime{0};
};
Result<TokenAnswer> ParseTokenAnswer(const TransportResult& result);

}  // namespace ulak::delivery
