// The real curl transport against a real local sink on 127.0.0.1:0. The sink is a small
// poll() loop on one thread that reads each request in full (headers and Content-Length
// body) before it answers, so the tests see exactly what went over the wire.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "delivery/http_transport.h"

namespace ulak::delivery {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using SteadyClock = std::chrono::steady_clock;

// Generous: only there so a broken transport fails a test instead of hanging it.
constexpr auto kHangGuard = 10s;

struct SinkRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
    }
    return std::nullopt;
  }
};

struct SinkBehavior {
  int status = 200;
  std::string body = "ok";
  bool echo_body = false;  // answer with the request's body instead of `body`
  std::chrono::milliseconds delay{0};
  bool never_answer = false;
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

SinkBehavior Answer(int status, std::string body) {
  SinkBehavior b;
  b.status = status;
  b.body = std::move(body);
  return b;
}

SinkBehavior NeverAnswer() {
  SinkBehavior b;
  b.never_answer = true;
  return b;
}

SinkBehavior Echo() {
  SinkBehavior b;
  b.echo_body = true;
  return b;
}

// A keep-alive HTTP/1.1 server that answers every request the same way.
class Sink {
 public:
  explicit Sink(SinkBehavior behavior = {}) : behavior_(std::move(behavior)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_fd_, 512) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "sink cannot listen";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }

  ~Sink() {
    stop_ = true;
    thread_.join();
    for (const Conn& c : conns_) ::close(c.fd);
    ::close(listen_fd_);
  }

  std::string Url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_.load(); }

  std::vector<SinkRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  bool WaitForRequests(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kHangGuard, [&] { return requests_.size() >= n; });
  }

 private:
  struct Conn {
    int fd = -1;
    std::string in;
    std::string out;
    bool awaiting_answer = false;  // a request is read; its answer is not yet queued
    SteadyClock::time_point answer_at;
    std::string answer;
    bool closed = false;
  };

  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      fds.push_back({listen_fd_, POLLIN, 0});
      for (const Conn& c : conns_) {
        fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
      }
      ::poll(fds.data(), fds.size(), 5);
      AcceptAll();
      for (Conn& c : conns_) {
        ReadAll(c);
        ParseAndAnswer(c);
        WriteAll(c);
      }
      for (Conn& c : conns_) {
        if (c.closed) ::close(c.fd);
      }
      conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.closed; }),
                   conns_.end());
    }
  }

  void AcceptAll() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      Conn c;
      c.fd = fd;
      conns_.push_back(std::move(c));
    }
  }

  static void ReadAll(Conn& c) {
    char buf[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) c.closed = true;
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  }

  static void WriteAll(Conn& c) {
    while (!c.out.empty() && !c.closed) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c.out.erase(0, static_cast<size_t>(n));
      } else {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) c.closed = true;
        return;
      }
    }
  }

  // Answers requests one at a time, in order, so pipelined ones wait for their turn.
  void ParseAndAnswer(Conn& c) {
    for (;;) {
      if (c.awaiting_answer) {
        if (behavior_.never_answer || SteadyClock::now() < c.answer_at) return;
        c.out += c.answer;
        c.awaiting_answer = false;
      }
      std::optional<SinkRequest> request = TakeRequest(c.in);
      if (!request) return;
      c.answer = BuildAnswer(*request);
      c.answer_at = SteadyClock::now() + behavior_.delay;
      c.awaiting_answer = true;
      std::lock_guard lock(mu_);
      requests_.push_back(std::move(*request));
      cv_.notify_all();
    }
  }

  // A full request off the front of `in`, or nullopt if it has not all arrived.
  static std::optional<SinkRequest> TakeRequest(std::string& in) {
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    SinkRequest r;
    size_t line_end = in.find("\r\n");
    const std::string request_line = in.substr(0, line_end);
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = request_line.find(' ', sp1 + 1);
    r.method = request_line.substr(0, sp1);
    r.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    for (size_t pos = line_end + 2; pos < head_end; pos = line_end + 2) {
      line_end = in.find("\r\n", pos);
      const std::string line = in.substr(pos, line_end - pos);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (strcasecmp(name.c_str(), "content-length") == 0) content_length = std::stoul(value);
      r.headers.emplace_back(std::move(name), std::move(value));
    }
    const size_t body_start = head_end + 4;
    if (in.size() < body_start + content_length) return std::nullopt;
    r.body = in.substr(body_start, content_length);
    in.erase(0, body_start + content_length);
    return r;
  }

  std::string BuildAnswer(const SinkRequest& request) const {
    const std::string& body = behavior_.echo_body ? request.body : behavior_.body;
    std::string out = "HTTP/1.1 " + std::to_string(behavior_.status) + " Whatever\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [k, v] : behavior_.extra_headers) out += k + ": " + v + "\r\n";
    out += "\r\n";
    out += body;
    return out;
  }

  const SinkBehavior behavior_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<Conn> conns_;  // sink thread only
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SinkRequest> requests_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

struct Outcome {
  TransportResult result;
  std::thread::id thread;  // where `done` ran
};

// Sends and returns a future for the outcome. The promise is shared so a callback that
// comes after a failed wait does not write into a dead stack frame.
std::future<Outcome> SendAsync(HttpTransport& transport, OutgoingRequest request) {
  auto promise = std::make_shared<std::promise<Outcome>>();
  std::future<Outcome> future = promise->get_future();
  transport.Send(std::move(request), [promise](TransportResult&& result) {
    promise->set_value(Outcome{std::move(result), std::this_thread::get_id()});
  });
  return future;
}

// The outcome, or a failure with kOther if none came within kHangGuard.
Outcome Wait(std::future<Outcome>& future) {
  if (future.wait_for(kHangGuard) != std::future_status::ready) {
    ADD_FAILURE() << "no result within " << kHangGuard.count() << " s";
    Outcome timed_out;
    timed_out.result.error = TransportError::kOther;
    return timed_out;
  }
  return future.get();
}

Outcome SendAndWait(HttpTransport& transport, OutgoingRequest request) {
  std::future<Outcome> future = SendAsync(transport, std::move(request));
  return Wait(future);
}

OutgoingRequest Post(std::string url, std::string body = "{}") {
  OutgoingRequest r;
  r.url = std::move(url);
  r.body = std::move(body);
  r.timeout = 5s;
  return r;
}

TEST(CurlTransportTest, PostsHeadersAndBodyAsSent) {
  Sink sink(Answer(200, "thanks"));
  auto transport = MakeCurlTransport({});
  OutgoingRequest request = Post(sink.Url("/hooks/a?x=1"), R"({"event":"order.created","n":1})");
  request.headers = {{"Content-Type", "application/json"}, {"X-Ulak-Signature", "v1,abc="}, {"X-Empty", ""}};

  const Outcome out = SendAndWait(*transport, request);

  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  EXPECT_EQ(out.result.status, 200);
  EXPECT_EQ(out.result.body, "thanks");
  EXPECT_FALSE(out.result.body_truncated);
  EXPECT_GE(out.result.response_time_ms, 0);
  const std::vector<SinkRequest> seen = sink.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/hooks/a?x=1");
  EXPECT_EQ(seen[0].body, request.body);
  EXPECT_EQ(seen[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(seen[0].Header("X-Ulak-Signature"), "v1,abc=");
  EXPECT_EQ(seen[0].Header("X-Empty"), "");
  EXPECT_EQ(seen[0].Header("Content-Length"), std::to_string(request.body.size()));
  EXPECT_EQ(seen[0].Header("User-Agent"), std::string("ulak/") + ULAK_VERSION);
  EXPECT_EQ(seen[0].Header("Expect"), std::nullopt);
}

TEST(CurlTransportTest, AfterCallbacksRunsAtTheEndOfTheLoopsTurn) {
  Sink sink(Answer(200, ""));
  auto transport = MakeCurlTransport({});
  // Outside a callback: at once, here.
  bool ran = false;
  transport->AfterCallbacks([&] { ran = true; });
  EXPECT_TRUE(ran);
  // From a callback: after it returns, on the loop thread.
  auto promise = std::make_shared<std::promise<std::vector<std::string>>>();
  auto order = std::make_shared<std::vector<std::string>>();
  auto done_thread = std::make_shared<std::thread::id>();
  HttpTransport* t = transport.get();
  transport->Send(Post(sink.Url("/turn")), [=](TransportResult&&) {
    *done_thread = std::this_thread::get_id();
    t->AfterCallbacks([=] {
      order->push_back(std::this_thread::get_id() == *done_thread ? "after, same thread" : "after, other thread");
      promise->set_value(*order);
    });
    order->push_back("done");
  });
  std::future<std::vector<std::string>> got = promise->get_future();
  ASSERT_EQ(got.wait_for(kHangGuard), std::future_status::ready);
  EXPECT_EQ(got.get(), (std::vector<std::string>{"done", "after, same thread"}));
}

TEST(CurlTransportTest, SharedBodyIsSentInPlaceOfBody) {
  Sink sink(Answer(204, ""));
  auto transport = MakeCurlTransport({});
  OutgoingRequest request = Post(sink.Url("/hooks/shared"), "ignored");
  request.shared_body = std::make_shared<const std::string>(R"({"event":"order.created","shared":true})");

  const Outcome out = SendAndWait(*transport, request);

  EXPECT_EQ(out.result.status, 204) << out.result.error_message;
  const std::vector<SinkRequest> seen = sink.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, *request.shared_body);
  EXPECT_EQ(seen[0].Header("Content-Length"), std::to_string(request.shared_body->size()));
}

TEST(CurlTransportTest, SendsNoContentTypeUnlessGiven) {
  Sink sink;
  CurlTransportOptions options;
  options.user_agent = "custom-agent/1";
  auto transport = MakeCurlTransport(options);
  const Outcome out = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  ASSERT_EQ(sink.requests().size(), 1u);
  EXPECT_EQ(sink.requests()[0].Header("Content-Type"), std::nullopt);
  EXPECT_EQ(sink.requests()[0].Header("User-Agent"), "custom-agent/1");
}

TEST(CurlTransportTest, ServerErrorIsAStatusNotATransportError) {
  Sink sink(Answer(500, "boom"));
  auto transport = MakeCurlTransport({});
  const Outcome out = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  EXPECT_EQ(out.result.status, 500);
  EXPECT_EQ(out.result.body, "boom");
}

TEST(CurlTransportTest, RedirectIsReportedNotFollowed) {
  SinkBehavior redirect = Answer(302, "");
  redirect.extra_headers = {{"Location", "/elsewhere"}};
  Sink sink(redirect);
  auto transport = MakeCurlTransport({});
  const Outcome out = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  EXPECT_EQ(out.result.status, 302);
  EXPECT_EQ(out.result.location, "/elsewhere");  // reported as sent, for the attempt log
  EXPECT_EQ(sink.requests().size(), 1u);
}

TEST(CurlTransportTest, RetryAfterIsReportedAsSent) {
  SinkBehavior busy = Answer(429, "slow down");
  busy.extra_headers = {{"Retry-After", "120"}};
  Sink sink(busy);
  auto transport = MakeCurlTransport({});
  const Outcome out = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(out.result.status, 429);
  EXPECT_EQ(out.result.retry_after, "120");
  EXPECT_EQ(out.result.location, "");
}

TEST(CurlTransportTest, TruncatesBodyAtMaxResponseBytesAndKeepsStatus) {
  std::string big(200 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  Sink sink(Answer(201, big));
  CurlTransportOptions options;
  options.max_response_bytes = 1000;
  auto transport = MakeCurlTransport(options);

  const Outcome out = SendAndWait(*transport, Post(sink.Url()));

  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  EXPECT_EQ(out.result.status, 201);
  EXPECT_TRUE(out.result.body_truncated);
  EXPECT_EQ(out.result.body, big.substr(0, 1000));
  // The rest was read and dropped, not aborted: the connection is still good for another.
  const Outcome again = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(again.result.status, 201);
  EXPECT_EQ(sink.accepted(), 1);
}

TEST(CurlTransportTest, WaitsForASlowSink) {
  SinkBehavior slow = Answer(200, "late");
  slow.delay = 150ms;
  Sink sink(slow);
  auto transport = MakeCurlTransport({});
  const Outcome out = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  EXPECT_EQ(out.result.body, "late");
}

TEST(CurlTransportTest, SinkThatNeverAnswersTimesOut) {
  Sink sink(NeverAnswer());
  auto transport = MakeCurlTransport({});
  OutgoingRequest request = Post(sink.Url());
  request.timeout = 200ms;

  const Outcome out = SendAndWait(*transport, request);

  EXPECT_EQ(out.result.error, TransportError::kTimeout);
  EXPECT_EQ(out.result.error_message, "timed out after 200 ms");
  EXPECT_EQ(out.result.status, 0);
  EXPECT_EQ(sink.requests().size(), 1u);  // it did arrive: only the answer was missing
}

TEST(CurlTransportTest, ClosedPortIsAConnectError) {
  // Bound but not listening: connecting gets a RST, and no other process can take the port.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  auto transport = MakeCurlTransport({});

  const Outcome out = SendAndWait(*transport, Post("http://127.0.0.1:" + port + "/hook"));
  ::close(fd);

  EXPECT_EQ(out.result.error, TransportError::kConnect);
  EXPECT_EQ(out.result.error_message, "connection refused to 127.0.0.1:" + port);
  EXPECT_EQ(out.result.status, 0);
}

TEST(CurlTransportTest, UnresolvableHostIsADnsError) {
  auto transport = MakeCurlTransport({});
  OutgoingRequest request = Post("http://no-such-host.invalid/hook");  // RFC 6761: never resolves
  request.timeout = 3s;

  const Outcome out = SendAndWait(*transport, request);

  if (out.result.error == TransportError::kTimeout) GTEST_SKIP() << "no DNS answer at all here";
  EXPECT_EQ(out.result.error, TransportError::kDns) << out.result.error_message;
  EXPECT_EQ(out.result.error_message, "could not resolve host no-such-host.invalid");
}

std::string AddressText(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
  } else if (addr->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof text);
  }
  return text;
}

TEST(CurlTransportTest, AddressFilterBlocksBeforeConnecting) {
  Sink sink;
  std::atomic<int> calls{0};
  CurlTransportOptions options;
  options.address_filter = [&](const sockaddr* addr, socklen_t) {
    ++calls;
    return "blocked: " + AddressText(addr) + " is a loopback address";
  };
  auto transport = MakeCurlTransport(options);

  const Outcome out = SendAndWait(*transport, Post(sink.Url()));

  EXPECT_EQ(out.result.error, TransportError::kBlocked);
  EXPECT_EQ(out.result.error_message, "blocked: 127.0.0.1 is a loopback address");
  EXPECT_EQ(out.result.status, 0);
  EXPECT_GE(calls.load(), 1);
  EXPECT_EQ(sink.accepted(), 0);
}

TEST(CurlTransportTest, AddressFilterThatAllowsSeesTheResolvedAddress) {
  Sink sink;
  std::mutex mu;
  std::vector<std::string> seen;
  CurlTransportOptions options;
  options.address_filter = [&](const sockaddr* addr, socklen_t) {
    std::lock_guard lock(mu);
    seen.push_back(AddressText(addr));
    return std::string();
  };
  auto transport = MakeCurlTransport(options);

  const Outcome out = SendAndWait(*transport, Post(sink.Url()));

  EXPECT_EQ(out.result.error, TransportError::kNone) << out.result.error_message;
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, std::vector<std::string>{"127.0.0.1"});
}

TEST(CurlTransportTest, BadRequestsFailWithoutSending) {
  Sink sink;
  auto transport = MakeCurlTransport({});
  OutgoingRequest injected = Post(sink.Url());
  injected.headers = {{"X-Evil", "a\r\nX-Injected: 1"}};
  OutgoingRequest framing = Post(sink.Url());
  framing.headers = {{"Content-Length", "0"}};
  OutgoingRequest bad_name = Post(sink.Url());
  bad_name.headers = {{"Bad Name", "x"}};
  OutgoingRequest ftp = Post("ftp://127.0.0.1/x");
  OutgoingRequest garbage = Post("not a url");

  for (OutgoingRequest* r : {&injected, &framing, &bad_name, &ftp, &garbage}) {
    const Outcome out = SendAndWait(*transport, *r);
    EXPECT_EQ(out.result.error, TransportError::kOther) << r->url;
    EXPECT_FALSE(out.result.error_message.empty());
    EXPECT_EQ(out.result.status, 0);
  }
  EXPECT_EQ(sink.accepted(), 0);
}

TEST(CurlTransportTest, ManyConcurrentRequestsAllComplete) {
  Sink sink(Echo());
  auto transport = MakeCurlTransport({});
  constexpr int kRequests = 200;
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < kRequests; ++i) {
    futures.push_back(SendAsync(*transport, Post(sink.Url(), "request-" + std::to_string(i))));
  }
  for (int i = 0; i < kRequests; ++i) {
    const Outcome out = Wait(futures[i]);
    EXPECT_EQ(out.result.error, TransportError::kNone) << i << ": " << out.result.error_message;
    EXPECT_EQ(out.result.status, 200);
    EXPECT_EQ(out.result.body, "request-" + std::to_string(i));  // no answers mixed up
  }
  EXPECT_EQ(sink.requests().size(), static_cast<size_t>(kRequests));
}

TEST(CurlTransportTest, SequentialRequestsReuseOneConnection) {
  Sink sink;
  auto transport = MakeCurlTransport({});
  constexpr int kRequests = 10;
  for (int i = 0; i < kRequests; ++i) {
    const Outcome out = SendAndWait(*transport, Post(sink.Url()));
    EXPECT_EQ(out.result.status, 200) << out.result.error_message;
  }
  EXPECT_EQ(sink.requests().size(), static_cast<size_t>(kRequests));
  EXPECT_EQ(sink.accepted(), 1);
}

// Connections opened for a burst stay open for the next burst, even when requests went
// one at a time in between (libcurl's default cache is 4 × the transfers running, and would
// close all but 4 of them then).
TEST(CurlTransportTest, ConnectionsOfABurstAreKeptThroughAQuietSpell) {
  SinkBehavior slow = Echo();
  slow.delay = 1s;  // each burst's requests all wait on their own connection
  Sink sink(slow);
  auto transport = MakeCurlTransport({});
  constexpr int kBurst = 20;
  auto burst = [&] {
    std::vector<std::future<Outcome>> futures;
    for (int i = 0; i < kBurst; ++i) futures.push_back(SendAsync(*transport, Post(sink.Url(), std::to_string(i))));
    for (auto& f : futures) EXPECT_EQ(Wait(f).result.status, 200);
  };
  burst();
  const int opened = sink.accepted();
  EXPECT_EQ(opened, kBurst);
  EXPECT_EQ(SendAndWait(*transport, Post(sink.Url())).result.status, 200);  // one at a time
  burst();
  EXPECT_EQ(sink.accepted(), opened) << "idle connections were closed between the bursts";
}

TEST(CurlTransportTest, MaxTotalConnectionsQueuesTheRest) {
  SinkBehavior slow = Echo();
  slow.delay = 20ms;
  Sink sink(slow);
  CurlTransportOptions options;
  options.max_total_connections = 2;
  auto transport = MakeCurlTransport(options);
  constexpr int kRequests = 20;
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < kRequests; ++i) {
    futures.push_back(SendAsync(*transport, Post(sink.Url(), std::to_string(i))));
  }
  for (int i = 0; i < kRequests; ++i) {
    const Outcome out = Wait(futures[i]);
    EXPECT_EQ(out.result.status, 200) << out.result.error_message;
    EXPECT_EQ(out.result.body, std::to_string(i));
  }
  EXPECT_LE(sink.accepted(), 2);
}

TEST(CurlTransportTest, StopCompletesRequestsInFlight) {
  Sink sink(NeverAnswer());
  auto transport = MakeCurlTransport({});
  constexpr size_t kRequests = 5;
  std::vector<std::future<Outcome>> futures;
  for (size_t i = 0; i < kRequests; ++i) futures.push_back(SendAsync(*transport, Post(sink.Url())));
  ASSERT_TRUE(sink.WaitForRequests(kRequests));

  transport->Stop();

  for (auto& future : futures) {
    // Stop() returns only after every callback ran.
    ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
    const Outcome out = future.get();
    EXPECT_EQ(out.result.error, TransportError::kOther);
    EXPECT_EQ(out.result.error_message, "transport stopped");
  }
  // Afterwards Send still answers, at once, on the caller's thread.
  const Outcome late = SendAndWait(*transport, Post(sink.Url()));
  EXPECT_EQ(late.result.error, TransportError::kOther);
  EXPECT_EQ(late.result.error_message, "transport stopped");
  EXPECT_EQ(late.thread, std::this_thread::get_id());
  transport->Stop();  // idempotent
}

TEST(CurlTransportTest, CallbackMaySendAgain) {
  Sink sink;
  auto transport = MakeCurlTransport({});
  auto second = std::make_shared<std::promise<TransportResult>>();
  std::future<TransportResult> second_future = second->get_future();
  HttpTransport* t = transport.get();
  const std::string url = sink.Url();
  transport->Send(Post(url), [t, url, second](TransportResult&&) {
    t->Send(Post(url), [second](TransportResult&& r) { second->set_value(std::move(r)); });
  });
  ASSERT_EQ(second_future.wait_for(kHangGuard), std::future_status::ready);
  EXPECT_EQ(second_future.get().status, 200);
}

TEST(CurlTransportTest, StopFromACallbackOnlyBeginsTheShutdown) {
  Sink sink(NeverAnswer());
  Sink answering;
  auto transport = MakeCurlTransport({});
  std::future<Outcome> stuck = SendAsync(*transport, Post(sink.Url()));
  ASSERT_TRUE(sink.WaitForRequests(1));
  HttpTransport* t = transport.get();
  std::promise<void> stop_returned;
  transport->Send(Post(answering.Url()), [t, &stop_returned](TransportResult&&) {
    t->Stop();  // must not try to join its own thread
    stop_returned.set_value();
  });
  ASSERT_EQ(stop_returned.get_future().wait_for(kHangGuard), std::future_status::ready);
  transport.reset();  // joins, from this thread
  ASSERT_EQ(stuck.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(stuck.get().result.error_message, "transport stopped");
}

TEST(CurlTransportTest, SendFromManyThreadsCompletesOnTheLoopThread) {
  Sink sink(Echo());
  auto transport = MakeCurlTransport({});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::future<Outcome>>> futures(kThreads);
  std::vector<std::thread> senders;
  std::set<std::thread::id> sender_ids;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        futures[t].push_back(
            SendAsync(*transport, Post(sink.Url(), std::to_string(t) + "/" + std::to_string(i))));
      }
    });
  }
  for (std::thread& s : senders) {
    sender_ids.insert(s.get_id());
    s.join();
  }
  std::set<std::thread::id> callback_threads;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const Outcome out = Wait(futures[t][i]);
      EXPECT_EQ(out.result.status, 200) << out.result.error_message;
      EXPECT_EQ(out.result.body, std::to_string(t) + "/" + std::to_string(i));
      callback_threads.insert(out.thread);
    }
  }
  ASSERT_EQ(callback_threads.size(), 1u);  // the one delivery loop
  EXPECT_NE(*callback_threads.begin(), std::this_thread::get_id());
  EXPECT_EQ(sender_ids.count(*callback_threads.begin()), 0u);
}

TEST(CurlTransportTest, DestroyingWithRequestsInFlightCompletesThem) {
  Sink sink(NeverAnswer());
  auto transport = MakeCurlTransport({});
  std::future<Outcome> future = SendAsync(*transport, Post(sink.Url()));
  ASSERT_TRUE(sink.WaitForRequests(1));
  transport.reset();
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(future.get().result.error_message, "transport stopped");
}

}  // namespace
}  // namespace ulak::delivery
