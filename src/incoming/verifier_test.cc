// Provider verification: the known answers of shared/VECTORS.md, and each provider's
// rejections (tampered body, wrong secret, stale timestamp, missing or garbage header), with
// the ErrorCode the HTTP layer maps to a response.
#include "incoming/verifier.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "incoming/apple_root_ca.h"

namespace ulak::incoming {
namespace {

using std::chrono::seconds;

constexpr int64_t kStripeT = 1'700'000'000;
constexpr char kStripeSecret[] = "whsec_test_secret";
constexpr char kStripeBody[] = R"({"id":"evt_1","type":"customer.subscription.updated"})";
constexpr char kStripeV1[] = "0d61487f09b9af74bab9136d29b42415a42bf22e4ab9eb82886337697ef0fe84";

constexpr char kStandardSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kStandardId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kStandardT = 1'614'265'330;
constexpr char kStandardBody[] = R"({"test": 2432232314})";
constexpr char kStandardSig[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

constexpr char kGithubSecret[] = "It's a Secret to Everybody";

// Owns everything a VerifyInput refers to.
struct Request {
  std::string body;
  Headers headers;
  std::vector<std::string> secrets;
  SourceOptions options;
  TimePoint now = TimePoint(seconds(kStripeT));

  Result<VerifiedEvent> VerifyAs(Provider provider) const {
    return Verify(provider, VerifyInput{body, headers, secrets, options, now});
  }
};

std::string StripeHeader(std::string_view secret, int64_t t, std::string_view body) {
  return "t=" + std::to_string(t) + ",v1=" +
         crypto::HexEncode(crypto::HmacSha256(secret, std::to_string(t) + "." + std::string(body)));
}

Request StripeVector() {
  Request r;
  r.body = kStripeBody;
  r.headers = {{"Stripe-Signature", "t=1700000000,v1=" + std::string(kStripeV1)}};
  r.secrets = {kStripeSecret};
  return r;
}

// Rejections must say why without echoing what was sent or what is secret.
void ExpectRejected(const Result<VerifiedEvent>& result, ErrorCode code, std::string_view reason,
                    const Request& request) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_EQ(result.status().message(), reason);
  for (const std::string& secret : request.secrets) {
    EXPECT_EQ(result.status().message().find(secret), std::string::npos);
  }
  if (request.body.size() > 8) {
    EXPECT_EQ(result.status().message().find(request.body), std::string::npos);
  }
}

// --- Provider names and headers ---------------------------------------------------------

TEST(IncomingProvider, NamesRoundTrip) {
  for (Provider p : {Provider::kStripe, Provider::kApple, Provider::kGithub, Provider::kShopify,
                     Provider::kStandard, Provider::kHmac, Provider::kHeader}) {
    EXPECT_EQ(ParseProvider(ProviderName(p)), p);
  }
  EXPECT_EQ(ProviderName(Provider::kStandard), "standard");
  EXPECT_FALSE(ParseProvider("Stripe").has_value());
  EXPECT_FALSE(ParseProvider("").has_value());
}

TEST(IncomingHeaders, FindHeaderIgnoresCaseAndTakesTheFirst) {
  const Headers headers = {{"Content-Type", "a"}, {"X-Thing", "1"}, {"x-thing", "2"}};
  EXPECT_EQ(FindHeader(headers, "x-THING"), "1");
  EXPECT_EQ(FindHeader(headers, "content-type"), "a");
  EXPECT_FALSE(FindHeader(headers, "X-Thin").has_value());
}

// --- Stripe --------------------------------------------------------------------------------

TEST(IncomingStripe, AcceptsTheDocumentedVector) {
  const Request r = StripeVector();
  auto event = r.VerifyAs(Provider::kStripe);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->provider_event_id, "evt_1");
  EXPECT_EQ(event->event_type, "customer.subscription.updated");
  EXPECT_EQ(event->data, boost::json::parse(kStripeBody).as_object());
}

TEST(IncomingStripe, AcceptsAnyMatchingV1AndIgnoresOtherSchemes) {
  Request r = StripeVector();
  r.headers = {{"stripe-signature",
                "t=1700000000,v1=" + std::string(64, 'a') + ",v0=deadbeef, v1=" + kStripeV1}};
  EXPECT_TRUE(r.VerifyAs(Provider::kStripe).ok());
}

TEST(IncomingStripe, AcceptsTheSecondSecretOfARotation) {
  Request r = StripeVector();
  r.secrets = {"whsec_new_secret_not_yet_used", kStripeSecret};
  EXPECT_TRUE(r.VerifyAs(Provider::kStripe).ok());
}

TEST(IncomingStripe, RejectsATamperedBody) {
  Request r = StripeVector();
  r.body = R"({"id":"evt_1","type":"customer.subscription.deleted"})";
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                 "no matching Stripe signature", r);
}

TEST(IncomingStripe, RejectsTheWrongSecret) {
  Request r = StripeVector();
  r.secrets = {"whsec_other"};
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                 "no matching Stripe signature", r);
}

TEST(IncomingStripe, ToleranceIsInclusiveBothWays) {
  Request r = StripeVector();
  r.now = TimePoint(seconds(kStripeT + 300));
  EXPECT_TRUE(r.VerifyAs(Provider::kStripe).ok());
  r.now = TimePoint(seconds(kStripeT - 300));
  EXPECT_TRUE(r.VerifyAs(Provider::kStripe).ok());
}

TEST(IncomingStripe, RejectsAStaleTimestamp) {
  Request r = StripeVector();
  r.now = TimePoint(seconds(kStripeT + 301));
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                 "Stripe-Signature timestamp outside the tolerance", r);
}

TEST(IncomingStripe, RejectsAFarFutureTimestamp) {
  Request r = StripeVector();
  r.now = TimePoint(seconds(kStripeT - 301));
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                 "Stripe-Signature timestamp outside the tolerance", r);
}

TEST(IncomingStripe, ToleranceIsConfigurable) {
  Request r = StripeVector();
  r.options.tolerance_s = 600;
  r.now = TimePoint(seconds(kStripeT + 599));
  EXPECT_TRUE(r.VerifyAs(Provider::kStripe).ok());
  r.options.tolerance_s = 60;
  r.now = TimePoint(seconds(kStripeT + 61));
  EXPECT_FALSE(r.VerifyAs(Provider::kStripe).ok());
}

TEST(IncomingStripe, RejectsAMissingHeader) {
  Request r = StripeVector();
  r.headers = {{"X-Hub-Signature-256", "sha256=00"}};
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                 "missing Stripe-Signature header", r);
}

TEST(IncomingStripe, RejectsGarbageHeaders) {
  Request r = StripeVector();
  for (const char* garbage :
       {"garbage", "", "t=abc,v1=00", "v1=00", "t=1700000000,t=1700000000,v1=00", "t=-1,v1=00",
        "t=1700000000,,v1=00", "=x,t=1"}) {
    r.headers = {{"Stripe-Signature", garbage}};
    ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                   "malformed Stripe-Signature header", r);
  }
  for (const char* no_v1 : {"t=1700000000", "t=1700000000,v0=abcd", "t=1700000000,v1=zz"}) {
    r.headers = {{"Stripe-Signature", no_v1}};
    ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated,
                   "no v1 signature in Stripe-Signature header", r);
  }
}

TEST(IncomingStripe, AuthenticBodyWithoutIdOrTypeIsMalformed) {
  Request r = StripeVector();
  for (const char* body : {R"({"type":"x"})", R"({"id":"evt_2"})", R"({"id":1,"type":"x"})",
                           R"(["id"])", "not json"}) {
    r.body = body;
    r.headers = {{"Stripe-Signature", StripeHeader(kStripeSecret, kStripeT, body)}};
    auto result = r.VerifyAs(Provider::kStripe);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), ErrorCode::kMalformed) << body;
  }
}

TEST(IncomingVerify, RejectsWhenNoSecretIsConfigured) {
  Request r = StripeVector();
  r.secrets.clear();
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kUnauthenticated, "no secret configured",
                 r);
}

TEST(IncomingVerify, RejectsAnOverlongEventId) {
  Request r = StripeVector();
  r.body = R"({"id":")" + std::string(256, 'x') + R"(","type":"t"})";
  r.headers = {{"Stripe-Signature", StripeHeader(kStripeSecret, kStripeT, r.body)}};
  ExpectRejected(r.VerifyAs(Provider::kStripe), ErrorCode::kMalformed, "event id is too long", r);
}

// --- GitHub --------------------------------------------------------------------------------

Request GithubRequest(std::string body) {
  Request r;
  r.body = std::move(body);
  r.secrets = {kGithubSecret};
  r.headers = {{"X-Hub-Signature-256",
                "sha256=" + crypto::HexEncode(crypto::HmacSha256(kGithubSecret, r.body))},
               {"X-GitHub-Event", "issues"},
               {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}};
  return r;
}

TEST(IncomingGithub, DocumentedVectorPassesTheSignatureCheck) {
  Request r = GithubRequest("Hello, World!");
  r.headers[0].second = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  // The vector's body is not JSON: the signature passes and the body is what is refused.
  auto result = r.VerifyAs(Provider::kGithub);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(result.status().message(), "body is not a JSON object");
}

TEST(IncomingGithub, AcceptsAndAppendsTheAction) {
  const Request r = GithubRequest(R"({"action":"opened","issue":{"number":1}})");
  auto event = r.VerifyAs(Provider::kGithub);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->provider_event_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(event->event_type, "issues.opened");
  EXPECT_EQ(event->data.at("issue").as_object().at("number"), 1);
}

TEST(IncomingGithub, TypeIsTheEventAloneWithoutAnAction) {
  Request r = GithubRequest(R"({"zen":"Keep it logically awesome."})");
  r.headers[1].second = "ping";
  auto event = r.VerifyAs(Provider::kGithub);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event_type, "ping");
}

TEST(IncomingGithub, Rejections) {
  const std::string body = R"({"action":"opened"})";
  Request r = GithubRequest(body);
  r.body = R"({"action":"closed"})";
  ExpectRejected(r.VerifyAs(Provider::kGithub), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = GithubRequest(body);
  r.secrets = {"another secret"};
  ExpectRejected(r.VerifyAs(Provider::kGithub), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = GithubRequest(body);
  r.headers.erase(r.headers.begin());
  ExpectRejected(r.VerifyAs(Provider::kGithub), ErrorCode::kUnauthenticated,
                 "missing X-Hub-Signature-256 header", r);

  for (const char* garbage : {"garbage", "sha256=", "sha256=xyz", "sha1=757107ea",
                              "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}) {
    r = GithubRequest(body);
    r.headers[0].second = garbage;
    ExpectRejected(r.VerifyAs(Provider::kGithub), ErrorCode::kUnauthenticated,
                   "malformed X-Hub-Signature-256 header", r);
  }

  r = GithubRequest(body);
  r.headers.pop_back();
  ExpectRejected(r.VerifyAs(Provider::kGithub), ErrorCode::kMalformed,
                 "missing X-GitHub-Delivery header", r);
}

TEST(IncomingGithub, AcceptsTheSecondSecretOfARotation) {
  Request r = GithubRequest(R"({"action":"opened"})");
  r.secrets = {"new secret", kGithubSecret};
  EXPECT_TRUE(r.VerifyAs(Provider::kGithub).ok());
}

// --- Shopify -------------------------------------------------------------------------------

Request ShopifyRequest() {
  Request r;
  r.body = R"({"id":820982911946154508,"email":"jon@example.com"})";
  r.secrets = {"shpss_app_secret"};
  r.headers = {{"X-Shopify-Hmac-Sha256",
                crypto::Base64Encode(crypto::HmacSha256("shpss_app_secret", r.body))},
               {"X-Shopify-Topic", "orders/create"},
               {"X-Shopify-Shop-Domain", "shop.myshopify.com"},
               {"X-Shopify-API-Version", "2024-01"},
               {"X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"}};
  return r;
}

TEST(IncomingShopify, AcceptsABase64Hmac) {
  const Request r = ShopifyRequest();
  auto event = r.VerifyAs(Provider::kShopify);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->provider_event_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
  EXPECT_EQ(event->event_type, "orders/create");
  EXPECT_EQ(event->data.at("email"), "jon@example.com");
}

TEST(IncomingShopify, Rejections) {
  Request r = ShopifyRequest();
  r.body += " ";
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = ShopifyRequest();
  r.secrets = {"wrong"};
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = ShopifyRequest();
  r.headers[0].second = crypto::HexEncode(crypto::HmacSha256("shpss_app_secret", r.body));
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = ShopifyRequest();
  r.headers[0].second = "!!not base64!!";
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kUnauthenticated,
                 "malformed X-Shopify-Hmac-Sha256 header", r);

  r = ShopifyRequest();
  r.headers.erase(r.headers.begin());
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kUnauthenticated,
                 "missing X-Shopify-Hmac-Sha256 header", r);

  r = ShopifyRequest();
  r.headers.pop_back();
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kMalformed,
                 "missing X-Shopify-Webhook-Id header", r);

  r = ShopifyRequest();
  r.headers.erase(r.headers.begin() + 1);
  ExpectRejected(r.VerifyAs(Provider::kShopify), ErrorCode::kMalformed,
                 "missing X-Shopify-Topic header", r);
}

// --- Standard Webhooks -----------------------------------------------------------------------

Request StandardVector() {
  Request r;
  r.body = kStandardBody;
  r.secrets = {kStandardSecret};
  r.headers = {{"webhook-id", kStandardId},
               {"webhook-timestamp", std::to_string(kStandardT)},
               {"webhook-signature", kStandardSig}};
  r.now = TimePoint(seconds(kStandardT));
  return r;
}

TEST(IncomingStandard, AcceptsTheDocumentedVector) {
  const Request r = StandardVector();
  auto event = r.VerifyAs(Provider::kStandard);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->provider_event_id, kStandardId);
  EXPECT_EQ(event->event_type, "webhook");  // the body has no "type"
  EXPECT_EQ(event->data.at("test"), 2432232314);
}

TEST(IncomingStandard, AcceptsAnyOfSeveralSignatures) {
  Request r = StandardVector();
  r.headers[2].second = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,c29tZXRoaW5n " +
                        std::string(kStandardSig) + " v2,abc";
  EXPECT_TRUE(r.VerifyAs(Provider::kStandard).ok());
}

TEST(IncomingStandard, AcceptsASecretWithoutThePrefixAndRotation) {
  Request r = StandardVector();
  r.secrets = {"whsec_dGhlIG5ldyBzZWNyZXQ=", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  EXPECT_TRUE(r.VerifyAs(Provider::kStandard).ok());
}

TEST(IncomingStandard, TypeComesFromTheBody) {
  Request r = StandardVector();
  r.body = R"({"type":"invoice.paid","data":{}})";
  const std::string key = *crypto::Base64Decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  r.headers[2].second =
      "v1," + crypto::Base64Encode(crypto::HmacSha256(
                  key, std::string(kStandardId) + "." + std::to_string(kStandardT) + "." + r.body));
  auto event = r.VerifyAs(Provider::kStandard);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event_type, "invoice.paid");
}

TEST(IncomingStandard, ToleranceHoldsBothWays) {
  Request r = StandardVector();
  for (int64_t skew : {-300, 300}) {
    r.now = TimePoint(seconds(kStandardT + skew));
    EXPECT_TRUE(r.VerifyAs(Provider::kStandard).ok()) << skew;
  }
  for (int64_t skew : {-301, 301, 100000}) {
    r.now = TimePoint(seconds(kStandardT + skew));
    ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                   "webhook-timestamp outside the tolerance", r);
  }
}

TEST(IncomingStandard, Rejections) {
  Request r = StandardVector();
  r.body = R"({"test": 2432232315})";
  ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = StandardVector();
  r.secrets = {"whsec_dGhlIG5ldyBzZWNyZXQ="};
  ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  r = StandardVector();
  r.headers[0].second = "msg_other";  // the id is signed too
  ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                 "no matching signature", r);

  const char* const names[] = {"webhook-id", "webhook-timestamp", "webhook-signature"};
  for (size_t i = 0; i < 3; ++i) {
    r = StandardVector();
    r.headers.erase(r.headers.begin() + static_cast<long>(i));
    ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                   "missing " + std::string(names[i]) + " header", r);
  }

  for (const char* garbage :
       {"", "garbage", "v1", "v1,", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,***"}) {
    r = StandardVector();
    r.headers[2].second = garbage;
    ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                   "no v1 signature in webhook-signature header", r);
  }

  for (const char* garbage : {"", "abc", "1614265330.5", "-1614265330", "99999999999999999999"}) {
    r = StandardVector();
    r.headers[1].second = garbage;
    ExpectRejected(r.VerifyAs(Provider::kStandard), ErrorCode::kUnauthenticated,
                   "malformed webhook-timestamp header", r);
  }
}

// --- Generic HMAC and shared-secret header
// --------------------------------------------------------

TEST(IncomingHmac, AcceptsTheSeed001Vector) {
  Request r;
  r.body = R"({"event":"order.created"})";
  r.secrets = {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
  r.options.signature_header = "X-Webhook-Signature";
  r.headers = {
      {"x-webhook-signature", "a615736db7eef5c7a169f25dc698ff3abf8f58383d13fbefa9d474cee462fe94"}};
  auto event = r.VerifyAs(Provider::kHmac);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event_type, "order.created");
  // No id header configured: identical bodies share an id (the body's SHA-256).
  EXPECT_EQ(event->provider_event_id, crypto::Sha256Hex(r.body));
}

Request HmacSha512Request() {
  Request r;
  r.body = R"({"type":"body.type","x":1})";
  r.secrets = {"s3cr3t"};
  r.options.signature_header = "X-Sig";
  r.options.algorithm = crypto::HashAlgorithm::kSha512;
  r.options.encoding = SourceOptions::Encoding::kBase64;
  r.options.prefix = "sha512=";
  r.options.id_header = "X-Id";
  r.options.type_header = "X-Event";
  r.headers = {{"X-Sig", "sha512=" + crypto::Base64Encode(crypto::Hmac(
                                         crypto::HashAlgorithm::kSha512, "s3cr3t", r.body))},
               {"X-Id", "delivery-42"},
               {"X-Event", "header.type"}};
  return r;
}

TEST(IncomingHmac, UsesConfiguredAlgorithmEncodingPrefixAndHeaders) {
  Request r = HmacSha512Request();
  auto event = r.VerifyAs(Provider::kHmac);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->provider_event_id, "delivery-42");
  EXPECT_EQ(event->event_type, "header.type");

  r.headers.resize(1);  // without the id and type headers: body type, body hash
  event = r.VerifyAs(Provider::kHmac);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event_type, "body.type");
  EXPECT_EQ(event->provider_event_id, crypto::Sha256Hex(r.body));
}

TEST(IncomingHmac, Sha1HexAndTheWebhookTypeFallback) {
  Request r;
  r.body = R"({"a":1})";
  r.secrets = {"k"};
  r.options.signature_header = "X-Sig";
  r.options.algorithm = crypto::HashAlgorithm::kSha1;
  r.headers = {
      {"X-Sig", crypto::HexEncode(crypto::Hmac(crypto::HashAlgorithm::kSha1, "k", r.body))}};
  auto event = r.VerifyAs(Provider::kHmac);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event_type, "webhook");
}

TEST(IncomingHmac, Rejections) {
  Request r = HmacSha512Request();
  r.body = R"({"type":"body.type","x":2})";
  ExpectRejected(r.VerifyAs(Provider::kHmac), ErrorCode::kUnauthenticated, "no matching signature",
                 r);

  r = HmacSha512Request();
  r.options.algorithm = crypto::HashAlgorithm::kSha256;
  ExpectRejected(r.VerifyAs(Provider::kHmac), ErrorCode::kUnauthenticated, "no matching signature",
                 r);

  r = HmacSha512Request();
  r.secrets = {"other"};
  ExpectRejected(r.VerifyAs(Provider::kHmac), ErrorCode::kUnauthenticated, "no matching signature",
                 r);

  r = HmacSha512Request();
  r.options.prefix = "v1=";
  ExpectRejected(r.VerifyAs(Provider::kHmac), ErrorCode::kUnauthenticated, "malformed X-Sig header",
                 r);

  r = HmacSha512Request();
  r.headers[0].second = "sha512=%%%";
  ExpectRejected(r.VerifyAs(Provider::kHmac), ErrorCode::kUnauthenticated, "malformed X-Sig header",
                 r);

  r = HmacSha512Request();
  r.headers.erase(r.headers.begin());
  ExpectRejected(r.VerifyAs(Provider::kHmac), ErrorCode::kUnauthenticated, "missing X-Sig header",
                 r);
}

Request HeaderRequest() {
  Request r;
  r.body = R"({"event":"lead.created"})";
  r.secrets = {"n8n-shared-secret"};
  r.headers = {{"X-Webhook-Secret", "n8n-shared-secret"}};
  return r;
}

TEST(IncomingHeader, AcceptsTheSharedSecret) {
  const Request r = HeaderRequest();
  auto event = r.VerifyAs(Provider::kHeader);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event_type, "lead.created");
  EXPECT_EQ(event->provider_event_id, crypto::Sha256Hex(r.body));
}

TEST(IncomingHeader, AcceptsACustomHeaderAndRotation) {
  Request r = HeaderRequest();
  r.options.secret_header = "Authorization-Token";
  r.secrets = {"old", "n8n-shared-secret"};
  r.headers = {{"authorization-token", "n8n-shared-secret"}};
  EXPECT_TRUE(r.VerifyAs(Provider::kHeader).ok());
}

TEST(IncomingHeader, Rejections) {
  Request r = HeaderRequest();
  r.headers[0].second = "n8n-shared-secreT";
  ExpectRejected(r.VerifyAs(Provider::kHeader), ErrorCode::kUnauthenticated,
                 "secret does not match", r);
  r.headers[0].second = "n8n-shared-secret-and-more";
  ExpectRejected(r.VerifyAs(Provider::kHeader), ErrorCode::kUnauthenticated,
                 "secret does not match", r);
  r.headers = {{"X-Other", "n8n-shared-secret"}};
  ExpectRejected(r.VerifyAs(Provider::kHeader), ErrorCode::kUnauthenticated,
                 "missing X-Webhook-Secret header", r);
}

// --- Options and secrets -------------------------------------------------------------------

boost::json::object Json(std::string_view text) { return boost::json::parse(text).as_object(); }

void ExpectOptionError(Provider provider, std::string_view json, std::string_view field) {
  auto result = ParseSourceOptions(provider, Json(json));
  ASSERT_FALSE(result.ok()) << json;
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument) << json;
  EXPECT_EQ(result.status().field(), field) << json;
  EXPECT_NE(result.status().message().find(field), std::string::npos) << result.status().message();
}

TEST(IncomingOptions, DefaultsAndAcceptedValues) {
  auto stripe = ParseSourceOptions(Provider::kStripe, {});
  ASSERT_TRUE(stripe.ok());
  EXPECT_EQ(stripe->tolerance_s, 300);
  auto standard = ParseSourceOptions(Provider::kStandard, Json(R"({"tolerance_s":600})"));
  ASSERT_TRUE(standard.ok());
  EXPECT_EQ(standard->tolerance_s, 600);

  auto hmac = ParseSourceOptions(Provider::kHmac, Json(R"({"signature_header":"X-Sig",
      "algorithm":"sha512","encoding":"base64","prefix":"sha512=","id_header":"X-Id",
      "type_header":"X-Event"})"));
  ASSERT_TRUE(hmac.ok()) << hmac.status().ToString();
  EXPECT_EQ(hmac->algorithm, crypto::HashAlgorithm::kSha512);
  EXPECT_EQ(hmac->encoding, SourceOptions::Encoding::kBase64);
  EXPECT_EQ(hmac->prefix, "sha512=");

  auto header = ParseSourceOptions(Provider::kHeader, {});
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->secret_header, "X-Webhook-Secret");

  auto apple = ParseSourceOptions(Provider::kApple, Json(R"({"bundle_id":"com.example.app",
      "environment":"Production","app_apple_id":1234})"));
  ASSERT_TRUE(apple.ok()) << apple.status().ToString();
  ASSERT_EQ(apple->root_certificates_pem.size(), 1u);
  EXPECT_EQ(apple->root_certificates_pem[0], kAppleRootCaG3Pem);  // the default root
  EXPECT_EQ(apple->app_apple_id, 1234);
}

TEST(IncomingOptions, Errors) {
  ExpectOptionError(Provider::kStripe, R"({"tolerance":300})", "options.tolerance");
  ExpectOptionError(Provider::kStripe, R"({"tolerance_s":"300"})", "options.tolerance_s");
  ExpectOptionError(Provider::kStripe, R"({"tolerance_s":0})", "options.tolerance_s");
  ExpectOptionError(Provider::kStripe, R"({"tolerance_s":1.5})", "options.tolerance_s");
  ExpectOptionError(Provider::kStripe, R"({"tolerance_s":99999999999999999999})",
                    "options.tolerance_s");
  ExpectOptionError(Provider::kStripe, R"({"bundle_id":"com.x"})", "options.bundle_id");
  ExpectOptionError(Provider::kGithub, R"({"tolerance_s":300})", "options.tolerance_s");
  ExpectOptionError(Provider::kHmac, R"({})", "options.signature_header");
  ExpectOptionError(Provider::kHmac, R"({"signature_header":"X Sig"})", "options.signature_header");
  ExpectOptionError(Provider::kHmac, R"({"signature_header":"X-Sig","algorithm":"md5"})",
                    "options.algorithm");
  ExpectOptionError(Provider::kHmac, R"({"signature_header":"X-Sig","encoding":"base32"})",
                    "options.encoding");
  ExpectOptionError(Provider::kHmac, R"({"signature_header":"X-Sig","prefix":"a b"})",
                    "options.prefix");
  ExpectOptionError(Provider::kHeader, R"({"secret_header":""})", "options.secret_header");
  ExpectOptionError(Provider::kHeader, R"({"secret_header":"X-Secret","algorithm":"sha1"})",
                    "options.algorithm");
  ExpectOptionError(Provider::kApple, R"({})", "options.bundle_id");
  ExpectOptionError(Provider::kApple, R"({"bundle_id":""})", "options.bundle_id");
  ExpectOptionError(Provider::kApple, R"({"bundle_id":"com.x","environment":"Prod"})",
                    "options.environment");
  ExpectOptionError(Provider::kApple, R"({"bundle_id":"com.x","app_apple_id":"1"})",
                    "options.app_apple_id");
  ExpectOptionError(Provider::kApple, R"({"bundle_id":"com.x","app_apple_id":-1})",
                    "options.app_apple_id");
  ExpectOptionError(Provider::kApple, R"({"bundle_id":"com.x","root_certificates":[]})",
                    "options.root_certificates");
  ExpectOptionError(
      Provider::kApple,
      R"({"bundle_id":"com.x","root_certificates":["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]})",
      "options.root_certificates");
  // Two certificates in one entry: the second would be silently ignored.
  boost::json::object twice = Json(R"({"bundle_id":"com.x"})");
  twice["root_certificates"] =
      boost::json::array{std::string(kAppleRootCaG3Pem) + std::string(kAppleRootCaG3Pem)};
  auto result = ParseSourceOptions(Provider::kApple, twice);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().field(), "options.root_certificates");
}

TEST(IncomingOptions, ToJsonRoundTrips) {
  for (
      const auto& [provider, json] : std::vector<std::pair<Provider, std::string>>{
          {Provider::kStripe, R"({"tolerance_s":120})"},
          {Provider::kHmac,
           R"({"signature_header":"X-Sig","algorithm":"sha1","encoding":"base64","prefix":"p=","id_header":"X-Id","type_header":"X-T"})"},
          {Provider::kHeader, R"({"secret_header":"X-S","id_header":"X-Id"})"},
          {Provider::kApple, R"({"bundle_id":"com.x","environment":"Sandbox","app_apple_id":7})"},
      }) {
    auto parsed = ParseSourceOptions(provider, Json(json));
    ASSERT_TRUE(parsed.ok()) << json;
    const boost::json::object out = SourceOptionsToJson(provider, *parsed);
    auto again = ParseSourceOptions(provider, out);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(SourceOptionsToJson(provider, *again), out);
  }
  boost::json::object custom_root = Json(R"({"bundle_id":"com.x"})");
  custom_root["root_certificates"] = boost::json::array{std::string(kAppleRootCaG3Pem) + "\n"};
  auto parsed = ParseSourceOptions(Provider::kApple, custom_root);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(SourceOptionsToJson(Provider::kApple, *parsed).contains("root_certificates"));
}

TEST(IncomingSecrets, Validation) {
  EXPECT_TRUE(ValidateSecrets(Provider::kStripe, {"whsec_abc"}).ok());
  EXPECT_TRUE(
      ValidateSecrets(Provider::kStandard, {kStandardSecret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
          .ok());
  EXPECT_TRUE(ValidateSecrets(Provider::kApple, {}).ok());
  EXPECT_TRUE(ValidateSecrets(Provider::kGithub, {"a", "b", "c", "d", "e"}).ok());

  const std::vector<std::pair<Provider, std::vector<std::string>>> bad = {
      {Provider::kStripe, {"sk_test_123"}},
      {Provider::kStripe, {}},
      {Provider::kGithub, {"a", "b", "c", "d", "e", "f"}},
      {Provider::kGithub, {""}},
      {Provider::kGithub, {std::string(1025, 'x')}},
      {Provider::kHmac, {"tab\there"}},
      {Provider::kStandard, {"whsec_***"}},
      {Provider::kStandard, {"whsec_"}},
      {Provider::kHeader, {" padded"}},
  };
  for (const auto& [provider, secrets] : bad) {
    const Status status = ValidateSecrets(provider, secrets);
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << ProviderName(provider);
    EXPECT_EQ(status.field(), "secrets");
    for (const std::string& secret : secrets) {
      if (secret.size() > 6) {  // shorter ones ("whsec_") are words of the message itself
        EXPECT_EQ(status.message().find(secret), std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace ulak::incoming
