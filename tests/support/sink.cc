#include "support/sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace ulak::testing {
namespace {

constexpr int kPollStepMs = 50;
constexpr size_t kMaxHeaderBytes = 256 * 1024;

bool IEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string SinkRequest::Header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (IEquals(n, name)) return v;
  }
  return "";
}

bool SinkRequest::HasHeader(const std::string& name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return IEquals(h.first, name); });
}

HttpSink::HttpSink() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("sink: socket failed");
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 128) != 0) {
    close(listen_fd_);
    throw std::runtime_error("sink: bind/listen failed");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

HttpSink::~HttpSink() { Stop(); }

std::string HttpSink::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpSink::SetBehaviour(const std::string& path, SinkBehaviour behaviour) {
  if (behaviour.statuses.empty()) behaviour.statuses = {200};
  std::lock_guard lock(mu_);
  behaviours_[path] = std::move(behaviour);
}

std::vector<SinkRequest> HttpSink::Requests(const std::string& path) const {
  std::lock_guard lock(mu_);
  if (path.empty()) return requests_;
  std::vector<SinkRequest> out;
  for (const auto& r : requests_) {
    if (r.path == path) out.push_back(r);
  }
  return out;
}

size_t HttpSink::Count(const std::string& path) const {
  std::lock_guard lock(mu_);
  if (path.empty()) return requests_.size();
  return static_cast<size_t>(
      std::count_if(requests_.begin(), requests_.end(), [&](const SinkRequest& r) { return r.path == path; }));
}

bool HttpSink::WaitForCount(const std::string& path, size_t n, std::chrono::milliseconds timeout) const {
  return WaitFor(
      [&](const std::vector<SinkRequest>& all) {
        if (path.empty()) return all.size() >= n;
        return static_cast<size_t>(std::count_if(all.begin(), all.end(),
                                                 [&](const SinkRequest& r) { return r.path == path; })) >= n;
      },
      timeout);
}

bool HttpSink::WaitFor(const std::function<bool(const std::vector<SinkRequest>&)>& pred,
                       std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    if (pred(requests_)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Also wakes on a step so a predicate over outside state is re-checked.
    changed_.wait_for(lock, std::chrono::milliseconds(kPollStepMs));
  }
}

void HttpSink::Stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    listen_fd_ = -1;
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();
}

void HttpSink::AcceptLoop() {
  int next_connection = 0;
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kPollStepMs) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int connection = ++next_connection;
    std::lock_guard lock(mu_);
    open_fds_.push_back(fd);
    connections_.emplace_back([this, fd, connection] { Serve(fd, connection); });
  }
}

bool HttpSink::SleepUnlessStopping(std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(kPollStepMs)));
  }
  return false;
}

bool HttpSink::ReadMore(int fd, std::string& buf) {
  while (!stopping_) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, kPollStepMs);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    char chunk[16384];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
  return false;
}

bool HttpSink::ReadRequest(int fd, std::string& buf, SinkRequest& out) {
  size_t header_end;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeaderBytes || !ReadMore(fd, buf)) return false;
  }
  const std::string head = buf.substr(0, header_end);
  buf.erase(0, header_end + 4);

  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const size_t sp1 = request_line.find(' ');
  const size_t sp2 = request_line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
  out.method = request_line.substr(0, sp1);
  out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.path = out.target.substr(0, out.target.find('?'));

  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out.headers.emplace_back(line.substr(0, colon), Trim(line.substr(colon + 1)));
  }

  if (IEquals(out.Header("Expect"), "100-continue") && !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return false;

  if (IEquals(out.Header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      size_t size_end;
      while ((size_end = buf.find("\r\n")) == std::string::npos) {
        if (!ReadMore(fd, buf)) return false;
      }
      const size_t size = std::strtoul(buf.substr(0, size_end).c_str(), nullptr, 16);
      buf.erase(0, size_end + 2);
      while (buf.size() < size + 2) {
        if (!ReadMore(fd, buf)) return false;
      }
      out.body.append(buf, 0, size);
      buf.erase(0, size + 2);
      if (size == 0) {
        // Trailers (rare): skip lines up to the empty one. The chunk's CRLF was the empty
        // line when there are none.
        return true;
      }
    }
  }
  const std::string length_text = out.Header("Content-Length");
  const size_t length = length_text.empty() ? 0 : std::strtoul(length_text.c_str(), nullptr, 10);
  while (buf.size() < length) {
    if (!ReadMore(fd, buf)) return false;
  }
  out.body = buf.substr(0, length);
  buf.erase(0, length);
  return true;
}

void HttpSink::SetHandler(SinkHandler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

void HttpSink::Serve(int fd, int connection) {
  std::string buf;
  for (;;) {
    SinkRequest request;
    if (!ReadRequest(fd, buf, request)) break;
    request.arrived = std::chrono::steady_clock::now();
    request.connection = connection;
    const bool close_after = IEquals(request.Header("Connection"), "close");
    SinkBehaviour behaviour;
    int status = 200;
    SinkHandler handler;
    std::string content_type = "text/plain";
    {
      std::lock_guard lock(mu_);
      if (auto it = behaviours_.find(request.path); it != behaviours_.end()) {
        behaviour = it->second;
      } else {
        handler = handler_;
      }
      const size_t n = answered_[request.path]++;
      status = behaviour.statuses[std::min(n, behaviour.statuses.size() - 1)];
      if (!handler) requests_.push_back(request);
    }
    if (handler) {  // computed outside the lock; recorded once answered, so waiters see its effect
      SinkResponse answer = handler(request);
      status = answer.status;
      behaviour.response_body = std::move(answer.body);
      content_type = answer.content_type;
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    changed_.notify_all();

    if (behaviour.never_answer) {
      // Hold the connection until the client gives up (EOF) or the sink stops.
      std::string ignored;
      while (ReadMore(fd, ignored)) ignored.clear();
      break;
    }
    if (behaviour.delay.count() > 0 && !SleepUnlessStopping(behaviour.delay)) break;
    std::string response = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                           "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
                           std::to_string(behaviour.response_body.size()) + "\r\n";
    if (close_after) response += "Connection: close\r\n";
    for (const auto& [name, value] : behaviour.response_headers) response += name + ": " + value + "\r\n";
    response += "\r\n" + behaviour.response_body;
    if (!SendAll(fd, response) || close_after) break;
  }
  std::lock_guard lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

ClosedPort::ClosedPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("closed port: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    throw std::runtime_error("closed port: bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace ulak::testing
