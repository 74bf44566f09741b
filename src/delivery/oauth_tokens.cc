#include "delivery/oauth_tokens.h"

#include <algorithm>
#include <cstdlib>

#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace ulak::delivery {
namespace {

constexpr std::chrono::milliseconds kDefaultLifetime = std::chrono::hours(1);
constexpr std::chrono::milliseconds kMaxMargin = std::chrono::seconds(60);

std::string FormField(std::string_view name, std::string_view value) {
  // Everything but the unreserved characters is percent-encoded: valid
  // application/x-www-form-urlencoded, and a '+' in a token is never read as a space.
  return std::string(name) + "=" + boost::urls::encode(value, boost::urls::unreserved_chars);
}

Status RefreshFailed(std::string reason) { return Unavailable("OAuth token refresh failed: " + std::move(reason)); }

}  // namespace

Result<TokenAnswer> ParseTokenAnswer(const TransportResult& result) {
  if (result.error != TransportError::kNone) return RefreshFailed(result.error_message);
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(result.body, ec);
  const boost::json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  const std::string http = "HTTP " + std::to_string(result.status) + " from the token endpoint";
  if (result.status < 200 || result.status >= 300) {
    // RFC 6749 §5.2: {"error": "invalid_grant", ...}. Only the code: a description may echo input.
    if (o != nullptr) {
      if (const auto* e = o->if_contains("error"); e != nullptr && e->is_string() && e->as_string().size() <= 64) {
        return RefreshFailed(std::string(e->as_string()) + " (" + http + ")");
      }
    }
    return RefreshFailed(http);
  }
  const boost::json::value* token = o != nullptr ? o->if_contains("access_token") : nullptr;
  if (token == nullptr || !token->is_string() || token->as_string().empty()) {
    return RefreshFailed("the token endpoint's answer has no access_token (" + http + ")");
  }
  TokenAnswer answer;
  answer.access_token = std::string(token->as_string());
  answer.lifetime = kDefaultLifetime;
  if (const auto* e = o->if_contains("expires_in")) {
    double seconds = -1;
    if (e->is_number()) seconds = e->to_number<double>(ec);
    if (e->is_string()) seconds = std::atof(e->as_string().c_str());  // some providers quote it
    if (!ec && seconds > 0) answer.lifetime = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  return answer;
}

void OAuthTokens::Get(const std::string& key, const OAuthCredentials& credentials, Done done) {
  {
    std::unique_lock lock(mu_);
    Entry& e = entries_[key];
    if (!e.token.empty() && clock_.Now() < e.refresh_after) {
      std::string token = e.token;
      lock.unlock();
      done(std::move(token));
      return;
    }
    e.waiting.push_back(std::move(done));
    if (e.refreshing) return;  // the refresh in flight answers this caller too
    e.refreshing = true;
    ++refreshes_;
  }
  // Outside the lock: a stopped transport calls back at once, on this thread.
  OutgoingRequest request;
  request.url = credentials.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = FormField("grant_type", "refresh_token") + "&" + FormField("refresh_token", credentials.refresh_token) +
                 "&" + FormField("client_id", credentials.client_id) + "&" +
                 FormField("client_secret", credentials.client_secret);
  request.timeout = credentials.timeout;
  transport_.Send(std::move(request), [this, key](TransportResult&& result) {
    Result<TokenAnswer> answer = ParseTokenAnswer(result);
    if (!answer.ok()) {
      Finish(key, answer.status(), {});
    } else {
      Finish(key, std::move(answer->access_token), answer->lifetime);
    }
  });
}

void OAuthTokens::Finish(const std::string& key, Result<std::string> token, std::chrono::milliseconds lifetime) {
  std::vector<Done> waiting;
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[key];
    e.refreshing = false;
    waiting.swap(e.waiting);
    if (token.ok()) {
      e.token = *token;
      e.refresh_after = clock_.Now() + lifetime - std::min(kMaxMargin, lifetime / 10);
    } else {
      e.token.clear();
    }
  }
  for (Done& d : waiting) {
    Result<std::string> copy = token;
    d(std::move(copy));
  }
}

void OAuthTokens::Invalidate(const std::string& key, const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.token == token) it->second.token.clear();
}

int OAuthTokens::RefreshCount() {
  std::lock_guard lock(mu_);
  return refreshes_;
}

}  // namespace ulak::delivery
