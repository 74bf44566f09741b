// Migration 0013 (issue 17: an accepted request's body stored once, events de-duplicated by
// a compact key): requests written by the schema before it keep their whole body in `body`
// and read back byte for byte after it, on both stores; requests accepted after it are
// stored as a delta and read back alike; an event written before it is still found by its
// producer's id.
#include <libpq-fe.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "store/migration.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "support/postgres_cluster.h"
#include "support/temp_dir.h"

namespace ulak::store::testing {
namespace {

constexpr int kBefore = 12;  // the last migration before 0013

// Rows as a v12 ulak wrote them: an accepted Stripe request (pretty-printed, as Stripe sends
// it) with its event, a repeat of it, and a rejected request. $ORG etc. are replaced.
constexpr char kOldRows[] = R"SQL(
INSERT INTO organizations(id, name, created_at) VALUES ('$ORG', 'old', 1000);
INSERT INTO sources(id, organization_id, name, provider, secrets, options, event_map, default_for_provider,
  is_active, rejected_count, created_at, updated_at)
  VALUES ('$SRC', '$ORG', 'stripe', 'stripe', '[]', '{}', '[]', $FALSE, $TRUE, 1, 1000, 1000);
INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at)
  VALUES ('$EVT', '$ORG', 'invoice.paid', 'evt_old', $PAYLOAD, 0, 1000);
INSERT INTO incoming_requests(id, source_id, organization_id, status, provider_event_id, event_type, event_id,
  body, headers, reason, created_at) VALUES
  ('$R1', '$SRC', '$ORG', 'accepted', 'evt_old', 'invoice.paid', '$EVT', $BODY, $HEADERS, '', 1000),
  ('$R2', '$SRC', '$ORG', 'duplicate', 'evt_old', 'invoice.paid', '$EVT', $BODY, $HEADERS, '', 1001),
  ('$R3', '$SRC', '$ORG', 'rejected', '', '', NULL, $EMPTY, $HEADERS, 'no matching Stripe signature', 1002);
)SQL";

const std::string kBody = "{\n  \"id\": \"evt_old\",\n  \"type\": \"invoice.paid\",\n  \"amount\": 2900\n}\n";
const std::string kHeaders = R"({"stripe-signature":"t=1,v1=ab"})";

std::string Replace(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

class IncomingMigrationTest : public ::testing::Test {
 protected:
  std::string Id() {
    clock_.Advance(Millis(1));
    return NewId(clock_, random_);
  }
  // The ids and JSON of the old rows; blob(text) quotes bytes for the dialect.
  std::map<std::string, std::string> Values(const std::function<std::string(const std::string&)>& blob,
                                            const std::string& false_, const std::string& true_) {
    org_ = Id();
    source_ = Id();
    event_ = Id();
    ids_ = {Id(), Id(), Id()};
    const std::string payload =
        R"({"event":"invoice.paid","timestamp":"1970-01-01T00:00:01.000Z","organization_id":")" + org_ +
        R"(","data":{"id":"evt_old","type":"invoice.paid","amount":2900},"metadata":{}})";
    return {{"$ORG", org_},       {"$SRC", source_},          {"$EVT", event_},
            {"$R1", ids_[0]},     {"$R2", ids_[1]},           {"$R3", ids_[2]},
            {"$FALSE", false_},   {"$TRUE", true_},           {"$PAYLOAD", blob(payload)},
            {"$BODY", blob(kBody)}, {"$HEADERS", blob(kHeaders)}, {"$EMPTY", blob("")}};
  }

  // After the migration: the old rows read back as written, and a request accepted now
  // (stored as a delta) reads back byte for byte too.
  void ExpectReadable(Store& store) {
    ASSERT_GE(*store.SchemaVersion(), 13);
    IncomingFilter filter;
    filter.organization_id = org_;
    Result<std::vector<IncomingRequest>> rows = store.ListIncoming(filter);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[2].id, ids_[0]);
    EXPECT_EQ((*rows)[2].status, IncomingStatus::kAccepted);
    EXPECT_EQ((*rows)[2].body, kBody);
    EXPECT_EQ((*rows)[2].headers_json, kHeaders);
    EXPECT_EQ((*rows)[2].event_id, event_);
    EXPECT_EQ((*rows)[1].status, IncomingStatus::kDuplicate);
    EXPECT_EQ((*rows)[1].body, kBody);
    EXPECT_EQ((*rows)[0].status, IncomingStatus::kRejected);
    EXPECT_EQ((*rows)[0].body, "");
    EXPECT_EQ((*rows)[0].reason, "no matching Stripe signature");

    PublishRequest p;
    p.event.id = Id();
    p.event.organization_id = org_;
    p.event.event_type = "invoice.paid";
    p.event.event_id = "evt_new";
    p.event.payload = R"({"event":"invoice.paid","timestamp":"t","organization_id":"o","data":{"id":"evt_new"},)"
                      R"("metadata":{}})";
    p.event.created_at = clock_.Now();
    IncomingRequest in;
    in.id = Id();
    in.source_id = source_;
    in.organization_id = org_;
    in.provider_event_id = "evt_new";
    in.event_type = "invoice.paid";
    in.body = "{\n  \"id\": \"evt_new\"\n}";
    in.headers_json = "{}";
    in.created_at = clock_.Now();
    p.incoming = in;
    Result<std::vector<PublishResult>> published = store.Publish({p});
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    EXPECT_FALSE((*published)[0].duplicate);
    rows = store.ListIncoming(filter);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 4u);
    EXPECT_EQ((*rows)[0].body, in.body);
    EXPECT_EQ((*rows)[3].body, kBody);

    // The old event got its compact de-duplication key: a repeat of it is still a duplicate.
    p.event.id = Id();
    p.event.event_id = "evt_old";
    p.incoming->id = Id();
    p.incoming->provider_event_id = "evt_old";
    published = store.Publish({p});
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    EXPECT_TRUE((*published)[0].duplicate);
    EXPECT_EQ((*published)[0].event.id, event_);
    p.event.id = Id();  // and the event published after it
    p.event.event_id = "evt_new";
    p.incoming->id = Id();
    published = store.Publish({p});
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    EXPECT_TRUE((*published)[0].duplicate);
  }

  ManualClock clock_;
  SeededRandomForTest random_{13};
  std::string org_, source_, event_;
  std::vector<std::string> ids_;
};

TEST_F(IncomingMigrationTest, SqliteRowsWrittenBefore0013StayReadable) {
  ulak::testing::TempDir dir;
  const std::string path = dir.path() + "/v12.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << "\n" << sql;
    sqlite3_free(error);
  };
  exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
       "applied_at INTEGER NOT NULL) STRICT");
  for (const Migration& m : SqliteMigrations()) {
    if (m.version > kBefore) break;
    exec(std::string(m.sql));
    exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" + std::string(m.name) + "', 0)");
  }
  auto text = [](const std::string& s) {  // TEXT columns, as v12 bound them
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  exec(Replace(kOldRows, Values(text, "0", "1")));
  sqlite3_close(db);

  Result<std::unique_ptr<sqlite::SqliteStore>> store = sqlite::SqliteStore::Open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Migrate().ok());
  ExpectReadable(**store);
}

TEST_F(IncomingMigrationTest, PostgresRowsWrittenBefore0013StayReadable) {
  Result<ulak::testing::PostgresCluster*> cluster = ulak::testing::PostgresCluster::Shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status().message();
  Result<std::string> conninfo = (*cluster)->CreateDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.status().message();
  PGconn* conn = PQconnectdb(conninfo->c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  auto exec = [&](const std::string& sql) {
    PGresult* res = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(res), PGRES_COMMAND_OK) << PQresultErrorMessage(res) << "\n" << sql;
    PQclear(res);
  };
  exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  for (const Migration& m : PostgresMigrations()) {
    if (m.version > kBefore) break;
    exec(std::string(m.sql));
    exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" + std::string(m.name) + "', 0)");
  }
  auto bytea = [](const std::string& s) {  // BYTEA columns: the bytes in hex
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "'\\x";
    for (unsigned char c : s) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    return out + "'::bytea";
  };
  exec(Replace(kOldRows, Values(bytea, "false", "true")));
  PQfinish(conn);

  Result<std::unique_ptr<Store>> store = OpenStore(*conninfo);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Migrate().ok());
  ExpectReadable(**store);
}

}  // namespace
}  // namespace ulak::store::testing
