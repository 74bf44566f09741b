// Issue 15, defect 8: beyond max_connections a new connection is closed at once and counted;
// the connections already open keep working, and a slot freed is usable again.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/fd_limit.h"
#include "common/metrics.h"
#include "http/server.h"

namespace ulak::http {
namespace {

// A blocking client with a receive timeout, so a broken server fails the test, not hangs it.
class Conn {
 public:
  explicit Conn(uint16_t port) {
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
  ~Conn() { ::close(fd_); }
  // Sends a keep-alive GET and returns the status line, or "" when the server closed.
  std::string Get() {
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) < 0) return "";
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos || got.size() < got.find("\r\n\r\n") + 6) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "";
      got.append(buf, static_cast<size_t>(n));
    }
    return got.substr(0, got.find("\r\n"));
  }
  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

uint64_t RefusedCount() {
  const std::string text = Metrics::Instance().Render(0);
  const std::string name = "\nulak_connections_refused_total ";
  const size_t at = text.find(name);
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size()));
}

TEST(ConnectionLimit, ConnectionsBeyondTheLimitAreClosedAtOnceAndCounted) {
  ServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.max_connections = 3;
  auto listening = Server::Listen(o, [](Request&&, Reply reply) {
    Response r;
    r.body = "ok";
    reply(std::move(r));
  });
  ASSERT_TRUE(listening.ok());
  std::unique_ptr<Server> server = std::move(listening).value();
  server->Start();

  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Conn>(server->port()));
    ASSERT_EQ(held.back()->Get(), "HTTP/1.1 200 OK");  // registered: it was served
  }
  const uint64_t refused_before = RefusedCount();
  Conn extra(server->port());  // the kernel completes the handshake; ulak closes it at once
  EXPECT_EQ(extra.Get(), "");
  EXPECT_GE(RefusedCount(), refused_before + 1);
  for (auto& c : held) EXPECT_EQ(c->Get(), "HTTP/1.1 200 OK");  // the open ones are unharmed

  held.pop_back();  // a slot frees once the server sees this one close
  std::string status;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (status.empty() && std::chrono::steady_clock::now() < deadline) {
    Conn again(server->port());
    status = again.Get();
  }
  EXPECT_EQ(status, "HTTP/1.1 200 OK");
  server->Stop();
}

TEST(ConnectionLimit, DefaultLeavesRoomForTheStoreAndDeliveries) {
  EXPECT_EQ(DefaultMaxConnections(300), 177u);  // 300 - 64 reserved, minus a quarter for deliveries
  EXPECT_EQ(DefaultMaxConnections(1024), 720u);
  EXPECT_EQ(DefaultMaxConnections(20), kMinConnections);
  EXPECT_LT(DefaultMaxConnections(300), 300u);
  EXPECT_GT(OpenFileLimit(), 0u);
}

}  // namespace
}  // namespace ulak::http
