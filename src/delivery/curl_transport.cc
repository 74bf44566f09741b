// HttpTransport over libcurl's multi interface, driven by one Asio loop.
//
// Threading: everything here, every curl call included, lives on the delivery loop, one
// thread running io_. Other threads only post() to it (Send, Stop). curl is driven by
// curl_multi_socket_action: it tells us which sockets to watch (OnCurlSocket) and when to
// call back (OnCurlTimer); we report readiness and timeouts; finished transfers come out of
// curl_multi_info_read. No thread per request; connections (and the DNS cache) live in the
// one CURLM and are reused across requests.
//
// Sockets: curl opens connection sockets through OpenSocket (which runs the AddressFilter)
// and closes them through CloseSocket; the threaded resolver's socketpair it opens and
// closes itself, but announces with CURL_POLL_REMOVE first. We watch each fd with a
// posix::stream_descriptor that never owns it and is release()d before curl closes the fd,
// so nothing is closed twice and epoll never holds a registration for a recycled fd number.
//
// Readiness: Asio's epoll reactor is edge-triggered and an async_wait is never speculative,
// so an edge that came while no wait was queued would be lost. curl expects level-triggered
// readiness, so before queueing a wait we poll() the fd once and, if it is ready already,
// post the event instead of waiting for an edge that may never come.
//
// Errors: curl codes become TransportError values; Asio is called through error_code
// overloads; no exception crosses a curl callback or leaves this file.
#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "common/thread_name.h"
#include "delivery/delivery_loop.h"
#include "delivery/http_transport.h"

namespace ulak::delivery {

const char* TransportErrorName(TransportError error) {
  switch (error) {
    case TransportError::kNone: return "none";
    case TransportError::kTimeout: return "timeout";
    case TransportError::kConnect: return "connect";
    case TransportError::kDns: return "dns";
    case TransportError::kTls: return "tls";
    case TransportError::kBlocked: return "blocked";
    case TransportError::kTooLarge: return "too_large";
    case TransportError::kOther: return "other";
  }
  return "other";
}

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kStoppedMessage = "transport stopped";
// Easy handles kept for reuse; beyond this, finished ones are freed. Connections are not
// affected: they live in the multi handle's cache either way.
constexpr size_t kMaxIdleEasyHandles = 256;

std::once_flag curl_init_once;

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

bool IsTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Empty if the header can be sent as is; otherwise why not. CR/LF would let a header value
// smuggle in headers or a second request; framing headers are curl's to write.
std::string CheckHeader(const std::string& name, const std::string& value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
    return "invalid header name \"" + name + "\"";
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return "header " + name + " has a CR, LF or NUL in its value";
  }
  if (IEquals(name, "content-length") || IEquals(name, "transfer-encoding")) {
    return "header " + name + " is set by the transport";
  }
  return "";
}

// URL parts for error messages; empty when curl cannot parse the URL.
std::string UrlPart(const std::string& url, CURLUPart part) {
  std::string out;
  CURLU* u = curl_url();
  if (u == nullptr) return out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* value = nullptr;
    if (curl_url_get(u, part, &value, CURLU_DEFAULT_PORT) == CURLUE_OK && value != nullptr) {
      out = value;
    }
    curl_free(value);
  }
  curl_url_cleanup(u);
  return out;
}

std::string HostPort(std::string host, const std::string& port) {
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return port.empty() ? host : host + ":" + port;
}

bool IsTlsError(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

// One POST in flight. Heap-allocated and pinned: curl holds pointers to it (CURLOPT_PRIVATE,
// the write and open-socket callbacks, the error buffer) and to request.Body() (POSTFIELDS).
struct Transfer {
  Transfer(OutgoingRequest r, HttpTransport::Callback d) : request(std::move(r)), done(std::move(d)) {}
  ~Transfer() { curl_slist_free_all(headers); }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  OutgoingRequest request;
  HttpTransport::Callback done;  // moved out when called: runs exactly once
  CURL* easy = nullptr;          // borrowed from the transport while in flight
  curl_slist* headers = nullptr;
  TransportResult result;
  size_t max_body = 0;
  const AddressFilter* filter = nullptr;  // the transport's; null: allow all
  std::string blocked_reason;  // the first address the filter refused
  int allowed_connects = 0;    // addresses the filter let through
  SteadyClock::time_point started = SteadyClock::now();
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// One socket curl asked us to watch. Never owns the fd (see the file comment).
// Lives on the delivery loop.
struct SocketWatch {
  SocketWatch(asio::io_context& io, curl_socket_t f) : descriptor(io), fd(f) {}
  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  int wanted = 0;  // CURL_POLL_IN | CURL_POLL_OUT bits
  bool read_queued = false;
  bool write_queued = false;
  bool removed = false;  // curl is done with it: late handlers must not touch curl
};

enum class Direction { kRead, kWrite };

class CurlTransport final : public HttpTransport, public DeliveryLoop {
 public:
  explicit CurlTransport(CurlTransportOptions options)
      : options_(std::move(options)), work_(asio::make_work_guard(io_)), timer_(io_) {
    std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    if (multi_ != nullptr) {
      curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlTransport::SocketThunk);
      curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
      curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlTransport::TimerThunk);
      curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
      for (const std::string& entry : options_.resolve_for_test) {
        resolve_ = curl_slist_append(resolve_, entry.c_str());
      }
      if (options_.max_total_connections > 0) {
        curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
      }
      if (options_.max_idle_connections > 0) {
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_idle_connections);
      }
    } else {
      Log(LogLevel::kError, "curl_multi_init failed; every delivery attempt will fail");
    }
    thread_ = std::thread([this] { RunLoop(); });
    loop_thread_id_ = thread_.get_id();
  }

  ~CurlTransport() override {
    if (std::this_thread::get_id() == loop_thread_id_) {
      // Destroying the loop from inside itself cannot be made safe; fail loudly.
      Log(LogLevel::kError, "HttpTransport destroyed on its own loop thread");
      std::abort();
    }
    Stop();
    curl_slist_free_all(resolve_);
  }

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  void Send(OutgoingRequest request, Callback done) override {
    auto transfer = std::make_unique<Transfer>(std::move(request), std::move(done));
    {
      std::lock_guard lock(mu_);
      if (!stopped_) {
        asio::post(io_, [this, t = std::move(transfer)]() mutable { Start(std::move(t)); });
        return;
      }
    }
    transfer->result.error = TransportError::kOther;
    transfer->result.error_message = kStoppedMessage;
    Complete(std::move(transfer));
  }

  DeliveryLoop* Loop() override { return this; }

  // ---- DeliveryLoop: the engine's scheduler runs on this loop too ----

  bool Post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    // Under mu_, like Send: anything accepted runs before Shutdown.
    asio::post(io_, std::move(fn));
    return true;
  }

  bool InLoop() const override { return std::this_thread::get_id() == loop_thread_id_; }

  void WakeAt(const Clock& clock, TimePoint due, std::chrono::milliseconds recheck,
              std::function<void()> fn) override {
    ArmWake(std::make_shared<asio::steady_timer>(io_), clock, due, recheck, std::move(fn));
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (!stopped_) {
        stopped_ = true;
        // Posted under mu_, so it runs after every Send that got in before it.
        asio::post(io_, [this] { Shutdown(); });
      }
    }
    if (std::this_thread::get_id() == loop_thread_id_) return;  // see the REQUIRES in the header
    std::lock_guard lock(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  // ---- curl callbacks (C linkage in spirit: nothing may throw through them) ----

  static int SocketThunk(CURL*, curl_socket_t fd, int what, void* self, void*) {
    try {
      static_cast<CurlTransport*>(self)->OnCurlSocket(fd, what);
      return 0;
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "curl socket callback failed", {{"error", e.what()}});
      return -1;
    }
  }

  static int TimerThunk(CURLM*, long timeout_ms, void* self) {
    try {
      static_cast<CurlTransport*>(self)->OnCurlTimer(timeout_ms);
      return 0;
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "curl timer callback failed", {{"error", e.what()}});
      return -1;
    }
  }

  static size_t WriteBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    const size_t room = t->max_body - std::min(t->max_body, t->result.body.size());
    if (n > room) {
      // Keep reading (and dropping) rather than aborting: the status still counts, and an
      // aborted transfer would cost the connection.
      t->result.body.append(data, room);
      t->result.body_truncated = true;
    } else {
      t->result.body.append(data, n);
    }
    return n;
  }

  // The SSRF seam: every address curl is about to connect to, after DNS.
  static curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(user);
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    if (t->filter != nullptr && *t->filter) {
      std::string reason;
      try {
        reason = (*t->filter)(&address->addr, static_cast<socklen_t>(address->addrlen));
      } catch (...) {
        reason = "blocked: the address filter failed";
      }
      if (!reason.empty()) {
        if (t->blocked_reason.empty()) t->blocked_reason = std::move(reason);
        return CURL_SOCKET_BAD;
      }
    }
    ++t->allowed_connects;
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }

  // Set per connection, so it may run long after the transfer that opened the socket (when
  // the connection cache drops it): the user pointer is the transport, not the transfer.
  static int CloseSocket(void* self, curl_socket_t fd) {
    static_cast<CurlTransport*>(self)->Unwatch(fd);
    return ::close(fd);
  }

  // ---- the loop ----

  // Waits on the steady clock for at most `recheck`, then looks at `clock` again: a system
  // clock that jumped or a ManualClock moved by hand is noticed within `recheck`.
  void ArmWake(std::shared_ptr<asio::steady_timer> timer, const Clock& clock, TimePoint due,
               std::chrono::milliseconds recheck, std::function<void()> fn) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - clock.Now());
    if (left.count() <= 0 || shutting_down_) {
      if (!shutting_down_) asio::post(io_, std::move(fn));
      return;
    }
    timer->expires_after(std::min(left, std::max(recheck, std::chrono::milliseconds(1))));
    timer->async_wait([this, timer, &clock, due, recheck, fn = std::move(fn)](const error_code& ec) mutable {
      if (ec || shutting_down_) return;
      ArmWake(std::move(timer), clock, due, recheck, std::move(fn));
    });
  }

  void RunLoop() {
    SetCurrentThreadName("ulak-delivery");
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // A bug, or a `done` callback that threw; the loop must go on for everyone else.
        Log(LogLevel::kError, "delivery loop handler threw", {{"error", e.what()}});
      }
    }
  }

  // REQUIRES: on the delivery loop.
  void Start(std::unique_ptr<Transfer> t) {
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopped_;
    }
    if (stopping || multi_ == nullptr) {
      Fail(std::move(t), TransportError::kOther, stopping ? kStoppedMessage : "transport unavailable");
      return;
    }
    t->started = SteadyClock::now();
    if (std::string problem = Configure(*t); !problem.empty()) {
      Fail(std::move(t), TransportError::kOther, std::move(problem));
      return;
    }
    if (CURLMcode rc = curl_multi_add_handle(multi_, t->easy); rc != CURLM_OK) {
      Fail(std::move(t), TransportError::kOther,
           std::string("could not start the request: ") + curl_multi_strerror(rc));
      return;
    }
    // curl now asks for a timeout of 0 (OnCurlTimer), which starts the transfer.
    CURL* easy = t->easy;
    transfers_.emplace(easy, std::move(t));
  }

  // Takes an easy handle and sets every option; returns why not on failure.
  std::string Configure(Transfer& t) {
    for (const auto& [name, value] : t.request.headers) {
      if (std::string problem = CheckHeader(name, value); !problem.empty()) return problem;
    }
    t.easy = AcquireEasy();
    if (t.easy == nullptr) return "could not create a curl handle";
    bool has_content_type = false;
    bool out_of_memory = false;
    auto add_header = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(t.headers, line.c_str());
      if (next == nullptr) out_of_memory = true;
      else t.headers = next;
    };
    for (const auto& [name, value] : t.request.headers) {
      has_content_type = has_content_type || IEquals(name, "content-type");
      // "Name:" would make curl drop the header; "Name;" is its spelling of an empty value.
      add_header(value.empty() ? name + ";" : name + ": " + value);
    }
    // curl would claim application/x-www-form-urlencoded for a POST; say nothing instead.
    if (!has_content_type) add_header("Content-Type:");
    add_header("Expect:");  // no 100-continue round trip
    if (out_of_memory) return "out of memory building headers";

    CURL* e = t.easy;
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
    };
    const long timeout_ms = std::max<long>(1, static_cast<long>(t.request.timeout.count()));
    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_ERRORBUFFER, t.error_buffer);
    set(CURLOPT_URL, t.request.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    // No proxy, not even one from http_proxy & co.: the address filter must see the real
    // destination.
    set(CURLOPT_PROXY, "");
    if (resolve_ != nullptr) set(CURLOPT_RESOLVE, resolve_);
    set(CURLOPT_POST, 1L);
    // A template's PATCH (Salesforce upsert) still sends its body like a POST; an easy handle
    // may be reused, so POST resets the verb explicitly.
    set(CURLOPT_CUSTOMREQUEST,
        t.request.method == "POST" ? static_cast<const char*>(nullptr) : t.request.method.c_str());
    set(CURLOPT_POSTFIELDS, t.request.Body().data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.request.Body().size()));
    // Another method (a template's or a transform's) keeps the body: PUT, PATCH...
    // (Set every time: a reused handle must not keep the previous request's method.)
    set(CURLOPT_CUSTOMREQUEST, t.request.method != "POST" ? t.request.method.c_str() : nullptr);
    set(CURLOPT_HTTPHEADER, t.headers);
    set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(CURLOPT_TIMEOUT_MS, timeout_ms);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_TCP_NODELAY, 1L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_WRITEFUNCTION, &CurlTransport::WriteBody);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_OPENSOCKETFUNCTION, &CurlTransport::OpenSocket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&t));
    set(CURLOPT_CLOSESOCKETFUNCTION, &CurlTransport::CloseSocket);
    set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
    if (rc != CURLE_OK) return std::string("could not configure the request: ") + curl_easy_strerror(rc);
    t.max_body = options_.max_response_bytes;
    t.filter = &options_.address_filter;
    return "";
  }

  CURL* AcquireEasy() {
    if (idle_easies_.empty()) return curl_easy_init();
    CURL* easy = idle_easies_.back();
    idle_easies_.pop_back();
    return easy;
  }

  void RecycleEasy(CURL* easy) {
    if (idle_easies_.size() < kMaxIdleEasyHandles) {
      curl_easy_reset(easy);
      idle_easies_.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  // REQUIRES: on the delivery loop, not inside a curl call.
  void Drive(curl_socket_t fd, int events) {
    int running = 0;
    if (CURLMcode rc = curl_multi_socket_action(multi_, fd, events, &running); rc != CURLM_OK) {
      Log(LogLevel::kError, "curl_multi_socket_action failed", {{"error", curl_multi_strerror(rc)}});
    }
    int queued = 0;
    in_completions_ = true;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      // msg dies with curl_multi_remove_handle: copy what we need first.
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Finish(easy, code);
    }
    in_completions_ = false;
    // The turn's completions have all run their callbacks: now what they deferred (the
    // engine's one batch of outcomes for the writer). Taken out first: `fn` may send.
    std::vector<std::function<void()>> after = std::move(after_callbacks_);
    after_callbacks_.clear();
    for (auto& fn : after) fn();
  }

  void AfterCallbacks(std::function<void()> fn) override {
    if (std::this_thread::get_id() == loop_thread_id_ && in_completions_) {  // only the loop reads the flag
      after_callbacks_.push_back(std::move(fn));
      return;
    }
    fn();
  }

  void Finish(CURL* easy, CURLcode code) {
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) {  // cannot happen: every handle we add is in transfers_
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
      return;
    }
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    t->result.status = static_cast<int>(status);
    if (status != 0) {
      t->result.retry_after = LastHeader(easy, "Retry-After");
      t->result.location = LastHeader(easy, "Location");
    }
    if (code != CURLE_OK) Classify(*t, code);
    curl_multi_remove_handle(multi_, easy);
    t->easy = nullptr;
    RecycleEasy(easy);
    Complete(std::move(t));
  }

  // The value of the final response's header `name`, empty when absent.
  static std::string LastHeader(CURL* easy, const char* name) {
    struct curl_header* h = nullptr;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == nullptr) return "";
    return h->value;
  }

  // Turns a curl failure into an error category and a sentence. REQUIRES: t.easy is set.
  static void Classify(Transfer& t, CURLcode code) {
    TransportResult& r = t.result;
    const std::string detail = t.error_buffer[0] != '\0' ? t.error_buffer : curl_easy_strerror(code);
    if (!t.blocked_reason.empty() && t.allowed_connects == 0) {
      // Every address was refused by the filter; whatever curl made of that, this is why.
      r.error = TransportError::kBlocked;
      r.error_message = t.blocked_reason;
      return;
    }
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        r.error = TransportError::kTimeout;
        r.error_message = "timed out after " + std::to_string(t.request.timeout.count()) + " ms";
        return;
      case CURLE_COULDNT_RESOLVE_HOST:
        r.error = TransportError::kDns;
        r.error_message = "could not resolve host " + UrlPart(t.request.url, CURLUPART_HOST);
        return;
      case CURLE_COULDNT_CONNECT: {
        r.error = TransportError::kConnect;
        r.error_message = ConnectMessage(t);
        if (!t.blocked_reason.empty()) r.error_message += " (other addresses " + t.blocked_reason + ")";
        return;
      }
      default:
        break;
    }
    if (IsTlsError(code)) {
      r.error = TransportError::kTls;
      r.error_message = "TLS error: " + detail;
      return;
    }
    r.error = TransportError::kOther;
    r.error_message = detail;
  }

  static std::string ConnectMessage(const Transfer& t) {
    long os_errno = 0;
    char* ip = nullptr;
    long port = 0;
    curl_easy_getinfo(t.easy, CURLINFO_OS_ERRNO, &os_errno);
    curl_easy_getinfo(t.easy, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(t.easy, CURLINFO_PRIMARY_PORT, &port);
    std::string where = (ip != nullptr && ip[0] != '\0' && port > 0)
                            ? HostPort(ip, std::to_string(port))
                            : HostPort(UrlPart(t.request.url, CURLUPART_HOST),
                                       UrlPart(t.request.url, CURLUPART_PORT));
    if (os_errno == ECONNREFUSED) return "connection refused to " + where;
    if (os_errno != 0) {
      return "could not connect to " + where + ": " + std::strerror(static_cast<int>(os_errno));
    }
    return "could not connect to " + where;
  }

  void Fail(std::unique_ptr<Transfer> t, TransportError error, std::string message) {
    if (t->easy != nullptr) {
      RecycleEasy(t->easy);
      t->easy = nullptr;
    }
    t->result.error = error;
    t->result.error_message = std::move(message);
    Complete(std::move(t));
  }

  // Hands the result over. Runs `done` on the caller's thread: the loop, or a sender after
  // Stop().
  static void Complete(std::unique_ptr<Transfer> t) {
    t->result.response_time_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t->started).count();
    Callback done = std::move(t->done);
    TransportResult result = std::move(t->result);
    t.reset();  // the request (and its body) can go before the callback runs
    if (!done) return;
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "transport callback threw", {{"error", e.what()}});
    }
  }

  // ---- readiness ----

  void OnCurlSocket(curl_socket_t fd, int what) {
    if (what == CURL_POLL_REMOVE) {
      Unwatch(fd);
      return;
    }
    std::shared_ptr<SocketWatch>& slot = sockets_[fd];
    if (!slot) {
      auto watch = std::make_shared<SocketWatch>(io_, fd);
      error_code ec;
      watch->descriptor.assign(fd, ec);
      if (ec) {
        // Cannot watch it: the transfer will run into its timeout rather than hang forever.
        Log(LogLevel::kError, "cannot watch a curl socket", {{"error", ec.message()}});
        sockets_.erase(fd);
        return;
      }
      slot = std::move(watch);
    }
    const std::shared_ptr<SocketWatch> watch = slot;
    watch->wanted = what;
    if ((what & CURL_POLL_IN) != 0) Arm(watch, Direction::kRead);
    if ((what & CURL_POLL_OUT) != 0) Arm(watch, Direction::kWrite);
  }

  void Unwatch(curl_socket_t fd) {
    auto it = sockets_.find(fd);
    if (it == sockets_.end()) return;
    std::shared_ptr<SocketWatch> watch = std::move(it->second);
    sockets_.erase(it);
    watch->removed = true;
    watch->wanted = 0;
    // Deregisters from epoll and aborts queued waits; the fd stays open for curl to close.
    watch->descriptor.release();
  }

  void Arm(const std::shared_ptr<SocketWatch>& watch, Direction dir) {
    bool& queued = dir == Direction::kRead ? watch->read_queued : watch->write_queued;
    if (queued) return;
    queued = true;
    pollfd p{};
    p.fd = watch->fd;
    p.events = dir == Direction::kRead ? POLLIN : POLLOUT;
    if (::poll(&p, 1, 0) > 0 && p.revents != 0) {
      // Ready already: an edge-triggered wait might never fire (see the file comment).
      const bool error = (p.revents & (POLLERR | POLLNVAL)) != 0;
      asio::post(io_, [this, watch, dir, error] {
        OnReady(watch, dir, error ? asio::error::make_error_code(asio::error::connection_reset)
                                  : error_code());
      });
      return;
    }
    watch->descriptor.async_wait(
        dir == Direction::kRead ? asio::posix::descriptor_base::wait_read
                                : asio::posix::descriptor_base::wait_write,
        [this, watch, dir](const error_code& ec) { OnReady(watch, dir, ec); });
  }

  void OnReady(const std::shared_ptr<SocketWatch>& watch, Direction dir, const error_code& ec) {
    (dir == Direction::kRead ? watch->read_queued : watch->write_queued) = false;
    if (watch->removed || shutting_down_ || ec == asio::error::operation_aborted) return;
    const int poll_bit = dir == Direction::kRead ? CURL_POLL_IN : CURL_POLL_OUT;
    if ((watch->wanted & poll_bit) == 0) return;  // curl changed its mind meanwhile
    int events = dir == Direction::kRead ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
    if (ec) events |= CURL_CSELECT_ERR;
    Drive(watch->fd, events);
    // After an error curl closes or re-registers the socket; re-arming here could spin.
    if (!ec && !watch->removed && (watch->wanted & poll_bit) != 0) Arm(watch, dir);
  }

  void OnCurlTimer(long timeout_ms) {
    if (shutting_down_) return;
    if (timeout_ms < 0) {
      timer_armed_ = false;
      timer_.cancel();
      return;
    }
    // Never call curl from inside its own callback: even a 0 timeout goes through the loop.
    // curl asks for a 0 timeout on every new transfer; re-arming the Asio timer for each
    // reprogrammed the reactor's timerfd (a system call) and cost a third of this thread, so
    // "now" is a coalesced post and an unchanged deadline is left alone.
    if (timeout_ms == 0) {
      if (!zero_timeout_posted_) {
        zero_timeout_posted_ = true;
        asio::post(io_, [this] {
          zero_timeout_posted_ = false;
          if (!shutting_down_) Drive(CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (timer_armed_ && deadline >= timer_deadline_ && deadline - timer_deadline_ < std::chrono::milliseconds(2)) {
      return;
    }
    timer_armed_ = true;
    timer_deadline_ = deadline;
    timer_.expires_at(deadline);
    timer_.async_wait([this](const error_code& ec) {
      if (ec || shutting_down_) return;
      timer_armed_ = false;
      Drive(CURL_SOCKET_TIMEOUT, 0);
    });
  }

  // REQUIRES: on the delivery loop; runs once, after every Send accepted before Stop().
  void Shutdown() {
    shutting_down_ = true;
    timer_.cancel();
    std::vector<std::unique_ptr<Transfer>> stopped;
    stopped.reserve(transfers_.size());
    for (auto& [easy, t] : transfers_) {
      curl_multi_remove_handle(multi_, easy);  // closes its connection through CloseSocket
      curl_easy_cleanup(easy);
      t->easy = nullptr;
      stopped.push_back(std::move(t));
    }
    transfers_.clear();
    for (CURL* easy : idle_easies_) curl_easy_cleanup(easy);
    idle_easies_.clear();
    if (multi_ != nullptr) curl_multi_cleanup(multi_);  // closes cached connections
    multi_ = nullptr;
    while (!sockets_.empty()) Unwatch(sockets_.begin()->first);
    // Callbacks last: one that calls Send() finds the transport stopped, not half torn down.
    for (auto& t : stopped) {
      t->result.error = TransportError::kOther;
      t->result.error_message = kStoppedMessage;
      Complete(std::move(t));
    }
    work_.reset();
    io_.stop();  // drops the aborted waits still queued; they only hold SocketWatches
  }

  const CurlTransportOptions options_;

  std::mutex mu_;
  bool stopped_ = false;  // GUARDED_BY(mu_)
  std::mutex join_mu_;    // serialises joins of thread_ by concurrent Stop() calls

  // Declared before everything that registers with it, so it is destroyed last.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  // Lives on the delivery loop, as does everything below.
  asio::steady_timer timer_;
  CURLM* multi_ = nullptr;
  curl_slist* resolve_ = nullptr;  // CURLOPT_RESOLVE entries; read-only after construction
  // The curl timer, on the loop only: whether it is armed, for when, and whether a "now" is
  // already posted.
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point timer_deadline_;
  bool zero_timeout_posted_ = false;
  // Loop thread only: inside Drive's completion loop, and what callbacks deferred to its end.
  bool in_completions_ = false;
  std::vector<std::function<void()>> after_callbacks_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> sockets_;
  std::vector<CURL*> idle_easies_;
  bool shutting_down_ = false;

  std::thread thread_;
  std::thread::id loop_thread_id_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport(CurlTransportOptions options) {
  return std::make_unique<CurlTransport>(std::move(options));
}

}  // namespace ulak::delivery
