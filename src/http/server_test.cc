// The real server on 127.0.0.1:0, driven over raw TCP so the tests see exactly the bytes a
// client would (and can send bytes no well-behaved client library would).
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/ids.h"
#include "common/log.h"

namespace ulak::http {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
    }
    return std::nullopt;
  }
};

// A blocking TCP client with a receive timeout, so a broken server fails a test instead of
// hanging it.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = 5;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  void Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may close on us mid-send; the response tells
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads one response; nullopt if the connection ends first. HEAD responses carry a
  // Content-Length but no body, hence with_body.
  std::optional<RawResponse> Read(bool with_body = true) {
    size_t end;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    RawResponse r;
    const std::string head = buffered_.substr(0, end);
    buffered_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(line.substr(0, colon), value);
    }
    const auto length = r.Header("Content-Length");
    const size_t body_size = with_body && length ? std::stoul(*length) : 0;
    while (buffered_.size() < body_size) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buffered_.substr(0, body_size);
    buffered_.erase(0, body_size);
    return r;
  }

  // True if the server closes the connection without sending anything more.
  bool ClosedWithoutData() {
    if (!buffered_.empty()) return false;
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool Fill() {
    char buf[16 * 1024];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffered_;
};

ServerOptions TestOptions() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.shutdown_grace = 5s;
  return o;
}

std::unique_ptr<Server> StartServer(ServerOptions options, Handler handler) {
  auto server = Server::Listen(std::move(options), std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(server).value();
}

Handler EchoHandler() {
  return [](Request&& request, Reply reply) {
    Response r;
    r.content_type = "text/plain";
    r.body = std::string(MethodName(request.method)) + " " + request.path + " " + request.body;
    reply(std::move(r));
  };
}

std::string ErrorJson(std::string_view code, std::string_view message) {
  return "{\"error\":{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}}";
}

TEST(HttpServer, GetReachesHandlerWithDecodedPathQueryAndHeaders) {
  std::promise<Request> seen;
  auto server = StartServer(TestOptions(), [&seen](Request&& request, Reply reply) {
    seen.set_value(request);
    Response r;
    r.body = R"({"ok":true})";
    r.SetHeader("X-Handler", "yes");
    reply(std::move(r));
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send(
      "GET /api/a%20b/c?limit=10&name=x%20y&plus=a+b HTTP/1.1\r\n"
      "Host: localhost\r\nX-Custom: one\r\nx-custom: two\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(response->Header("Server"), "ulak");
  EXPECT_EQ(response->Header("X-Handler"), "yes");

  Request request = seen.get_future().get();
  EXPECT_EQ(request.method, Method::kGet);
  EXPECT_EQ(request.target, "/api/a%20b/c?limit=10&name=x%20y&plus=a+b");
  EXPECT_EQ(request.path, "/api/a b/c");
  const std::vector<std::pair<std::string, std::string>> query = {
      {"limit", "10"}, {"name", "x y"}, {"plus", "a b"}};
  EXPECT_EQ(request.query, query);
  ASSERT_EQ(request.headers.size(), 3u);
  EXPECT_EQ(request.headers[0].name, "Host");
  EXPECT_EQ(request.headers[1].name, "X-Custom");
  EXPECT_EQ(request.headers[1].value, "one");
  EXPECT_EQ(request.headers[2].name, "x-custom");
  EXPECT_EQ(request.headers[2].value, "two");
  EXPECT_EQ(request.remote_address, "127.0.0.1");
  EXPECT_TRUE(LooksLikeId(request.request_id)) << request.request_id;
  EXPECT_EQ(response->Header("X-Request-Id"), request.request_id);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = client.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "GET /first ");
  EXPECT_EQ(first->Header("Connection"), std::nullopt);

  client.Send("POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  auto second = client.Read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "POST /second hello");
  EXPECT_EQ(second->Header("Content-Type"), "text/plain");
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  auto a = client.Read();
  auto b = client.Read();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "GET /a ");
  EXPECT_EQ(b->body, "GET /b ");
}

TEST(HttpServer, HeadGetsContentLengthButNoBody) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("HEAD /thing HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.Read(/*with_body=*/false);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->Header("Content-Length"), std::to_string(std::string("HEAD /thing ").size()));
  // Had the body been sent, it would be read as the start of this response.
  client.Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  auto next = client.Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "GET /next ");
}

TEST(HttpServer, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET /old HTTP/1.0\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /old ");
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, ConnectionCloseRequestIsHonoured) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, LargeBodiesWithinTheLimitPassBothWays) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 64 * 1024;
  auto server = StartServer(options, [](Request&& request, Reply reply) {
    Response r;
    r.body = std::string(4 * 1024 * 1024, 'x');  // responses are not limited
    r.SetHeader("X-Got", std::to_string(request.body.size()));
    reply(std::move(r));
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" + std::string(64 * 1024, 'b'));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Header("X-Got"), "65536");
  EXPECT_EQ(response->body.size(), 4u * 1024 * 1024);
}

TEST(HttpServer, ChunkedBodyWithinTheLimitIsAssembled) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST /c abcde");
}

TEST(HttpServer, ExpectContinueGets100BeforeTheBody) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.Read(/*with_body=*/false);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  client.Send("abc");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST /e abc");
}

TEST(HttpServer, ContentLengthAboveTheLimitIs413AndCloses) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  auto server = StartServer(options, [&calls](Request&&, Reply reply) {
    ++calls;
    reply(Response{});
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("POST /in HTTP/1.1\r\nHost: x\r\nX-Request-Id: big-1\r\nContent-Length: 4096\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, ErrorJson("payload_too_large", "the request body exceeds the limit of 1024 bytes"));
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(response->Header("X-Request-Id"), "big-1");
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client.ClosedWithoutData());
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, ChunkedBodyAboveTheLimitIs413AndCloses) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  auto server = StartServer(options, EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  std::string request = "POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) request += "258\r\n" + std::string(600, 'z') + "\r\n";
  request += "0\r\n\r\n";
  client.Send(request);
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, ErrorJson("payload_too_large", "the request body exceeds the limit of 1024 bytes"));
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, HugeHeaderIs431AndCloses) {
  ServerOptions options = TestOptions();
  options.max_header_bytes = 1024;
  auto server = StartServer(options, EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, ErrorJson("request_header_fields_too_large",
                                      "the request header exceeds the limit of 1024 bytes"));
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, TooManyHeaderFieldsIs431AndCloses) {
  ServerOptions options = TestOptions();
  options.max_header_count = 5;
  auto server = StartServer(options, EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
  client.Send(request + "\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body,
            ErrorJson("request_header_fields_too_large", "the request has more than 5 header fields"));
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, HalfAHeaderThenSilenceIs408) {
  ServerOptions options = TestOptions();
  options.header_timeout = 200ms;
  auto server = StartServer(options, EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->body, ErrorJson("request_timeout", "the request header did not arrive in time"));
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, BodyThatStallsIs408) {
  ServerOptions options = TestOptions();
  options.body_timeout = 200ms;
  auto server = StartServer(options, EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->body, ErrorJson("request_timeout", "the request body did not arrive in time"));
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedSilently) {
  ServerOptions options = TestOptions();
  options.idle_timeout = 200ms;
  auto server = StartServer(options, EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.Read());
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, GarbageIs400) {
  auto server = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("THIS IS NOT HTTP AT ALL\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(response->body.rfind(R"({"error":{"code":"bad_request","message":"malformed HTTP request: )", 0), 0u)
      << response->body;
  EXPECT_TRUE(client.ClosedWithoutData());
}

TEST(HttpServer, HandlerMayReplyLaterFromAnotherThread) {
  std::mutex mu;
  std::vector<std::thread> workers;  // GUARDED_BY(mu)
  auto server = StartServer(TestOptions(), [&](Request&& request, Reply reply) {
    // The worker starts under the lock, so once its reply is seen the push is done too.
    std::lock_guard lock(mu);
    workers.emplace_back([reply = std::move(reply), path = request.path] {
      std::this_thread::sleep_for(20ms);
      Response r;
      r.status = 202;
      r.body = "later " + path;
      reply(std::move(r));
    });
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET /work HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  // The connection is still usable afterwards.
  client.Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
  auto again = client.Read();
  {
    std::lock_guard lock(mu);
    for (std::thread& t : workers) t.join();
  }
  ASSERT_TRUE(response && again);
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->body, "later /work");
  EXPECT_EQ(again->body, "later /again");
}

TEST(HttpServer, HandlerThatThrowsGets500) {
  auto server = StartServer(TestOptions(), [](Request&&, Reply) { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, ErrorJson("internal", "internal error"));
}

TEST(HttpServer, HandlerThatDropsItsReplyGets500) {
  auto server = StartServer(TestOptions(), [](Request&&, Reply) {});
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
}

TEST(HttpServer, SaneRequestIdIsEchoedAndInsaneOneReplaced) {
  std::mutex mu;
  std::vector<std::string> ids;
  auto server = StartServer(TestOptions(), [&](Request&& request, Reply reply) {
    {
      std::lock_guard lock(mu);
      ids.push_back(request.request_id);
    }
    reply(Response{});
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc.DEF_123-x\r\n\r\n");
  auto sane = client.Read();
  client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: has spaces\"<script>\r\n\r\n");
  auto insane = client.Read();
  client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + std::string(129, 'a') + "\r\n\r\n");
  auto too_long = client.Read();
  ASSERT_TRUE(sane && insane && too_long);
  EXPECT_EQ(sane->Header("X-Request-Id"), "abc.DEF_123-x");
  EXPECT_TRUE(LooksLikeId(insane->Header("X-Request-Id").value_or("")));
  EXPECT_TRUE(LooksLikeId(too_long->Header("X-Request-Id").value_or("")));
  std::lock_guard lock(mu);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], "abc.DEF_123-x");
  EXPECT_EQ(ids[1], insane->Header("X-Request-Id"));
}

TEST(HttpServer, StopLetsAnInFlightResponseFinishAndClosesIdleConnections) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Reply> pending;  // GUARDED_BY(mu)
  auto server = StartServer(TestOptions(), [&](Request&& request, Reply reply) {
    if (request.path != "/slow") {
      reply(Response{});
      return;
    }
    std::lock_guard lock(mu);
    pending = std::move(reply);
    cv.notify_all();
  });
  ASSERT_TRUE(server);
  const uint16_t port = server->port();

  Client idle(port);
  idle.Send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(idle.Read());

  Client busy(port);
  busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return pending.has_value(); });
  }

  std::thread stopper([&] { server->Stop(); });
  // The idle connection is closed by Stop(); once it is, Stop() is under way.
  EXPECT_TRUE(idle.ClosedWithoutData());
  Reply reply;
  {
    std::lock_guard lock(mu);
    reply = std::move(*pending);
  }
  Response r;
  r.body = "finished";
  reply(std::move(r));
  auto response = busy.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(busy.ClosedWithoutData());
  stopper.join();

  Client late(port);
  EXPECT_FALSE(late.connected());
  server->Stop();  // idempotent
}

std::string ThisThreadName() {
  char buf[32] = {};
  pthread_getname_np(pthread_self(), buf, sizeof buf);
  return buf;
}

// One loop per thread: each accepted connection is handed to the next loop, and a reply made
// on a thread of the handler's own (not a loop) still reaches the connection's loop.
TEST(HttpServer, ConnectionsAreSpreadOverTheLoopsAndForeignRepliesArrive) {
  ServerOptions options = TestOptions();
  options.threads = 3;
  std::mutex mu;
  std::vector<std::string> loop_names;  // GUARDED_BY(mu)
  std::vector<std::thread> workers;     // GUARDED_BY(mu)
  auto server = StartServer(options, [&](Request&& request, Reply reply) {
    std::lock_guard lock(mu);
    loop_names.push_back(ThisThreadName());
    workers.emplace_back([reply = std::move(reply), path = request.path] {
      Response r;
      r.body = "from a worker " + path;
      reply(std::move(r));
    });
  });
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(server->port()));
    clients.back()->Send("GET /c" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = clients.back()->Read();
    EXPECT_EQ(response ? response->body : "", "from a worker /c" + std::to_string(i));
  }
  // A second round on the same connections stays on the same loops.
  for (int i = 0; i < 3; ++i) {
    clients[i]->Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = clients[i]->Read();
    EXPECT_EQ(response ? response->body : "", "from a worker /again");
  }
  server->Stop();
  std::lock_guard lock(mu);
  for (std::thread& t : workers) t.join();
  ASSERT_EQ(loop_names.size(), 6u);
  EXPECT_EQ(std::set<std::string>(loop_names.begin(), loop_names.begin() + 3),
            (std::set<std::string>{"ulak-http-0", "ulak-http-1", "ulak-http-2"}));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(loop_names[3 + i], loop_names[i]) << "connection " << i;
}

TEST(HttpServer, StopClosesTheConnectionsOfEveryLoop) {
  ServerOptions options = TestOptions();
  options.threads = 3;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Reply> pending;       // GUARDED_BY(mu)
  std::set<std::string> busy_loops;  // GUARDED_BY(mu)
  std::set<std::string> idle_loops;  // GUARDED_BY(mu)
  auto server = StartServer(options, [&](Request&& request, Reply reply) {
    std::lock_guard lock(mu);
    if (request.path != "/slow") {
      idle_loops.insert(ThisThreadName());
      reply(Response{});
      return;
    }
    busy_loops.insert(ThisThreadName());
    pending.push_back(std::move(reply));
    cv.notify_all();
  });
  ASSERT_TRUE(server);
  // Three idle connections (one per loop), then three with a request in flight (one per loop).
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<Client>(server->port()));
    idle.back()->Send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(idle.back()->Read());
  }
  std::vector<std::unique_ptr<Client>> busy;
  for (size_t i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<Client>(server->port()));
    busy.back()->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return pending.size() == i + 1; });
  }
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(idle_loops.size(), 3u);
    EXPECT_EQ(busy_loops.size(), 3u);
  }

  std::thread stopper([&] { server->Stop(); });
  for (auto& client : idle) EXPECT_TRUE(client->ClosedWithoutData());
  std::vector<Reply> replies;
  {
    std::lock_guard lock(mu);
    replies = std::move(pending);
  }
  for (Reply& reply : replies) reply(Response{});  // from this thread, to three loops
  for (auto& client : busy) {
    auto response = client->Read();  // no ASSERT here: the stopper thread must be joined
    EXPECT_EQ(response ? response->status : 0, 200);
    EXPECT_EQ(response ? response->Header("Connection") : std::nullopt, "close");
    EXPECT_TRUE(client->ClosedWithoutData());
  }
  stopper.join();
  Client late(server->port());
  EXPECT_FALSE(late.connected());
}

TEST(HttpServer, ReplyAfterTheServerIsGoneIsDropped) {
  ServerOptions options = TestOptions();
  options.shutdown_grace = 50ms;  // Stop() waits this long for the unanswered request
  std::optional<Reply> kept;
  std::promise<void> called;
  auto server = StartServer(options, [&](Request&&, Reply reply) {
    kept = std::move(reply);
    called.set_value();
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  called.get_future().wait();
  server.reset();
  EXPECT_TRUE(client.ClosedWithoutData());
  (*kept)(Response{});  // must neither crash nor leak
  kept.reset();
}

TEST(HttpServer, AccessLogNamesTheRequestButNeverHeadersOrBodies) {
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogSinkForTest([&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  });
  // Restores the default sink even when an assertion returns early.
  struct SinkReset {
    ~SinkReset() { SetLogSinkForTest(nullptr); }
  } sink_reset;
  auto server = StartServer(TestOptions(), [](Request&&, Reply reply) {
    Log(LogLevel::kInfo, "inside handler");
    Response r;
    r.body = "response-secret";
    reply(std::move(r));
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send(
      "POST /hooks/in?token=query-secret HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer header-secret\r\n"
      "X-Request-Id: log-test-1\r\nContent-Length: 11\r\n\r\nbody-secret");
  ASSERT_TRUE(client.Read());
  server->Stop();  // the access log is written once the response is out; Stop() waits for it

  std::lock_guard lock(mu);
  bool saw_access = false;
  bool saw_handler = false;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("secret"), std::string::npos) << line;
    if (line.find("\"msg\":\"request\"") != std::string::npos) {
      saw_access = true;
      EXPECT_NE(line.find("\"method\":\"POST\""), std::string::npos) << line;
      EXPECT_NE(line.find("\"path\":\"/hooks/in\""), std::string::npos) << line;
      EXPECT_NE(line.find("\"status\":200"), std::string::npos) << line;
      EXPECT_NE(line.find("\"request_id\":\"log-test-1\""), std::string::npos) << line;
      EXPECT_NE(line.find("\"remote\":\"127.0.0.1\""), std::string::npos) << line;
      EXPECT_NE(line.find("\"duration_ms\":"), std::string::npos) << line;
    }
    if (line.find("inside handler") != std::string::npos) {
      saw_handler = true;
      EXPECT_NE(line.find("\"request_id\":\"log-test-1\""), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(saw_access);
  EXPECT_TRUE(saw_handler);
}

TEST(HttpServer, ListenOnABusyPortReportsUnavailable) {
  auto first = StartServer(TestOptions(), EchoHandler());
  ASSERT_TRUE(first);
  ServerOptions options = TestOptions();
  options.port = first->port();
  auto second = Server::Listen(options, EchoHandler());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": Address already in use");
}

TEST(HttpServer, PortIsKnownBeforeStartAndStopWithoutStartIsFine) {
  auto server = Server::Listen(TestOptions(), EchoHandler());
  ASSERT_TRUE(server.ok());
  EXPECT_NE((*server)->port(), 0);
  (*server)->Stop();
}

}  // namespace
}  // namespace ulak::http
