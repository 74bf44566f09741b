// HttpSink: a small HTTP/1.1 server on 127.0.0.1 (port 0) for end-to-end tests of outgoing
// deliveries. It records every request (method, path, headers, body, arrival time) and
// answers each path as configured: a sequence of status codes, a delay, or never (the
// connection is held open until the client gives up or the sink stops).
//
// Threading: one accept thread, one thread per connection (connections are few in tests
// and a held connection must not block the others). Keep-alive is supported, since
// libcurl reuses connections. Everything shared is guarded by mu_; every public method is
// thread-safe. Blocking waits poll in small steps so Stop() always returns promptly.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ulak::testing {

struct SinkRequest {
  std::string method;
  std::string path;  // without the query string
  std::string target;  // as sent, query included
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;
  std::chrono::steady_clock::time_point arrived;
  int connection = 0;  // which accepted connection carried it (1-based)

  // Case-insensitive; empty if absent.
  std::string Header(const std::string& name) const;
  bool HasHeader(const std::string& name) const;
};

struct SinkBehaviour {
  // The n-th request to the path (0-based) is answered statuses[min(n, size-1)].
  std::vector<int> statuses = {200};
  std::chrono::milliseconds delay{0};  // before answering
  bool never_answer = false;           // hold the connection open without a word
  std::string response_body = "ok";
  std::vector<std::pair<std::string, std::string>> response_headers;  // besides the framing ones

  // Shorthands (aggregate initialisation would trip -Wmissing-field-initializers).
  static SinkBehaviour Statuses(std::vector<int> statuses, std::string body = "ok") {
    SinkBehaviour b;
    b.statuses = std::move(statuses);
    b.response_body = std::move(body);
    return b;
  }
  static SinkBehaviour Delayed(std::chrono::milliseconds delay) {
    SinkBehaviour b;
    b.delay = delay;
    return b;
  }
  static SinkBehaviour NeverAnswer() {
    SinkBehaviour b;
    b.never_answer = true;
    return b;
  }
};

// A computed answer (SetHandler): for sinks that stand in for an API with state, such as a
// CRM keeping records or an OAuth token endpoint.
struct SinkResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};
using SinkHandler = std::function<SinkResponse(const SinkRequest&)>;

class HttpSink {
 public:
  HttpSink();   // listening once constructed; throws std::runtime_error if it cannot
  ~HttpSink();  // Stop()
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string Url(const std::string& path) const;

  // Applies to requests that arrive after the call. Paths without a behaviour get 200.
  void SetBehaviour(const std::string& path, SinkBehaviour behaviour);

  // Answers every path without a SetBehaviour with handler(request); called on the
  // connection's thread, one request at a time per connection (guard shared state yourself).
  void SetHandler(SinkHandler handler);

  // Requests received so far, in arrival order; path "" means every path.
  std::vector<SinkRequest> Requests(const std::string& path = "") const;
  size_t Count(const std::string& path = "") const;

  // Waits until at least n requests reached the path ("" = any); false on timeout.
  bool WaitForCount(const std::string& path, size_t n,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Waits until pred(all requests) holds; false on timeout.
  bool WaitFor(const std::function<bool(const std::vector<SinkRequest>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  // Closes the listener and every connection, joins every thread. Idempotent.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd, int connection);
  // Reads one request from fd into out, using and refilling buf; false on EOF/error/stop.
  bool ReadRequest(int fd, std::string& buf, SinkRequest& out);
  bool ReadMore(int fd, std::string& buf);
  // Sleeps up to d, waking early on stop; false if stopping.
  bool SleepUnlessStopping(std::chrono::milliseconds d);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<SinkRequest> requests_;            // GUARDED_BY(mu_)
  std::map<std::string, SinkBehaviour> behaviours_;  // GUARDED_BY(mu_)
  std::map<std::string, size_t> answered_;       // GUARDED_BY(mu_): requests seen per path
  SinkHandler handler_;                          // GUARDED_BY(mu_)
  std::vector<std::thread> connections_;         // GUARDED_BY(mu_)
  std::vector<int> open_fds_;                    // GUARDED_BY(mu_)
};

// A local port where nothing listens: a socket bound to 127.0.0.1 but never listening, kept
// for the object's life so no one else takes the port; connecting to it is refused.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace ulak::testing
