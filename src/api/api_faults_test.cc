// The API over FaultyStore (issue 15): while the store fails, every request answers 503 with
// Retry-After (never 500, never 202 for an event that was not stored) and /readyz says not
// ready; once the fault clears the same requests succeed, with no event lost or doubled.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <future>

#include "api/api.h"
#include "api/source_cache.h"
#include "common/ids.h"
#include "delivery/engine.h"
#include "delivery/publisher.h"
#include "store/faulty_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::api {
namespace {

const std::string kKey = "ulak_faults_test_key_0123456789abcdef";

class ApiFaultsTest : public ::testing::TestWithParam<store::StoreFault> {
 protected:
  void SetUp() override {
    auto sqlite = store::sqlite::SqliteStore::Open(dir_.path() + "/api.db");
    ASSERT_TRUE(sqlite.ok());
    ASSERT_TRUE((*sqlite)->Migrate().ok());
    store_ = std::make_unique<store::FaultyStore>(std::move(sqlite).value());
    store::Organization org{NewId(clock_, random_), "org", clock_.Now()};
    org_ = org.id;
    ASSERT_TRUE(store_->CreateOrganization(org, {NewId(clock_, random_), org.id, HashKey(kKey), "ulak_fa", clock_.Now()}).ok());
    transport_ = delivery::MakeCurlTransport({});
    writer_ = std::make_unique<store::StoreWriter>(*store_);
    engine_ = std::make_unique<delivery::DeliveryEngine>(*store_, *writer_, *transport_, clock_, random_,
                                                         delivery::EngineOptions{std::chrono::milliseconds(5)});
    ASSERT_TRUE(engine_->Start().ok());
    publisher_ = std::make_unique<delivery::Publisher>(*store_, *writer_, *engine_, clock_, random_);
    auth_ = std::make_unique<Authenticator>(*store_, HashKey("admin-key-not-used-here-0123456789"));
    sources_ = std::make_unique<SourceCache>(*store_);
    ctx_ = std::make_unique<ApiContext>(ApiContext{*store_, clock_, random_, *auth_, publisher_.get(), engine_.get(),
                                                   Mode::kDevelopment, "", nullptr, sources_.get()});
    ctx_->writer = writer_.get();
    router_ = std::make_unique<http::Router>(BuildRouter(*ctx_));
  }
  void TearDown() override {
    engine_->Stop();
    transport_->Stop();
    writer_->Stop();
  }

  http::Response Call(http::Method method, const std::string& path, const std::string& body = "",
                      std::vector<http::Header> headers = {}) {
    http::Request r;
    r.method = method;
    r.target = r.path = path;
    r.body = body;
    r.headers = std::move(headers);
    r.headers.push_back({"Authorization", "Bearer " + kKey});
    r.request_id = "test";
    auto answer = std::make_shared<std::promise<http::Response>>();
    std::future<http::Response> got = answer->get_future();
    router_->Dispatch(std::move(r), [answer](http::Response&& response) { answer->set_value(std::move(response)); });
    return got.get();
  }
  static std::string HeaderOf(const http::Response& r, const std::string& name) {
    for (const auto& h : r.headers) {
      if (h.name == name) return h.value;
    }
    return "";
  }
  ulak::testing::TempDir dir_;
  ManualClock clock_;
  SeededRandomForTest random_{15};
  std::unique_ptr<store::FaultyStore> store_;
  std::unique_ptr<delivery::HttpTransport> transport_;
  std::unique_ptr<store::StoreWriter> writer_;
  std::unique_ptr<delivery::DeliveryEngine> engine_;
  std::unique_ptr<delivery::Publisher> publisher_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<SourceCache> sources_;
  std::unique_ptr<ApiContext> ctx_;
  std::unique_ptr<http::Router> router_;
  std::string org_;
};

TEST_P(ApiFaultsTest, WhileTheStoreFailsTheApiAnswers503AndRecoversWhenItClears) {
  const std::string event = R"({"event":"order.created","data":{"id":7}})";
  const std::vector<http::Header> key = {{"Idempotency-Key", "order-7"}};
  ASSERT_EQ(Call(http::Method::kGet, "/readyz").status, 200);
  store_->Inject(GetParam());

  http::Response publish = Call(http::Method::kPost, "/api/events", event, key);
  EXPECT_EQ(publish.status, 503) << publish.body;
  EXPECT_EQ(HeaderOf(publish, "Retry-After"), "1");
  http::Response ready = Call(http::Method::kGet, "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  for (const auto& [method, path, body] :
       std::vector<std::tuple<http::Method, std::string, std::string>>{
           {http::Method::kPost, "/api/webhooks",
            R"({"name":"w","url":"http://127.0.0.1:9/h","events":["*"]})"},
           {http::Method::kGet, "/api/webhooks", ""},
           {http::Method::kGet, "/api/webhooks/logs", ""},
           {http::Method::kPost, "/api/sources", R"({"name":"s","provider":"header","secrets":["0123456789abcdef"]})"}}) {
    http::Response r = Call(method, path, body);
    EXPECT_NE(r.status, 500) << path << ": " << r.body;
    EXPECT_TRUE(r.status == 503 || (method == http::Method::kGet && r.status == 200) ||
                (GetParam() == store::StoreFault::kCommitThenFail && r.status == 503))
        << path << " answered " << r.status << ": " << r.body;
  }

  store_->Clear();
  http::Response again = Call(http::Method::kPost, "/api/events", event, key);
  ASSERT_EQ(again.status, 202) << again.body;
  // A commit that happened but reported failure stored the event: the retry finds it.
  EXPECT_EQ(HeaderOf(again, "Idempotent-Replayed"), GetParam() == store::StoreFault::kCommitThenFail ? "true" : "");
  EXPECT_EQ(Call(http::Method::kGet, "/readyz").status, 200);
  http::Response replay = Call(http::Method::kPost, "/api/events", event, key);
  EXPECT_EQ(replay.status, 202);
  EXPECT_EQ(boost::json::parse(replay.body).at("event").at("id"), boost::json::parse(again.body).at("event").at("id"));
}

INSTANTIATE_TEST_SUITE_P(Faults, ApiFaultsTest,
                         ::testing::Values(store::StoreFault::kDiskFull, store::StoreFault::kBusy,
                                           store::StoreFault::kIoErrorOnCommit, store::StoreFault::kConnectionLost,
                                           store::StoreFault::kCommitThenFail),
                         [](const auto& info) {
                           switch (info.param) {
                             case store::StoreFault::kDiskFull: return std::string("DiskFull");
                             case store::StoreFault::kBusy: return std::string("Busy");
                             case store::StoreFault::kIoErrorOnCommit: return std::string("IoErrorOnCommit");
                             case store::StoreFault::kConnectionLost: return std::string("ConnectionLost");
                             case store::StoreFault::kCommitThenFail: return std::string("CommitThenFail");
                             default: return std::string("None");
                           }
                         });

}  // namespace
}  // namespace ulak::api
