// stamp_sink: a tiny HTTP/1.1 sink that timestamps arrivals (docs/BENCHMARKS.md, figures 3
// and 5). Answers every POST with 200 "ok" on a kept-alive connection, and when the body
// holds "sent_us":"<16 digits>" (written by `raw_client --stamp` into the published event's
// data, carried by ulak into the delivered payload) records now − sent_us: the publish →
// delivery latency. Both ends read the same system clock on the same machine.
//
//   GET /stats          → {"count":…,"p50_us":…,"p90_us":…,"p99_us":…,"max_us":…}
//   GET /stats?reset=1  → the same, then forgets every sample
//
// With --silent it reads every request and never answers: a hung endpoint whose tries time
// out (figure 5's dead endpoint once it stops refusing connections).
//
// One thread, epoll, no dependencies. usage: stamp_sink [--port N] [--silent] (0: any; prints port=N).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Connection {
  std::string in;
  std::string out;
};

std::vector<int64_t> g_samples;
long g_requests = 0;

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

std::string Stats(bool reset) {
  std::vector<int64_t> s = g_samples;
  std::sort(s.begin(), s.end());
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"requests\":%ld,\"count\":%zu,\"p50_us\":%" PRId64 ",\"p90_us\":%" PRId64 ",\"p99_us\":%" PRId64
                ",\"max_us\":%" PRId64 "}",
                g_requests, s.size(), Percentile(s, 0.5), Percentile(s, 0.9), Percentile(s, 0.99),
                s.empty() ? int64_t{0} : s.back());
  if (reset) {
    g_samples.clear();
    g_requests = 0;
  }
  return buf;
}

void Record(std::string_view body) {
  static constexpr std::string_view kKey = "\"sent_us\":\"";
  const size_t at = body.find(kKey);
  if (at == std::string_view::npos || at + kKey.size() + 16 > body.size()) return;
  int64_t sent = 0;
  for (size_t i = at + kKey.size(); i < at + kKey.size() + 16; ++i) {
    if (body[i] < '0' || body[i] > '9') return;
    sent = sent * 10 + (body[i] - '0');
  }
  g_samples.push_back(WallMicros() - sent);
}

std::optional<size_t> ContentLength(std::string_view head) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos >= 15 && strncasecmp(head.data() + pos, "content-length:", 15) == 0) {
      return std::strtoul(std::string(head.substr(pos + 15, 20)).c_str(), nullptr, 10);
    }
  }
  return std::nullopt;
}

// Consumes every complete request in c.in, appending the answers to c.out.
bool Serve(Connection& c) {
  for (;;) {
    const size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return c.in.size() < 64 * 1024;
    const std::string_view head(c.in.data(), head_end);
    const size_t length = ContentLength(head).value_or(0);
    if (c.in.size() < head_end + 4 + length) return true;
    const std::string_view body(c.in.data() + head_end + 4, length);
    std::string answer = "ok";
    if (head.rfind("GET /stats", 0) == 0) {
      answer = Stats(head.find("reset=1") != std::string_view::npos && head.find("reset=1") < head.find("\r\n"));
    } else {
      ++g_requests;
      Record(body);
    }
    c.out += "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(answer.size()) +
             "\r\n\r\n" + answer;
    c.in.erase(0, head_end + 4 + length);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  bool silent = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--silent") == 0) silent = true;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 1024) != 0) {
    std::perror("stamp_sink: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("port=%d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  const int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::unordered_map<int, Connection> connections;
  std::vector<epoll_event> events(256);
  char buf[64 * 1024];
  while (!g_stop) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.fd = client;
          epoll_ctl(ep, EPOLL_CTL_ADD, client, &cev);
          connections[client];
        }
        continue;
      }
      Connection& c = connections[fd];
      bool alive = true;
      for (;;) {
        const ssize_t got = read(fd, buf, sizeof buf);
        if (got > 0) {
          c.in.append(buf, static_cast<size_t>(got));
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) alive = false;
        break;
      }
      if (silent) c.in.clear();
      if (alive && !silent) alive = Serve(c);
      while (alive && !c.out.empty()) {
        const ssize_t put = write(fd, c.out.data(), c.out.size());
        if (put > 0) {
          c.out.erase(0, static_cast<size_t>(put));
        } else if (put < 0 && errno == EAGAIN) {
          // Rare at these sizes: block briefly rather than track EPOLLOUT.
          usleep(100);
        } else {
          alive = false;
        }
      }
      if (!alive) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        connections.erase(fd);
      }
    }
  }
  for (auto& [fd, c] : connections) close(fd);
  close(listener);
  close(ep);
  return 0;
}
