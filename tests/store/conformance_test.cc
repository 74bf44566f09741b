#include "store/conformance.h"

#include "common/clock.h"
#include "common/ids.h"

namespace ulak::store::testing {
namespace {

class Fixture {
 public:
  Organization Org(std::string name) {
    clock_.Advance(Millis(1));
    return Organization{NewId(clock_, random_), std::move(name), clock_.Now()};
  }
  ApiKey Key(const std::string& org_id, std::string hash) {
    clock_.Advance(Millis(1));
    return ApiKey{NewId(clock_, random_), org_id, std::move(hash), "ulak_abcdef", clock_.Now()};
  }
  ManualClock clock_;
  SeededRandomForTest random_{42};
};

TEST_P(StoreConformanceTest, MigrateIsIdempotentAndReportsVersion) {
  ASSERT_TRUE(store_->Migrate().ok());
  Result<int> v1 = store_->SchemaVersion();
  ASSERT_TRUE(v1.ok());
  EXPECT_GE(*v1, 1);
  ASSERT_TRUE(store_->Migrate().ok());
  EXPECT_EQ(*store_->SchemaVersion(), *v1);
}

TEST_P(StoreConformanceTest, PingSucceeds) { EXPECT_TRUE(store_->Ping().ok()); }

TEST_P(StoreConformanceTest, CreatedOrganizationCanBeReadBack) {
  Fixture f;
  Organization org = f.Org("Acme");
  ASSERT_TRUE(store_->CreateOrganization(org, f.Key(org.id, "h1")).ok());
  Result<Organization> got = store_->GetOrganization(org.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, org.id);
  EXPECT_EQ(got->name, "Acme");
  EXPECT_EQ(ToUnixMillis(got->created_at), ToUnixMillis(org.created_at));
}

TEST_P(StoreConformanceTest, UnknownOrganizationIsNotFound) {
  Fixture f;
  Result<Organization> got = store_->GetOrganization(f.Org("x").id);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, CreateOrganizationIsAtomicWhenItsKeyConflicts) {
  Fixture f;
  Organization a = f.Org("A");
  ASSERT_TRUE(store_->CreateOrganization(a, f.Key(a.id, "same-hash")).ok());
  Organization b = f.Org("B");
  Status s = store_->CreateOrganization(b, f.Key(b.id, "same-hash"));
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists);
  // The organization insert was rolled back with its key.
  EXPECT_EQ(store_->GetOrganization(b.id).status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, DuplicateOrganizationIdIsAlreadyExists) {
  Fixture f;
  Organization a = f.Org("A");
  ASSERT_TRUE(store_->CreateOrganization(a, f.Key(a.id, "h1")).ok());
  EXPECT_EQ(store_->CreateOrganization(a, f.Key(a.id, "h2")).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->FindApiKeyByHash("h2").status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, OrganizationsArePaginatedInCreationOrder) {
  Fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    Organization org = f.Org("org" + std::to_string(i));
    ASSERT_TRUE(store_->CreateOrganization(org, f.Key(org.id, "h" + std::to_string(i))).ok());
    ids.push_back(org.id);
  }
  std::vector<std::string> seen;
  PageRequest page{2, ""};
  for (int guard = 0; guard < 10; ++guard) {
    Result<Page<Organization>> p = store_->ListOrganizations(page);
    ASSERT_TRUE(p.ok());
    EXPECT_LE(p->items.size(), 2u);
    for (const auto& o : p->items) seen.push_back(o.id);
    if (p->next_cursor.empty()) break;
    page.after = p->next_cursor;
  }
  EXPECT_EQ(seen, ids);
}

TEST_P(StoreConformanceTest, ExactlyFullLastPageHasNoNextCursor) {
  Fixture f;
  for (int i = 0; i < 2; ++i) {
    Organization org = f.Org("o");
    ASSERT_TRUE(store_->CreateOrganization(org, f.Key(org.id, "k" + std::to_string(i))).ok());
  }
  Result<Page<Organization>> p = store_->ListOrganizations(PageRequest{2, ""});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->items.size(), 2u);
  EXPECT_TRUE(p->next_cursor.empty());
}

TEST_P(StoreConformanceTest, ApiKeyIsFoundByHashAndDeletedOnlyByItsOrganization) {
  Fixture f;
  Organization a = f.Org("A");
  Organization b = f.Org("B");
  ApiKey ka = f.Key(a.id, "hash-a");
  ASSERT_TRUE(store_->CreateOrganization(a, ka).ok());
  ASSERT_TRUE(store_->CreateOrganization(b, f.Key(b.id, "hash-b")).ok());

  Result<ApiKey> found = store_->FindApiKeyByHash("hash-a");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, ka.id);
  EXPECT_EQ(found->organization_id, a.id);
  EXPECT_EQ(found->prefix, "ulak_abcdef");

  EXPECT_EQ(store_->DeleteApiKey(b.id, ka.id).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindApiKeyByHash("hash-a").ok());
  EXPECT_TRUE(store_->DeleteApiKey(a.id, ka.id).ok());
  EXPECT_EQ(store_->FindApiKeyByHash("hash-a").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteApiKey(a.id, ka.id).code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ApiKeysAreListedPerOrganization) {
  Fixture f;
  Organization a = f.Org("A");
  Organization b = f.Org("B");
  ASSERT_TRUE(store_->CreateOrganization(a, f.Key(a.id, "a1")).ok());
  ASSERT_TRUE(store_->CreateOrganization(b, f.Key(b.id, "b1")).ok());
  ASSERT_TRUE(store_->CreateApiKey(f.Key(a.id, "a2")).ok());
  Result<Page<ApiKey>> keys = store_->ListApiKeys(a.id, PageRequest{50, ""});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->items.size(), 2u);
  for (const auto& k : keys->items) EXPECT_EQ(k.organization_id, a.id);
}

TEST_P(StoreConformanceTest, ApiKeyForUnknownOrganizationIsRejected) {
  Fixture f;
  Status s = store_->CreateApiKey(f.Key(f.Org("ghost").id, "h"));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(store_->FindApiKeyByHash("h").status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, SettingIsSetOnceAndKept) {
  Result<std::optional<std::string>> none = store_->GetSetting("admin_key_hash");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Result<std::string> first = store_->PutSettingIfAbsent("admin_key_hash", "one");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "one");
  Result<std::string> second = store_->PutSettingIfAbsent("admin_key_hash", "two");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "one");
  EXPECT_EQ(store_->GetSetting("admin_key_hash")->value_or(""), "one");
}

}  // namespace
}  // namespace ulak::store::testing
