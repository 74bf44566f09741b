// Runs the Store conformance suite against the PostgreSQL store, one fresh database per
// test on a throwaway cluster shared by the test binary (support/postgres_cluster.h); then
// what only a shared server can show: concurrent migrations and publishes from several
// stores (nodes), raw bytes, and a server that goes away and comes back.
#include <libpq-fe.h>

#include <atomic>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"
#include "store/migration.h"
#include "store/postgres/postgres_store.h"
#include "support/postgres_cluster.h"

namespace ulak::store::testing {
namespace {

using ulak::testing::PostgresCluster;

// A fresh database's connection string, or a test failure saying why there is none.
std::string NewDatabase() {
  Result<PostgresCluster*> cluster = PostgresCluster::Shared();
  if (!cluster.ok()) {
    ADD_FAILURE() << "no PostgreSQL test cluster: " << cluster.status().message();
    return "";
  }
  Result<std::string> conninfo = (*cluster)->CreateDatabase();
  if (!conninfo.ok()) {
    ADD_FAILURE() << conninfo.status().message();
    return "";
  }
  return *conninfo;
}

std::unique_ptr<Store> OpenMigrated(const std::string& conninfo) {
  if (conninfo.empty()) return nullptr;
  Result<std::unique_ptr<Store>> store = OpenStore(conninfo);
  if (!store.ok()) {
    ADD_FAILURE() << "OpenStore: " << store.status().ToString();
    return nullptr;
  }
  if (Status s = (*store)->Migrate(); !s.ok()) {
    ADD_FAILURE() << "Migrate: " << s.ToString();
    return nullptr;
  }
  return std::move(store).value();
}

StoreFactory PostgresFactory() {
  return {"postgres", [] { return OpenMigrated(NewDatabase()); },
          [](Store& store, const std::string& sql) {
            return dynamic_cast<postgres::PostgresStore&>(store).ExecForTest(sql);
          }};
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest, ::testing::Values(PostgresFactory()),
                         [](const auto& info) { return info.param.name; });

// Runs one query outside the store and returns the first column of the first row.
std::string QueryValue(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string value;
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) value = PQgetvalue(res, 0, 0);
    else ADD_FAILURE() << sql << ": " << PQresultErrorMessage(res);
    PQclear(res);
  } else {
    ADD_FAILURE() << PQerrorMessage(conn);
  }
  PQfinish(conn);
  return value;
}

class PostgresTest : public ::testing::Test {
 protected:
  Organization NewOrg(Store& store) {
    Organization org{Id(), "org", clock_.Now()};
    EXPECT_TRUE(store.CreateOrganization(org, ApiKey{Id(), org.id, "hash-" + org.id, "ulak_x", clock_.Now()}).ok());
    return org;
  }
  std::string Id() {
    clock_.Advance(Millis(1));
    return NewId(clock_, random_);
  }
  ManualClock clock_;
  SeededRandomForTest random_{7};
};

TEST_F(PostgresTest, ConcurrentMigrateFromThreeStoresAppliesEachVersionOnce) {
  const std::string conninfo = NewDatabase();
  ASSERT_FALSE(conninfo.empty());
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 3; ++i) {
    Result<std::unique_ptr<Store>> s = OpenStore(conninfo);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stores.push_back(std::move(s).value());
  }
  std::vector<Status> results(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&, i] { results[i] = stores[i]->Migrate(); });
  for (auto& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();

  const auto& migrations = PostgresMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(QueryValue(conninfo, "SELECT COUNT(*) FROM schema_migrations"), std::to_string(migrations.size()));
  EXPECT_EQ(QueryValue(conninfo, "SELECT COUNT(DISTINCT version) FROM schema_migrations"),
            std::to_string(migrations.size()));
  for (auto& s : stores) EXPECT_EQ(*s->SchemaVersion(), migrations.back().version);
}

TEST_F(PostgresTest, EmptyDatabaseHasSchemaVersionZero) {
  const std::string conninfo = NewDatabase();
  Result<std::unique_ptr<Store>> store = OpenStore(conninfo);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->SchemaVersion(), 0);
}

TEST_F(PostgresTest, OpenStoreAcceptsUrisAndKeyValueStrings) {
  const std::string conninfo = NewDatabase();
  ASSERT_FALSE(conninfo.empty());
  const std::string socket_dir = (*PostgresCluster::Shared())->socket_dir();
  const std::string dbname = conninfo.substr(conninfo.rfind('=') + 1);
  std::string encoded_dir;
  for (char c : socket_dir) encoded_dir += c == '/' ? std::string("%2F") : std::string(1, c);
  for (const std::string& url :
       {"postgres://postgres@" + encoded_dir + ":5432/" + dbname,
        "postgresql:///" + dbname + "?host=" + socket_dir + "&user=postgres",
        "host=" + socket_dir + " user=postgres dbname=" + dbname,
        "dbname=" + dbname + " host=" + socket_dir + " user=postgres"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url);
    ASSERT_TRUE(store.ok()) << url << ": " << store.status().ToString();
    EXPECT_TRUE((*store)->Ping().ok()) << url;
  }
}

TEST_F(PostgresTest, BadConnectionStringIsInvalidAndUnreachableServerIsUnavailable) {
  EXPECT_EQ(OpenStore("host=/tmp nonsense").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("postgresql://x/y?no_such_option=1").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("host=/nonexistent/ulak port=5432 user=postgres dbname=x").status().code(),
            ErrorCode::kUnavailable);
}

TEST_F(PostgresTest, ConstraintViolationsMapToStoreErrors) {
  std::unique_ptr<Store> store = OpenMigrated(NewDatabase());
  ASSERT_NE(store, nullptr);
  // Foreign key: a key for an organization that does not exist.
  EXPECT_EQ(store->CreateApiKey(ApiKey{Id(), Id(), "h", "p", clock_.Now()}).code(), ErrorCode::kNotFound);
  // Unique: the same key hash twice.
  Organization org = NewOrg(*store);
  EXPECT_EQ(store->CreateApiKey(ApiKey{Id(), org.id, "hash-" + org.id, "p", clock_.Now()}).code(),
            ErrorCode::kAlreadyExists);
  // A NUL in text would be cut silently by libpq; it is refused instead.
  Webhook w;
  w.id = Id();
  w.organization_id = org.id;
  w.name = std::string("bad\0name", 8);
  w.events_json = "[]";
  w.custom_headers_json = "{}";
  w.retry_policy_json = "{}";
  EXPECT_EQ(store->CreateWebhook(w).code(), ErrorCode::kInvalidArgument);
  // The failed calls left their connections usable.
  EXPECT_TRUE(store->Ping().ok());
}

TEST_F(PostgresTest, RawBytesRoundTripThroughEventsAttemptsAndIncoming) {
  std::unique_ptr<Store> store = OpenMigrated(NewDatabase());
  ASSERT_NE(store, nullptr);
  Organization org = NewOrg(*store);
  const std::string raw("a\0b\xff\xfe\x80z", 7);  // NUL and invalid UTF-8

  Webhook w;
  w.id = Id();
  w.organization_id = org.id;
  w.name = "hook";
  w.url = "https://example.com";
  w.secret_key = std::string(64, 'a');
  w.events_json = "[]";
  w.custom_headers_json = "{}";
  w.retry_policy_json = "{}";
  w.created_at = w.updated_at = clock_.Now();
  ASSERT_TRUE(store->CreateWebhook(w).ok());

  Source src;
  src.id = Id();
  src.organization_id = org.id;
  src.name = "s";
  src.provider = "stripe";
  src.secrets_json = "[]";
  src.options_json = "{}";
  src.event_map_json = "[]";
  src.created_at = src.updated_at = clock_.Now();
  ASSERT_TRUE(store->CreateSource(src).ok());

  PublishRequest p;
  p.event = Event{Id(), org.id, "t", "", raw, 0, clock_.Now()};
  Delivery d;
  d.id = Id();
  d.event_id = p.event.id;
  d.webhook_id = w.id;
  d.organization_id = org.id;
  p.deliveries.push_back(d);
  IncomingRequest in;
  in.id = Id();
  in.source_id = src.id;
  in.organization_id = org.id;
  in.body = raw;
  in.headers_json = raw;
  p.incoming = in;
  Result<std::vector<PublishResult>> published = store->Publish({p});
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(store->GetEvent(org.id, p.event.id)->payload, raw);
  Result<std::vector<PendingDelivery>> pending = store->ListPendingDeliveries("", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(*(*pending)[0].payload, raw);

  AttemptOutcome o;
  o.attempt.id = Id();
  o.attempt.delivery_id = d.id;
  o.attempt.organization_id = org.id;
  o.attempt.webhook_id = w.id;
  o.attempt.response_body = raw;
  o.attempt.created_at = clock_.Now();
  o.delivery_status = DeliveryStatus::kFailed;
  ASSERT_TRUE(store->RecordOutcomes({o}).ok());
  AttemptFilter filter;
  filter.organization_id = org.id;
  Result<AttemptLog> log = store->ListAttemptsWithStats(filter);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->attempts.size(), 1u);
  EXPECT_EQ(log->attempts[0].response_body, raw);
  EXPECT_EQ(log->attempts[0].request_body, raw);
  EXPECT_EQ(log->stats.failed, 1);

  IncomingFilter incoming;
  incoming.organization_id = org.id;
  Result<std::vector<IncomingRequest>> rows = store->ListIncoming(incoming);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].body, raw);
  EXPECT_EQ((*rows)[0].headers_json, raw);
}

// Two nodes publishing the same event_id at once: the unique index makes one win, and both
// answer with the winner's event.
TEST_F(PostgresTest, ConcurrentPublishesOfOneEventIdFromTwoStoresAgreeOnTheFirstEvent) {
  const std::string conninfo = NewDatabase();
  std::unique_ptr<Store> a = OpenMigrated(conninfo);
  std::unique_ptr<Store> b = OpenMigrated(conninfo);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Organization org = NewOrg(*a);
  for (int round = 0; round < 20; ++round) {
    const std::string key = "order-" + std::to_string(round);
    PublishRequest ra;
    ra.event = Event{Id(), org.id, "t", key, "{}", 0, clock_.Now()};
    PublishRequest rb = ra;
    rb.event.id = Id();
    std::atomic<int> ready{0};
    Result<std::vector<PublishResult>> got_a = Internal("not run");
    Result<std::vector<PublishResult>> got_b = Internal("not run");
    auto run = [&](Store& s, const PublishRequest& r, Result<std::vector<PublishResult>>& out) {
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
      out = s.Publish({r});
    };
    std::thread ta([&] { run(*a, ra, got_a); });
    std::thread tb([&] { run(*b, rb, got_b); });
    ta.join();
    tb.join();
    ASSERT_TRUE(got_a.ok()) << got_a.status().ToString();
    ASSERT_TRUE(got_b.ok()) << got_b.status().ToString();
    EXPECT_EQ((*got_a)[0].event.id, (*got_b)[0].event.id);
    EXPECT_NE((*got_a)[0].duplicate, (*got_b)[0].duplicate);
  }
  EXPECT_EQ(QueryValue(conninfo, "SELECT COUNT(*) FROM events"), "20");
}

TEST_F(PostgresTest, TerminatedSessionsAreReplacedTransparently) {
  const std::string conninfo = NewDatabase();
  std::unique_ptr<Store> store = OpenMigrated(conninfo);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Ping().ok());
  const std::string dbname = conninfo.substr(conninfo.rfind('=') + 1);
  // What an administrator (or a failover) does to idle sessions.
  EXPECT_NE(QueryValue(conninfo, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = '" + dbname + "' AND pid <> pg_backend_pid()"),
            "0");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the goodbye reaches the socket
  EXPECT_TRUE(store->Ping().ok());
  EXPECT_TRUE(NewOrg(*store).id.size() > 0);
}

// Crashes the shared server and starts it again: the test restores it itself, so tests
// after it find the server running.
TEST_F(PostgresTest, ServerRestartIsSurvivedAndCallsFailFastWhileItIsDown) {
  Result<PostgresCluster*> cluster = PostgresCluster::Shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status().message();
  std::unique_ptr<Store> store = OpenMigrated(NewDatabase());
  ASSERT_NE(store, nullptr);
  Organization org = NewOrg(*store);
  ASSERT_TRUE(store->Ping().ok());

  ASSERT_TRUE((*cluster)->StopForTest().ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(store->Ping().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store->GetOrganization(org.id).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store->Publish({}).status().code(), ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  Status started = (*cluster)->StartForTest();
  ASSERT_TRUE(started.ok()) << started.message();
  EXPECT_TRUE(store->Ping().ok());
  Result<Organization> got = store->GetOrganization(org.id);  // committed before the crash
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "org");
  EXPECT_TRUE(NewOrg(*store).id.size() > 0);
}

}  // namespace
}  // namespace ulak::store::testing

namespace ulak::store::testing {
namespace {

// Issue 16: only one node prunes at a time. While another session holds the pruning
// advisory lock, a batch returns busy at once and deletes nothing.
TEST(PostgresRetentionTest, PruneBatchIsBusyWhileAnotherNodePrunes) {
  const std::string conninfo = NewDatabase();
  std::unique_ptr<Store> store = OpenMigrated(conninfo);
  ASSERT_NE(store, nullptr);
  PGconn* other = PQconnectdb(conninfo.c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  PGresult* held = PQexec(other, "SELECT pg_advisory_lock(1970037099, 2)");
  ASSERT_EQ(PQresultStatus(held), PGRES_TUPLES_OK);
  PQclear(held);
  PruneRequest req;
  req.organization_id = "any";
  req.before = TimePoint(std::chrono::seconds(1'700'000'000));
  Result<PruneResult> busy = store->PruneBatch(req);
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  EXPECT_TRUE(busy->busy);
  PGresult* released = PQexec(other, "SELECT pg_advisory_unlock(1970037099, 2)");  // the other node is done
  PQclear(released);
  PQfinish(other);
  Result<PruneResult> free = store->PruneBatch(req);
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_FALSE(free->busy);
}

}  // namespace
}  // namespace ulak::store::testing

namespace ulak::store::testing {
namespace {

// Issue 16: an ordered webhook's line is held by one node at a time. Its deliveries are
// claimed oldest first, all by the node that holds the line, and by another node only once
// that node's leases ran out.
TEST(PostgresOrderedClaimTest, OneNodeHoldsAnOrderedWebhooksLine) {
  std::unique_ptr<Store> store = OpenMigrated(NewDatabase());
  ASSERT_NE(store, nullptr);
  ManualClock clock;
  SeededRandomForTest random{1525};
  auto id = [&] {
    clock.Advance(Millis(1));
    return NewId(clock, random);
  };
  Organization org{id(), "org", clock.Now()};
  ASSERT_TRUE(store->CreateOrganization(org, ApiKey{id(), org.id, "h", "p", clock.Now()}).ok());
  Webhook w;
  w.id = id();
  w.organization_id = org.id;
  w.name = "fifo";
  w.url = "https://example.com";
  w.secret_key = std::string(64, 'a');
  w.events_json = R"(["*"])";
  w.custom_headers_json = "{}";
  w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
  w.ordered = true;
  w.created_at = w.updated_at = clock.Now();
  ASSERT_TRUE(store->CreateWebhook(w).ok());
  auto publish = [&](int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      PublishRequest p;
      p.event = Event{id(), org.id, "order.created", "", "{}", 1, clock.Now()};
      Delivery d;
      d.id = id();
      d.event_id = p.event.id;
      d.webhook_id = w.id;
      d.organization_id = org.id;
      d.next_attempt_at = d.created_at = clock.Now();
      p.deliveries.push_back(d);
      ids.push_back(d.id);
      EXPECT_TRUE(store->Publish({p}).ok());
    }
    return ids;
  };
  auto claim = [&](const std::string& node) {
    std::vector<std::string> ids;
    Result<std::vector<PendingDelivery>> claimed =
        store->ClaimDueDeliveries(node, clock.Now(), clock.Now() + std::chrono::seconds(30), 100);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    if (claimed.ok()) {
      for (const PendingDelivery& p : *claimed) ids.push_back(p.delivery.id);
    }
    return ids;
  };
  const std::vector<std::string> first = publish(3);
  EXPECT_EQ(claim("node-a"), first);  // the whole line, oldest first
  EXPECT_TRUE(claim("node-b").empty());
  const std::vector<std::string> more = publish(2);
  EXPECT_TRUE(claim("node-b").empty()) << "node b took part of a line node a holds";
  EXPECT_EQ(claim("node-a"), more);
  // Node a dies: once its leases ran out, node b takes the whole line, in order.
  clock.Advance(std::chrono::seconds(31));
  std::vector<std::string> all = first;
  all.insert(all.end(), more.begin(), more.end());
  EXPECT_EQ(claim("node-b"), all);
  EXPECT_TRUE(claim("node-a").empty());
}

}  // namespace
}  // namespace ulak::store::testing
