// The delivery loop seam: the manual loop tests run by hand, and the engine's lifetime on a
// real (curl) loop that outlives it.
#include "delivery/delivery_loop.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/ids.h"
#include "delivery/engine.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::delivery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ManualDeliveryLoopTest, RunsPostsInOrderAndWakeUpsOnlyOnceTheirTimeCame) {
  ManualClock clock;
  ManualDeliveryLoop loop;
  std::vector<std::string> ran;
  loop.Post([&] { ran.push_back("a"); });
  loop.Post([&] {
    ran.push_back("b");
    loop.Post([&] { ran.push_back("c"); });  // posted from the loop: runs in the same call
  });
  loop.WakeAt(clock, clock.Now() + seconds(2), milliseconds(100), [&] { ran.push_back("late"); });
  loop.WakeAt(clock, clock.Now() + seconds(1), milliseconds(100), [&] { ran.push_back("early"); });
  loop.WakeAt(clock, clock.Now(), milliseconds(100), [&] { ran.push_back("now"); });
  EXPECT_EQ(loop.RunUntilIdle(), 4u);
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b", "c", "now"}));
  clock.Advance(seconds(5));
  EXPECT_EQ(loop.RunUntilIdle(), 2u);
  EXPECT_EQ(ran.back(), "late");
  EXPECT_EQ(ran[ran.size() - 2], "early");  // in time order, whatever the order asked
  EXPECT_EQ(loop.RunUntilIdle(), 0u);
}

TEST(ManualDeliveryLoopTest, ItsThreadIsTheOneThatMadeItAndOthersOnlyPost) {
  ManualDeliveryLoop loop;
  EXPECT_TRUE(loop.InLoop());
  bool ran = false;
  std::thread other([&] {
    EXPECT_FALSE(loop.InLoop());
    EXPECT_TRUE(loop.Post([&] { ran = true; }));
  });
  other.join();
  EXPECT_FALSE(ran);  // nothing runs until the loop is run
  loop.RunUntilIdle();
  EXPECT_TRUE(ran);
}

// The engine on the curl transport's loop, which outlives it: closures the engine left
// queued there find it stopped and do nothing (ASan checks).
TEST(EngineOnCurlLoopTest, ClosuresStillQueuedAfterStopAndDestructionDoNothing) {
  testing::TempDir dir;
  ManualClock clock;
  SeededRandomForTest random{17};
  auto store = store::sqlite::SqliteStore::Open(dir.path() + "/loop.db").value();
  ASSERT_TRUE(store->Migrate().ok());
  store::StoreWriter writer(*store);
  std::unique_ptr<HttpTransport> transport = MakeCurlTransport({});
  DeliveryLoop* loop = transport->Loop();
  ASSERT_NE(loop, nullptr);

  store::Webhook w;
  w.id = NewId(clock, random);
  w.organization_id = "org";
  w.url = "http://127.0.0.1:1/hook";
  w.name = "w";
  w.secret_key = std::string(64, 'b');
  w.events_json = R"(["*"])";
  w.custom_headers_json = "{}";
  w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
  w.max_retries = 3;
  w.max_in_flight = 8;
  // Its breaker stored open for an hour: nothing is sent (no outcome to write for a webhook
  // the store does not hold); the engine only waits, with a wake-up queued on the loop.
  w.breaker.streak = 10;
  w.breaker.cooldown = seconds(60);
  w.breaker.paused_until = clock.Now() + std::chrono::hours(1);
  Result<ConfigPtr> parsed = ParseWebhookConfig(w);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ConfigPtr config = *parsed;
  auto work = [&](int n) {
    std::vector<std::pair<ConfigPtr, store::PendingDelivery>> out;
    for (int i = 0; i < n; ++i) {
      store::PendingDelivery p;
      p.delivery.id = NewId(clock, random);
      p.delivery.event_id = "e" + std::to_string(i);
      p.delivery.webhook_id = w.id;
      p.delivery.next_attempt_at = clock.Now();
      p.payload = std::make_shared<const std::string>("{}");
      out.emplace_back(config, std::move(p));
    }
    return out;
  };
  // Holds the loop until released, so what the engine posts meanwhile waits behind it.
  auto hold = [&] {
    auto release = std::make_shared<std::promise<void>>();
    EXPECT_TRUE(loop->Post([f = release->get_future().share()] { f.wait(); }));
    return release;
  };

  auto engine = std::make_unique<DeliveryEngine>(*store, writer, *transport, clock, random);
  ASSERT_TRUE(engine->Start().ok());
  auto release = hold();
  engine->Enqueue(work(3));  // queued behind the hold
  EXPECT_EQ(engine->HeldCount(), 3u);  // counted at the post
  std::thread stopper([&] { engine->Stop(); });  // its barrier waits behind the hold too
  release->set_value();
  stopper.join();
  release = hold();
  engine->Enqueue(work(2));  // after Stop: posted, must do nothing
  engine->UpdateWebhook(config);
  engine->RemoveWebhook(w.id);
  engine.reset();
  release->set_value();
  std::promise<void> drained;
  ASSERT_TRUE(loop->Post([&] { drained.set_value(); }));
  drained.get_future().wait();
  transport->Stop();  // drops the engine's wake-up unrun
  writer.Stop();
}

}  // namespace
}  // namespace ulak::delivery
