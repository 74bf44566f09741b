// HttpTransport: the seam between the delivery engine and the network.
//
// One attempt = one request (a POST unless a template says otherwise, e.g. PATCH). The transport reports what happened on the wire (a status and a
// bounded body, or a categorised error) and never interprets it: whether a 500 or a timeout
// is retried is the RetryPolicy's business. The production implementation is libcurl's multi
// interface on an Asio loop (curl_transport.cc); tests can put a fake or a fault-injecting
// wrapper behind the same interface.
//
// No Boost or curl types here: only curl_transport.cc sees them.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ulak::delivery {

class DeliveryLoop;

struct OutgoingRequest {
  std::string url;  // http:// or https:// only; anything else fails with kOther
  std::string method = "POST";  // POST unless a template or transform says otherwise
  // Sent as given, in order. Names must be HTTP tokens and values free of CR, LF and NUL;
  // Content-Length and Transfer-Encoding are the transport's own. A request breaking these
  // rules fails with kOther before anything is sent. Without a Content-Type, none is sent.
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;                                           // POSTed as is, unless shared_body is set
  // A body shared with its owner instead (a plain delivery's event payload, held once by the
  // engine however many tries and webhooks send it): sent in place of `body`, never copied.
  std::shared_ptr<const std::string> shared_body;
  std::chrono::milliseconds timeout{30'000};                  // whole attempt

  // The bytes sent: *shared_body when set, else body.
  const std::string& Body() const { return shared_body ? *shared_body : body; }
};

enum class TransportError {
  kNone,      // a response arrived, whatever its status
  kTimeout,   // the whole attempt outlasted OutgoingRequest::timeout
  kConnect,   // no TCP connection (refused, unreachable)
  kDns,       // the host did not resolve
  kTls,       // handshake or certificate failure
  kBlocked,   // the AddressFilter refused every address
  kTooLarge,  // reserved: the curl transport truncates big responses instead (body_truncated)
  kOther,     // anything else, including a malformed request or a stopped transport
};

struct TransportResult {
  // HTTP status, 0 if no response. May be set together with an error when the response was
  // cut off (say a timeout mid-body): check `error` first.
  int status = 0;
  std::string body;  // at most max_response_bytes, rest dropped
  bool body_truncated = false;
  TransportError error = TransportError::kNone;
  // A human sentence, e.g. "connection refused to 127.0.0.1:9", "timed out after 30000 ms".
  // Never contains the URL's path or query (they may carry secrets).
  std::string error_message;
  int64_t response_time_ms = 0;  // from start of the attempt to completion
  // Response headers the engine acts on, as received (empty when absent): Retry-After (a
  // 429 or 503 says when to come back) and Location (redirects are never followed, only
  // reported).
  std::string retry_after;
  std::string location;
};

// Stable lower-case names ("timeout", "connect", ...) for logs and stored attempts.
const char* TransportErrorName(TransportError error);

// Decides whether a resolved address may be connected to (the SSRF guard plugs in here).
// Returns an empty string to allow, or the reason to block (e.g. "blocked: 10.0.0.1 is a
// private address"). Called on the transport's loop thread for every address a connection
// is attempted to, after DNS resolution, so a rebinding DNS answer cannot sneak past it.
// Must be fast and must not block; an exception counts as "blocked".
using AddressFilter = std::function<std::string(const struct sockaddr* addr, socklen_t len)>;

struct CurlTransportOptions {
  size_t max_response_bytes = 64 * 1024;
  std::string user_agent = "ulak/" ULAK_VERSION;  // a request's own User-Agent header wins
  AddressFilter address_filter;                    // empty: allow all
  // Fixed name resolutions, "host:port:address" (libcurl's CURLOPT_RESOLVE). For tests that
  // need names resolving to given addresses without touching /etc/hosts or DNS.
  std::vector<std::string> resolve_for_test;
  long max_total_connections = 0;                  // 0: libcurl default (unlimited)
  // Idle connections kept for reuse, all hosts together (CURLMOPT_MAXCONNECTS); 0: libcurl's
  // default. That default is 4 × the transfers running *now*, so when fewer run for a moment
  // (a delivery batch drained) libcurl closes the idle connections beyond it, and the next
  // batch connects again: figure 2a of `make bench` saw ~175 new connections a second to
  // the same receiver. A fixed size keeps them while their receivers keep them open.
  long max_idle_connections = 1024;
};

class HttpTransport {
 public:
  using Callback = std::function<void(TransportResult&&)>;
  virtual ~HttpTransport() = default;

  // Thread-safe. Starts a POST; `done` runs exactly once, on the transport's own loop thread
  // (the "delivery loop"), and must not throw or block. After Stop() has begun, `done` runs
  // at once on the calling thread with kOther, "transport stopped".
  virtual void Send(OutgoingRequest request, Callback done) = 0;

  // From a `done` callback: runs `fn` once every completion of the loop's current turn has
  // run its callback (on the loop thread), so a caller can hand a turn's results on as one
  // batch. Elsewhere (and in transports without turns, e.g. test fakes) `fn` runs at once.
  virtual void AfterCallbacks(std::function<void()> fn) { fn(); }

  // The loop thread where `done` callbacks run, for the engine's scheduler to live on
  // (delivery_loop.h); it outlives every callback. Null for transports without one (test
  // fakes): the engine then runs its own ManualDeliveryLoop.
  virtual DeliveryLoop* Loop() { return nullptr; }

  // Completes every in-flight request with an error (kOther, "transport stopped") and joins
  // the loop thread. Idempotent; the destructor calls it.
  // REQUIRES: not called from a `done` callback (the loop cannot join itself); from there it
  // only begins the shutdown, and the transport must still be destroyed on another thread.
  virtual void Stop() = 0;
};

// The libcurl transport: one loop thread and one connection pool per instance.
std::unique_ptr<HttpTransport> MakeCurlTransport(CurlTransportOptions options);

}  // namespace ulak::delivery
