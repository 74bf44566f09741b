// The HTTP/1.1 server: Boost.Beast over Asio, keep-alive, N I/O threads, each running its
// own event loop; a connection stays on the loop that accepted it (server.cc says how).
//
// It owns the wire: parsing, limits (body size, header count and size, slow clients) and
// the JSON error shape for requests that never reach a handler. Everything else is the
// Handler's business. Only server.cc includes Boost headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/message.h"

namespace ulak::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; see Server::port()
  int threads = 0;       // event loops, one thread each; 0: one per core
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 * 1024;  // request line + all header fields
  size_t max_header_count = 100;
  // A client must deliver a request's headers, and then its body, within these or the
  // connection is answered 408 and closed. Idle keep-alive connections close after idle.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Connections open at once; one beyond it is closed at once, unread, and counted
  // (ulak_connections_refused_total), so held connections cannot take the descriptors the
  // store and the deliveries need. 0: no limit.
  size_t max_connections = 0;
  // How long Stop() waits for in-flight requests before closing their connections.
  std::chrono::milliseconds shutdown_grace{10'000};
};

class Server {
 public:
  // Binds and listens; does not serve until Start().
  static Result<std::unique_ptr<Server>> Listen(ServerOptions options, Handler handler);
  virtual ~Server() = default;

  virtual uint16_t port() const = 0;
  // Starts the I/O threads (one per loop, named ulak-http-<i>) and returns.
  virtual void Start() = 0;
  // Graceful: stops accepting, closes idle connections, lets in-flight requests finish
  // (up to shutdown_grace), then joins the I/O threads. Safe to call from any thread
  // except an I/O thread; idempotent.
  virtual void Stop() = 0;
};

}  // namespace ulak::http
