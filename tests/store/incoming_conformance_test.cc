// Conformance: incoming sources and the incoming request log.
#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"

namespace ulak::store::testing {
namespace {

class IncomingFixture {
 public:
  explicit IncomingFixture(Store& store) : store_(store) {}
  std::string Id() {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  }
  std::string NewOrg() {
    Organization org{Id(), "org", clock.Now()};
    EXPECT_TRUE(store_.CreateOrganization(org, {Id(), org.id, "h" + org.id, "p", clock.Now()}).ok());
    return org.id;
  }
  Source NewSource(const std::string& org, const std::string& provider, bool is_default) {
    Source s;
    s.id = Id();
    s.organization_id = org;
    s.name = "src";
    s.provider = provider;
    s.secrets_json = R"(["whsec_a"])";
    s.options_json = "{}";
    s.event_map_json = "[]";
    s.default_for_provider = is_default;
    s.created_at = s.updated_at = clock.Now();
    return s;
  }
  IncomingRequest Request(const Source& s, const std::string& provider_id) {
    IncomingRequest r;
    r.id = Id();
    r.source_id = s.id;
    r.organization_id = s.organization_id;
    r.provider_event_id = provider_id;
    r.event_type = "customer.subscription.updated";
    r.body = R"({"id":")" + provider_id + R"("})";
    r.headers_json = "{}";
    r.created_at = clock.Now();
    return r;
  }
  ManualClock clock;
  SeededRandomForTest random{5};

 private:
  Store& store_;
};

TEST_P(StoreConformanceTest, SourcesRoundTripWithOneDefaultPerProvider) {
  IncomingFixture f(*store_);
  const std::string org = f.NewOrg();
  Source a = f.NewSource(org, "stripe", true);
  ASSERT_TRUE(store_->CreateSource(a).ok());
  EXPECT_EQ(store_->CreateSource(f.NewSource(org, "stripe", true)).code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(store_->CreateSource(f.NewSource(org, "stripe", false)).ok());
  ASSERT_TRUE(store_->CreateSource(f.NewSource(org, "apple", true)).ok());
  EXPECT_EQ(store_->GetDefaultSource("stripe")->id, a.id);
  EXPECT_EQ(store_->GetSource(org, a.id)->secrets_json, R"(["whsec_a"])");
  EXPECT_EQ(store_->GetSource(f.NewOrg(), a.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListSources(org, PageRequest{50, ""})->items.size(), 3u);
  EXPECT_EQ(store_->ListAllSources("")->size(), 3u);

  a.secrets_json = R"(["whsec_a","whsec_b"])";
  ASSERT_TRUE(store_->UpdateSource(a).ok());
  EXPECT_EQ(store_->GetSource(org, a.id)->secrets_json, R"(["whsec_a","whsec_b"])");
  ASSERT_TRUE(store_->DeleteSource(org, a.id, f.clock.Now()).ok());
  EXPECT_EQ(store_->GetDefaultSource("stripe").status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->CreateSource(f.NewSource(org, "stripe", true)).ok());  // the default is free again
}

TEST_P(StoreConformanceTest, VerifiedRequestIsStoredWithItsEventAndRepeatsAreDuplicates) {
  IncomingFixture f(*store_);
  const std::string org = f.NewOrg();
  Source s = f.NewSource(org, "stripe", false);
  ASSERT_TRUE(store_->CreateSource(s).ok());
  auto publish = [&](const std::string& provider_id) {
    PublishRequest p;
    p.event.id = f.Id();
    p.event.organization_id = org;
    p.event.event_type = "subscription_changed";
    p.event.event_id = provider_id;
    p.event.payload = "{}";
    p.event.created_at = f.clock.Now();
    p.incoming = f.Request(s, provider_id);
    return p;
  };
  Result<std::vector<PublishResult>> r = store_->Publish({publish("evt_1"), publish("evt_1")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE((*r)[0].duplicate);
  EXPECT_TRUE((*r)[1].duplicate);

  IncomingRequest rejected = f.Request(s, "");
  rejected.reason = "no matching signature";
  ASSERT_TRUE(store_->RecordRejected(rejected).ok());
  EXPECT_EQ(store_->GetSource(org, s.id)->rejected_count, 1);

  IncomingFilter filter;
  filter.organization_id = org;
  Result<std::vector<IncomingRequest>> all = store_->ListIncoming(filter);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].status, IncomingStatus::kRejected);  // newest first
  EXPECT_TRUE((*all)[0].body.empty());                     // a rejected body is never kept
  EXPECT_EQ((*all)[0].reason, "no matching signature");
  EXPECT_EQ((*all)[1].status, IncomingStatus::kDuplicate);
  EXPECT_EQ((*all)[2].status, IncomingStatus::kAccepted);
  EXPECT_EQ((*all)[2].event_id, (*r)[0].event.id);
  EXPECT_EQ((*all)[1].event_id, (*r)[0].event.id);
  filter.status = IncomingStatus::kAccepted;
  EXPECT_EQ(store_->ListIncoming(filter)->size(), 1u);
}

// Issue 17: an accepted body is stored once (the event's payload holds its JSON; the request
// row only the sender's whitespace), and every body reads back byte for byte as received:
// pretty-printed, compact, one the payload cannot rebuild, and a repeat's.
TEST_P(StoreConformanceTest, AcceptedBodyIsStoredOnceAndReadBackByteForByte) {
  IncomingFixture f(*store_);
  const std::string org = f.NewOrg();
  Source s = f.NewSource(org, "stripe", false);
  ASSERT_TRUE(store_->CreateSource(s).ok());
  auto publish = [&](const std::string& provider_id, const std::string& data, const std::string& body) {
    PublishRequest p;
    p.event.id = f.Id();
    p.event.organization_id = org;
    p.event.event_type = "invoice.paid";
    p.event.event_id = provider_id;
    p.event.payload = R"({"event":"invoice.paid","timestamp":"2026-01-01T00:00:00.000Z","organization_id":")" + org +
                      R"(","data":)" + data + R"(,"metadata":{"provider_event_id":")" + provider_id + R"("}})";
    p.event.created_at = f.clock.Now();
    p.incoming = f.Request(s, provider_id);
    p.incoming->body = body;
    return p;
  };
  const std::string pretty = "{\n  \"id\": \"evt_p\",\n  \"data\": {\n    \"object\": {\n      \"amount\": 2900,\n"
                             "      \"note\": \"a  b\\n\",\n      \"items\": []\n    }\n  }\n}\n";
  const std::string pretty_data = R"({"id":"evt_p","data":{"object":{"amount":2900,"note":"a  b\n","items":[]}}})";
  const std::string compact = R"({"id":"evt_c","n":1})";
  const std::string other = "{\"id\": \"evt_o\", \"n\": 1.50}";  // the payload says 1.5: stored whole
  const std::string repeat = "{\"id\":\"evt_p\",  \"data\":{}}";   // a repeat with another body
  Result<std::vector<PublishResult>> first = store_->Publish(
      {publish("evt_p", pretty_data, pretty), publish("evt_c", compact, compact),
       publish("evt_o", R"({"id":"evt_o","n":1.5})", other)});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<std::vector<PublishResult>> again = store_->Publish({publish("evt_p", "{}", repeat)});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);

  IncomingFilter filter;
  filter.organization_id = org;
  Result<std::vector<IncomingRequest>> rows = store_->ListIncoming(filter);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].body, repeat);
  EXPECT_EQ((*rows)[0].status, IncomingStatus::kDuplicate);
  EXPECT_EQ((*rows)[1].body, other);
  EXPECT_EQ((*rows)[2].body, compact);
  EXPECT_EQ((*rows)[3].body, pretty);
  filter.source_id = s.id;
  filter.status = IncomingStatus::kAccepted;
  filter.before = (*rows)[1].id;
  rows = store_->ListIncoming(filter);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].body, compact);
  EXPECT_EQ((*rows)[1].body, pretty);

  // Stored once: the two bodies the payload rebuilds left their `body` empty (a store without
  // SQL access for tests skips this).
  if (!GetParam().exec_sql) return;
  ASSERT_TRUE(GetParam().exec_sql(*store_, "DELETE FROM incoming_requests WHERE body_delta IS NOT NULL "
                                           "AND length(body) = 0").ok());
  filter = IncomingFilter{};
  filter.organization_id = org;
  rows = store_->ListIncoming(filter);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].body, repeat);
  EXPECT_EQ((*rows)[1].body, other);
}

}  // namespace
}  // namespace ulak::store::testing
