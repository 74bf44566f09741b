// OAuthTokens over a fake transport and a manual clock: one refresh shared by concurrent
// callers, caching until shortly before expires_in, invalidation after a 401, and refresh
// failures that name the token endpoint's error code but never a credential.
#include "delivery/oauth_tokens.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace ulak::delivery {
namespace {

using std::chrono::milliseconds;

// Holds every request until the test completes it.
class HeldTransport final : public HttpTransport {
 public:
  void Send(OutgoingRequest request, Callback done) override {
    requests.push_back(std::move(request));
    pending.push_back(std::move(done));
  }
  void Stop() override {}
  void Answer(size_t i, int status, std::string body) {
    TransportResult r;
    r.status = status;
    r.body = std::move(body);
    Callback done = std::move(pending.at(i));
    done(std::move(r));
  }
  std::vector<OutgoingRequest> requests;
  std::vector<Callback> pending;
};

const OAuthCredentials kCredentials{"http://127.0.0.1:9/token", "refresh+token/1", "client-1", "client-secret-xyz",
                                    milliseconds(5000)};

class OAuthTokensTest : public ::testing::Test {
 protected:
  // Starts a Get and returns where its answer lands.
  std::shared_ptr<std::optional<Result<std::string>>> Get(const std::string& key = "w1") {
    auto out = std::make_shared<std::optional<Result<std::string>>>();
    tokens_.Get(key, kCredentials, [out](Result<std::string>&& token) { *out = std::move(token); });
    return out;
  }
  HeldTransport transport_;
  ManualClock clock_;
  OAuthTokens tokens_{transport_, clock_};
};

TEST_F(OAuthTokensTest, ConcurrentCallersShareOneFormEncodedRefresh) {
  auto a = Get();
  auto b = Get();
  auto c = Get();
  ASSERT_EQ(transport_.requests.size(), 1u);
  const OutgoingRequest& r = transport_.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, kCredentials.token_url);
  EXPECT_EQ(r.body, "grant_type=refresh_token&refresh_token=refresh%2Btoken%2F1&client_id=client-1&"
                    "client_secret=client-secret-xyz");
  EXPECT_EQ(r.headers.at(0), (std::pair<std::string, std::string>{"Content-Type", "application/x-www-form-urlencoded"}));
  EXPECT_FALSE(a->has_value());
  transport_.Answer(0, 200, R"({"access_token": "tok-1", "token_type": "Bearer", "expires_in": 2})");
  for (const auto& got : {a, b, c}) {
    ASSERT_TRUE(got->has_value());
    ASSERT_TRUE((*got)->ok());
    EXPECT_EQ(***got, "tok-1");
  }
  EXPECT_EQ(tokens_.RefreshCount(), 1);
}

TEST_F(OAuthTokensTest, CachedUntilShortlyBeforeExpiry) {
  auto first = Get();
  transport_.Answer(0, 200, R"({"access_token": "tok-1", "expires_in": 2})");
  clock_.Advance(milliseconds(1700));
  auto cached = Get();
  ASSERT_TRUE(cached->has_value());  // answered at once, from the cache
  EXPECT_EQ(***cached, "tok-1");
  EXPECT_EQ(transport_.requests.size(), 1u);
  clock_.Advance(milliseconds(200));  // 1.9 s: within the last tenth of its life
  auto renewed = Get();
  ASSERT_EQ(transport_.requests.size(), 2u);
  transport_.Answer(1, 200, R"({"access_token": "tok-2", "expires_in": "3600"})");
  EXPECT_EQ(***renewed, "tok-2");
}

TEST_F(OAuthTokensTest, InvalidateDropsOnlyTheRefusedToken) {
  Get();
  transport_.Answer(0, 200, R"({"access_token": "tok-1"})");  // no expires_in: kept until a 401
  clock_.Advance(milliseconds(30 * 60 * 1000));
  EXPECT_EQ(***Get(), "tok-1");
  tokens_.Invalidate("w1", "tok-1");
  Get();
  ASSERT_EQ(transport_.requests.size(), 2u);
  transport_.Answer(1, 200, R"({"access_token": "tok-2"})");
  tokens_.Invalidate("w1", "tok-1");  // a late 401 for the old token keeps the new one
  EXPECT_EQ(***Get(), "tok-2");
  EXPECT_EQ(transport_.requests.size(), 2u);
}

TEST_F(OAuthTokensTest, KeysAreIndependent) {
  Get("w1");
  Get("w2");
  EXPECT_EQ(transport_.requests.size(), 2u);
}

TEST_F(OAuthTokensTest, InvalidGrantFailsWithItsCodeAndNoSecret) {
  auto a = Get();
  auto b = Get();
  transport_.Answer(0, 400, R"({"error": "invalid_grant", "error_description": "expired refresh+token/1"})");
  for (const auto& got : {a, b}) {
    ASSERT_TRUE(got->has_value());
    ASSERT_FALSE((*got)->ok());
    const std::string& m = (*got)->status().message();
    EXPECT_NE(m.find("OAuth token refresh failed: invalid_grant"), std::string::npos) << m;
    EXPECT_EQ(m.find("refresh+token"), std::string::npos) << m;
    EXPECT_EQ(m.find("client-secret"), std::string::npos) << m;
  }
  Get();  // a failure is not cached: the next try refreshes again
  EXPECT_EQ(transport_.requests.size(), 2u);
}

TEST_F(OAuthTokensTest, TransportErrorAndMissingTokenFail) {
  auto a = Get();
  TransportResult refused;
  refused.error = TransportError::kConnect;
  refused.error_message = "connection refused to 127.0.0.1:9";
  transport_.pending.at(0)(std::move(refused));
  EXPECT_EQ((*a)->status().message(), "OAuth token refresh failed: connection refused to 127.0.0.1:9");
  auto b = Get();
  transport_.Answer(1, 200, R"({"token_type": "Bearer"})");
  EXPECT_NE((*b)->status().message().find("no access_token"), std::string::npos);
}

}  // namespace
}  // namespace ulak::delivery
