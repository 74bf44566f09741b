// Shaping through the real publisher and engine (fake transport, manual clock): filters at
// publish, field selection and transforms at send time, and a broken transform failing only
// its own delivery while another webhook of the same event is delivered.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.h"
#include "delivery/engine.h"
#include "delivery/fake_transport_for_test.h"
#include "delivery/publisher.h"
#include "delivery/signer.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::delivery {
namespace {

using std::chrono::seconds;

using testing::FakeTransport;
using testing::Header;

class ShapingEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::sqlite::SqliteStore::Open(dir_.path() + "/shape.db").value();
    ASSERT_TRUE(store_->Migrate().ok());
    store::Organization org{NewId(clock_, random_), "org", clock_.Now()};
    org_ = org.id;
    ASSERT_TRUE(store_->CreateOrganization(org, {NewId(clock_, random_), org.id, "h", "p", clock_.Now()}).ok());
    writer_ = std::make_unique<store::StoreWriter>(*store_);
    transport_.AnswerAtOnce(200);
    transport_.SetDrive([this] { engine_->RunUntilIdleForTest(); });
    engine_ = std::make_unique<DeliveryEngine>(*store_, *writer_, transport_, clock_, random_,
                                               EngineOptions{std::chrono::milliseconds(5)});
    ASSERT_TRUE(engine_->Start().ok());
    publisher_ = std::make_unique<Publisher>(*store_, *writer_, *engine_, clock_, random_);
  }
  void TearDown() override {
    engine_->Stop();
    writer_->Stop();
  }
  std::string AddWebhook(const std::string& name, std::string filter = "", std::string fields = "",
                         std::string lua = "") {
    store::Webhook w;
    w.id = NewId(clock_, random_);
    w.organization_id = org_;
    w.name = name;
    w.url = "http://127.0.0.1:1/" + name;
    w.secret_key = std::string(64, 'b');
    w.events_json = R"(["*"])";
    w.custom_headers_json = R"({"X-Webhook-Secret":"n8n"})";
    w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
    w.max_retries = 0;
    w.filter_json = std::move(filter);
    w.fields_json = std::move(fields);
    w.transform_lua = std::move(lua);
    w.created_at = w.updated_at = clock_.Now();
    EXPECT_TRUE(store_->CreateWebhook(w).ok());
    publisher_->InvalidateSubscriptions(org_);
    return w.id;
  }
  store::PublishResult Publish(const char* data) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<store::PublishResult> out;
    PublishInput in;
    in.organization_id = org_;
    in.event_type = "order.created";
    in.data = boost::json::parse(data);
    in.metadata = boost::json::object();
    publisher_->Publish(std::move(in), [&](Result<store::PublishResult>&& r) {
      EXPECT_TRUE(r.ok());
      std::lock_guard lock(mu);
      out = *r;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait_for(lock, seconds(10), [&] { return out.has_value(); });
    return out.value_or(store::PublishResult{});
  }
  // The attempts recorded once every due delivery has been tried: the engine's loop runs
  // until idle (this transport answers at once, on the loop), then the writer commits.
  // No sleep: `n` is what the caller expects, checked by the caller.
  std::vector<store::Attempt> AttemptsWhen(size_t /*n*/) {
    engine_->RunUntilIdleForTest();
    writer_->Flush();
    store::AttemptFilter f;
    f.organization_id = org_;
    f.limit = 1000;
    return store_->ListAttempts(f).value();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  SeededRandomForTest random_{5};
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<store::StoreWriter> writer_;
  FakeTransport transport_;  // answers 200 at once (SetUp)
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<Publisher> publisher_;
  std::string org_;
};

TEST_F(ShapingEngineTest, FilteredOutEventCreatesNoDeliveryAndIsCounted) {
  AddWebhook("big", R"({"data.total_amount": {"$gte": 100}})");
  AddWebhook("all");
  store::PublishResult small = Publish(R"({"total_amount": 50})");
  EXPECT_EQ(small.deliveries.size(), 1u);
  EXPECT_EQ(small.filtered, 1);
  store::PublishResult big = Publish(R"({"total_amount": 179.80})");
  EXPECT_EQ(big.deliveries.size(), 2u);
  EXPECT_EQ(big.filtered, 0);
  ASSERT_TRUE(transport_.WaitForSent(3));
  EXPECT_EQ(AttemptsWhen(3).size(), 3u);
}

TEST_F(ShapingEngineTest, SelectedFieldsAreSignedOverTheBytesSent) {
  AddWebhook("fields", "", R"(["order_number", "items[].name"])");
  Publish(R"({"order_number":"ORD-1","total_amount":179.80,"items":[{"name":"Pizza","price":89.90}]})");
  ASSERT_TRUE(transport_.WaitForSent(1));
  const OutgoingRequest r = transport_.Requests()[0];
  const boost::json::value body = boost::json::parse(r.Body());
  EXPECT_EQ(boost::json::serialize(body.at("data")), R"({"order_number":"ORD-1","items":[{"name":"Pizza"}]})");
  EXPECT_EQ(Header(r, "X-Webhook-Signature"), SignatureSeed001(std::string(64, 'b'), r.Body()));
  EXPECT_EQ(Header(r, "webhook-signature"),
            SignatureStandard(std::string(64, 'b'), Header(r, "webhook-id"),
                              std::stoll(Header(r, "webhook-timestamp")), r.Body()));
  EXPECT_EQ(Header(r, "X-Webhook-Secret"), "n8n");
}

TEST_F(ShapingEngineTest, TransformSetsMethodUrlAndHeaders) {
  AddWebhook("lua", "", "", R"(
    function transform(w)
      w.method = "PUT"
      w.url = "http://127.0.0.1:1/elsewhere/" .. w.payload.data.order_number
      w.headers["X-Order"] = w.payload.data.order_number
      w.headers["Content-Type"] = "application/vnd.order+json"
      w.payload = {order = w.payload.data.order_number, total = w.payload.data.total_amount}
      return w
    end)");
  Publish(R"({"order_number":"ORD-7","total_amount":179.80})");
  ASSERT_TRUE(transport_.WaitForSent(1));
  const OutgoingRequest r = transport_.Requests()[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://127.0.0.1:1/elsewhere/ORD-7");
  EXPECT_EQ(Header(r, "X-Order"), "ORD-7");
  EXPECT_EQ(Header(r, "Content-Type"), "application/vnd.order+json");
  EXPECT_EQ(Header(r, "X-Webhook-Secret"), "n8n");  // the script got the custom headers and kept them
  EXPECT_EQ(r.Body(), R"({"order":"ORD-7","total":179.8})");
  EXPECT_EQ(Header(r, "X-Webhook-Signature"), SignatureSeed001(std::string(64, 'b'), r.Body()));
  const std::vector<store::Attempt> attempts = AttemptsWhen(1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].request_url, "http://127.0.0.1:1/elsewhere/ORD-7");
}

TEST_F(ShapingEngineTest, BrokenTransformsFailOnlyTheirOwnDeliveries) {
  struct Bad {
    const char* name;
    const char* lua;
    const char* reason;
    store::DeliveryStatus status;
  } bad[] = {
      {"nil", "function transform(w) return nil end", "skipped: the transform returned nil", store::DeliveryStatus::kSkipped},
      {"loop", "function transform(w)\n  while true do end\nend", "transform:2: stopped after", store::DeliveryStatus::kFailed},
      {"memory", "function transform(w)\n local t = {}\n for i = 1, 1e9 do t[i] = {i} end\nend", "memory limit",
       store::DeliveryStatus::kFailed},
      {"os", "function transform(w)\n  os.execute('id')\nend", "transform:2: attempt to index a nil value (global 'os')",
       store::DeliveryStatus::kFailed},
      {"io", "function transform(w)\n  io.open('/etc/passwd')\nend", "(global 'io')", store::DeliveryStatus::kFailed},
      {"require", "function transform(w)\n  require('x')\nend", "(global 'require')", store::DeliveryStatus::kFailed},
      {"dump", "function transform(w)\n  load(string.dump(transform))\nend", "(field 'dump')", store::DeliveryStatus::kFailed},
      {"debug", "function transform(w)\n  debug.sethook()\nend", "(global 'debug')", store::DeliveryStatus::kFailed},
      {"error", "function transform(w)\n  return w.payload.nope.deeper\nend", "transform:2: attempt to index a nil value",
       store::DeliveryStatus::kFailed},
  };
  std::map<std::string, const Bad*> by_webhook;
  for (const Bad& b : bad) by_webhook[AddWebhook(b.name, "", "", b.lua)] = &b;
  const std::string good = AddWebhook("good");
  store::PublishResult published = Publish(R"({"order_number":"ORD-9"})");
  EXPECT_EQ(published.deliveries.size(), std::size(bad) + 1);
  ASSERT_TRUE(transport_.WaitForSent(1));
  EXPECT_EQ(transport_.Requests().size(), 1u);  // only the good webhook's
  EXPECT_EQ(transport_.Requests()[0].url, "http://127.0.0.1:1/good");
  const std::vector<store::Attempt> attempts = AttemptsWhen(std::size(bad) + 1);
  ASSERT_EQ(attempts.size(), std::size(bad) + 1);
  for (const store::Attempt& a : attempts) {
    if (a.webhook_id == good) {
      EXPECT_EQ(a.status, store::DeliveryStatus::kSuccess);
      continue;
    }
    const Bad& b = *by_webhook.at(a.webhook_id);
    EXPECT_EQ(a.status, b.status) << b.name;
    EXPECT_NE(a.error_message.find(b.reason), std::string::npos) << b.name << ": " << a.error_message;
  }
  EXPECT_TRUE(store_->ListPendingDeliveries("", 100)->empty());
}

}  // namespace
}  // namespace ulak::delivery
