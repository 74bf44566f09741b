// The HTTP/1.1 server over Boost.Beast. With beast_impl.cc, the only file that sees Beast.
//
// Threading: one event loop per thread (Envoy's dispatchers). N loops, each an io_context
// built with concurrency hint 1 and run by exactly one thread ("ulak-http-<i>"), N being
// ServerOptions::threads. The acceptor lives on loop 0 and hands each accepted connection to
// the next loop in turn (round robin over the loops whose thread started): the socket is
// accepted straight onto that loop's executor, and the Session lives there for good. State
// a loop owns is touched only on that loop, so a Session needs no strand and no lock; other
// threads (a handler replying later, the acceptor starting a Session, Stop()) reach it by
// posting to its loop, one post per reply. With one thread per io_context Asio takes its
// single-thread paths (a post from the loop itself goes to a thread-private queue, no wake),
// and no handler hops between threads through the scheduler's mutex and condition variable.
// The registry of live sessions (ServerCore) is shared by the loops and locked once per
// connection opened or closed, never per request.
//
// Lifetime: the server holds a strong reference to every live Session, so no socket can
// outlive the loop (io_context) it is registered with; a Session is only ever referred to
// from its own loop's queue. A Reply holds only a weak reference plus the ReplyGate, which
// Stop() closes before the loops go away: a Reply called after that is dropped instead of
// posting into freed memory.
//
// Errors: Asio and Beast are called through their error_code overloads; the few calls that
// can still throw (allocation, handler code) are caught here, so no exception leaves this file.
#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/thread_name.h"

namespace ulak::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;
// Every I/O object is bound to its loop's concrete executor, not any_io_executor: no type
// erasure on each completion, and the loop is explicit in the type.
using LoopExecutor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, LoopExecutor>;
using Stream = beast::basic_stream<tcp, LoopExecutor, beast::unlimited_rate_policy>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, LoopExecutor>;
using Acceptor = asio::basic_socket_acceptor<tcp, LoopExecutor>;

// How long a client gets to take a response off our hands; a stalled reader is closed.
constexpr std::chrono::seconds kWriteTimeout{30};
// After a final response we half-close and read (and drop) whatever the client still sends
// before closing; closing with unread input makes the kernel send RST, which can destroy the
// response (say a 413) before the client reads it. Bounded in time and bytes.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr size_t kMaxLingerBytes = 1 << 20;
constexpr size_t kReadChunk = 8 * 1024;
// Beast stores header field sizes in 16 bits; longer values from a handler would throw.
constexpr size_t kMaxResponseHeaderName = 256;
constexpr size_t kMaxResponseHeaderValue = 32 * 1024;
constexpr size_t kMaxRequestIdLength = 128;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

bool IContains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (IEquals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

Method MethodFromVerb(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::patch: return Method::kPatch;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::options: return Method::kOptions;
    default: return Method::kOther;
  }
}

// A client-chosen X-Request-Id ends up in logs and response headers, so only a short,
// plain token is trusted.
bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool IsTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Refuses handler headers that would corrupt the framing (CR/LF injection) or make Beast throw.
bool IsValidResponseHeader(const Header& h) {
  if (h.name.empty() || h.name.size() > kMaxResponseHeaderName) return false;
  if (!std::all_of(h.name.begin(), h.name.end(), IsTokenChar)) return false;
  if (h.value.size() > kMaxResponseHeaderValue) return false;
  return h.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// Splits a request-target into path and query. An absolute-form target
// ("http://host/p?q") is reduced to its path so routes see the same thing either way.
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view target) {
  std::string_view query;
  const size_t q = target.find('?');
  if (q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  if (!target.empty() && target.front() != '/' && target != "*") {
    const size_t scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      const size_t slash = target.find('/', scheme + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  return {target, query};
}

const boost::system::error_category& BeastHttpCategory() {
  static const boost::system::error_category& category =
      bhttp::make_error_code(bhttp::error::bad_target).category();
  return category;
}

class Session;

// Shuts the door on Replies once the io_context is about to be destroyed.
struct ReplyGate {
  std::mutex mu;
  bool open = true;  // GUARDED_BY(mu)
};

// What a BeastServer shares with its Sessions, on every loop. Outlives every Session
// callback: Stop() joins the loop threads before the server (and this) is destroyed.
class ServerCore {
 public:
  ServerCore(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  const std::shared_ptr<ReplyGate>& gate() const { return gate_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Connections open now (registered sessions).
  size_t SessionCount() {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }

  // False once stopping: a connection accepted in the race with Stop() is just dropped.
  bool Register(std::shared_ptr<Session> session) {
    std::lock_guard lock(mu_);
    if (stopping_.load(std::memory_order_relaxed)) return false;
    Session* key = session.get();
    sessions_.emplace(key, std::move(session));
    return true;
  }

  void Unregister(Session* session) {
    std::shared_ptr<Session> released;  // dies outside the lock
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    released = std::move(it->second);
    sessions_.erase(it);
    if (sessions_.empty()) sessions_empty_.notify_all();
  }

  // Marks the server as stopping and returns the sessions live at that moment; any
  // session registered later sees stopping() on its own.
  std::vector<std::shared_ptr<Session>> BeginStop() {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
    std::vector<std::shared_ptr<Session>> out;
    out.reserve(sessions_.size());
    for (const auto& [key, session] : sessions_) out.push_back(session);
    return out;
  }

  // True if every session ended before the deadline.
  bool WaitForSessions(SteadyTime deadline) {
    std::unique_lock lock(mu_);
    return sessions_empty_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
  }

  std::unordered_map<Session*, std::shared_ptr<Session>> TakeSessions() {
    std::lock_guard lock(mu_);
    return std::exchange(sessions_, {});
  }

  void CloseGate() {
    std::lock_guard lock(gate_->mu);
    gate_->open = false;
  }

 private:
  const ServerOptions options_;
  const Handler handler_;
  const std::shared_ptr<ReplyGate> gate_ = std::make_shared<ReplyGate>();
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable sessions_empty_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;  // GUARDED_BY(mu_)
};

// One connection: reads requests one after another, hands each to the Handler and writes
// its response. All members are touched only on the connection's loop (executor_), except
// executor_ itself, which is immutable. Built on the acceptor's loop before Start(); from
// then on only its own loop touches it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, ServerCore& core)
      : core_(core), stream_(std::move(socket)), executor_(stream_.get_executor()), read_timer_(executor_) {
    error_code ec;
    const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = remote.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);  // best effort
  }

  const LoopExecutor& executor() const { return executor_; }

  // Any thread.
  void Start() {
    asio::post(executor_, [self = shared_from_this()] { self->AwaitRequest(); });
  }

  // Any thread: the server is stopping; idle connections close now.
  void NotifyServerStopping() {
    asio::post(executor_, [self = shared_from_this()] { self->OnServerStopping(); });
  }

  // REQUIRES: on the session's loop (posted there by a ReplyState).
  void OnReply(Response&& response);

  // REQUIRES: no I/O thread is running (the io_context is stopped and its threads joined).
  void CloseAfterIoStopped() { CloseNow(); }

 private:
  enum class State { kAwaiting, kReadingHeader, kReadingBody, kHandling, kWriting, kLingering, kClosed };

  void AwaitRequest();
  void OnFirstBytes(const error_code& ec, size_t n);
  void ReadHeader();
  void OnHeader(const error_code& ec);
  void ReadBody();
  void OnBody(const error_code& ec);
  void OnReadError(const error_code& ec);
  void Dispatch();
  void SendError(int status, std::string_view code, std::string message);
  void WriteResponse(Response&& response);
  void OnWritten(const error_code& ec, bool keep_alive);
  void LingerClose();
  void Drain();
  void CloseNow();
  void OnServerStopping();
  void LogAccess();

  // The read deadline. Not tcp_stream::expires_after: its expiry closes the socket, and a
  // slow client must still get its 408. Expiry cancels the pending read instead.
  void ArmReadTimer(std::chrono::milliseconds timeout);
  void DisarmReadTimer();

  ServerCore& core_;
  Stream stream_;
  const LoopExecutor executor_;
  Timer read_timer_;
  uint64_t read_timer_generation_ = 0;
  bool read_timed_out_ = false;

  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<BeastResponse> response_;
  State state_ = State::kAwaiting;
  bool first_request_ = true;
  size_t lingered_bytes_ = 0;
  std::string remote_address_;

  // The request being served, for the response and the access log.
  SteadyTime request_start_{};
  std::string request_id_;
  std::string method_;
  std::string path_;
  unsigned version_ = 11;
  bool is_head_ = false;
  bool client_keep_alive_ = false;
  bool close_after_response_ = false;
  int status_ = 0;
};

// Shared by the copies of one Reply; makes the first call win and turns a Reply that was
// dropped unanswered into a 500, so a connection never hangs on a forgotten request.
class ReplyState {
 public:
  ReplyState(std::weak_ptr<Session> session, std::shared_ptr<ReplyGate> gate)
      : session_(std::move(session)), gate_(std::move(gate)) {}
  ReplyState(const ReplyState&) = delete;
  ReplyState& operator=(const ReplyState&) = delete;

  ~ReplyState() {
    if (sent_.exchange(true)) return;
    try {
      Log(LogLevel::kError, "handler dropped its reply without answering");
      Deliver(ErrorResponse(500, "internal", "internal error"));
    } catch (...) {
      // Out of memory while building the 500; the connection closes at Stop() at the latest.
    }
  }

  void Send(Response&& response) {
    if (sent_.exchange(true)) {
      Log(LogLevel::kWarn, "reply called more than once; extra response dropped");
      return;
    }
    Deliver(std::move(response));
  }

 private:
  void Deliver(Response&& response) noexcept {
    try {
      std::lock_guard lock(gate_->mu);
      if (!gate_->open) return;
      std::shared_ptr<Session> session = session_.lock();
      if (!session) return;
      const LoopExecutor& executor = session->executor();
      asio::post(executor, [session = std::move(session), response = std::move(response)]() mutable {
        session->OnReply(std::move(response));
      });
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "cannot deliver reply", {{"error", e.what()}});
    } catch (...) {
      Log(LogLevel::kError, "cannot deliver reply");
    }
  }

  const std::weak_ptr<Session> session_;
  const std::shared_ptr<ReplyGate> gate_;
  std::atomic<bool> sent_{false};
};

void Session::ArmReadTimer(std::chrono::milliseconds timeout) {
  const uint64_t generation = ++read_timer_generation_;
  read_timed_out_ = false;
  read_timer_.expires_after(timeout);
  read_timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    // A cancelled or superseded timer may still complete "successfully" if it had already
    // fired; the generation tells.
    if (ec || generation != self->read_timer_generation_ || self->state_ == State::kClosed) return;
    self->read_timed_out_ = true;
    error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
}

void Session::DisarmReadTimer() {
  ++read_timer_generation_;
  read_timer_.cancel();
}

void Session::AwaitRequest() {
  if (state_ == State::kClosed) return;
  if (core_.stopping()) {
    CloseNow();
    return;
  }
  const ServerOptions& options = core_.options();
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  parser_->body_limit(static_cast<uint64_t>(options.max_body_bytes));
  request_id_.clear();
  method_.clear();
  path_.clear();
  version_ = 11;
  is_head_ = false;
  client_keep_alive_ = false;
  close_after_response_ = false;
  status_ = 0;
  stream_.expires_never();

  if (buffer_.size() > 0) {  // a pipelined request is already here
    request_start_ = std::chrono::steady_clock::now();
    ReadHeader();
    return;
  }
  // Wait for the first byte separately: until it comes the connection is idle (closed
  // silently on timeout, or at once by Stop()); after it the header deadline runs.
  state_ = State::kAwaiting;
  ArmReadTimer(first_request_ ? options.header_timeout : options.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](const error_code& ec, size_t n) {
                            self->OnFirstBytes(ec, n);
                          });
}

void Session::OnFirstBytes(const error_code& ec, size_t n) {
  if (state_ == State::kClosed) return;
  DisarmReadTimer();
  if (ec) {  // idle timeout, client gone, or Stop(): nothing was asked, nothing to answer
    CloseNow();
    return;
  }
  buffer_.commit(n);
  request_start_ = std::chrono::steady_clock::now();
  ReadHeader();
}

void Session::ReadHeader() {
  state_ = State::kReadingHeader;
  ArmReadTimer(core_.options().header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](const error_code& ec, size_t) {
    self->OnHeader(ec);
  });
}

void Session::OnHeader(const error_code& ec) {
  if (state_ == State::kClosed) return;
  DisarmReadTimer();
  {
    // Whatever of the header was parsed, even on error, so error responses and the access
    // log can say what the request was and echo its id.
    const BeastRequest& msg = parser_->get();
    method_ = std::string(Sv(msg.method_string()));
    path_ = PercentDecode(SplitTarget(Sv(msg.target())).first, false);
    version_ = msg.version() == 10 ? 10 : 11;
    is_head_ = msg.method() == bhttp::verb::head;
    client_keep_alive_ = msg.keep_alive();
    const auto id = msg.find("X-Request-Id");
    if (id != msg.end() && IsSaneRequestId(Sv(id->value()))) request_id_ = std::string(Sv(id->value()));
  }
  if (ec) {
    OnReadError(ec);
    return;
  }
  const ServerOptions& options = core_.options();
  const BeastRequest& msg = parser_->get();
  if (static_cast<size_t>(std::distance(msg.begin(), msg.end())) > options.max_header_count) {
    SendError(431, "request_header_fields_too_large",
              "the request has more than " + std::to_string(options.max_header_count) + " header fields");
    return;
  }
  // Beast already refuses a Content-Length above body_limit; this keeps the rule explicit.
  if (const auto length = parser_->content_length(); length && *length > options.max_body_bytes) {
    OnReadError(bhttp::error::body_limit);
    return;
  }
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  state_ = State::kReadingBody;
  const auto expect = msg.find(bhttp::field::expect);
  if (msg.version() >= 11 && expect != msg.end() && IEquals(Sv(expect->value()), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(kWriteTimeout);
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](const error_code& write_ec, size_t) {
                        if (self->state_ == State::kClosed) return;
                        self->stream_.expires_never();
                        if (write_ec) {
                          self->CloseNow();
                          return;
                        }
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  state_ = State::kReadingBody;
  ArmReadTimer(core_.options().body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](const error_code& ec, size_t) {
    self->OnBody(ec);
  });
}

void Session::OnBody(const error_code& ec) {
  if (state_ == State::kClosed) return;
  DisarmReadTimer();
  if (ec) {
    OnReadError(ec);
    return;
  }
  Dispatch();
}

void Session::OnReadError(const error_code& ec) {
  const ServerOptions& options = core_.options();
  if (read_timed_out_) {
    SendError(408, "request_timeout",
              state_ == State::kReadingBody ? "the request body did not arrive in time"
                                            : "the request header did not arrive in time");
  } else if (ec == bhttp::error::header_limit) {
    SendError(431, "request_header_fields_too_large",
              "the request header exceeds the limit of " + std::to_string(options.max_header_bytes) + " bytes");
  } else if (ec == bhttp::error::body_limit) {
    SendError(413, "payload_too_large",
              "the request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes");
  } else if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
             ec.category() != BeastHttpCategory()) {
    CloseNow();  // the client went away (or Stop() cancelled us): nobody to answer
  } else {
    SendError(400, "bad_request", "malformed HTTP request: " + ec.message());
  }
}

void Session::Dispatch() {
  state_ = State::kHandling;
  if (request_id_.empty()) request_id_ = NewId(SystemClock::Instance(), SystemRandom::Instance());
  BeastRequest msg = parser_->release();

  Request request;
  request.method = MethodFromVerb(msg.method());
  request.target = std::string(Sv(msg.target()));
  const auto [path, query] = SplitTarget(request.target);
  request.path = PercentDecode(path, false);
  request.query = ParseQuery(query);
  for (const auto& field : msg) {
    request.headers.push_back({std::string(Sv(field.name_string())), std::string(Sv(field.value()))});
  }
  request.body = std::move(msg.body());
  request.request_id = request_id_;
  request.remote_address = remote_address_;

  // Declared first so that a reply dropped by the handler is still logged under its id.
  ScopedRequestId scoped_id(request_id_);
  auto reply_state = std::make_shared<ReplyState>(weak_from_this(), core_.gate());
  Reply reply = [reply_state](Response&& response) { reply_state->Send(std::move(response)); };
  try {
    core_.handler()(std::move(request), std::move(reply));
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "handler threw", {{"error", e.what()}});
    reply_state->Send(ErrorResponse(500, "internal", "internal error"));
  } catch (...) {
    Log(LogLevel::kError, "handler threw");
    reply_state->Send(ErrorResponse(500, "internal", "internal error"));
  }
}

void Session::OnReply(Response&& response) {
  if (state_ != State::kHandling) return;  // closed meanwhile (forced shutdown)
  WriteResponse(std::move(response));
}

void Session::SendError(int status, std::string_view code, std::string message) {
  if (request_id_.empty()) request_id_ = NewId(SystemClock::Instance(), SystemRandom::Instance());
  // The rest of the request is unread (or unparseable): the connection cannot be reused.
  close_after_response_ = true;
  WriteResponse(ErrorResponse(status, code, message));
}

void Session::WriteResponse(Response&& response) {
  state_ = State::kWriting;
  try {
    bool keep_alive = client_keep_alive_ && !close_after_response_ && !core_.stopping();
    int status = response.status;
    if (status < 200 || status > 599) {
      Log(LogLevel::kError, "handler returned an invalid status", {{"status", status}});
      response = ErrorResponse(500, "internal", "internal error");
      status = 500;
    }
    status_ = status;
    response_.emplace();
    BeastResponse& res = *response_;
    res.version(version_);
    res.result(static_cast<unsigned>(status));
    for (const Header& h : response.headers) {
      if (!IsValidResponseHeader(h)) {
        Log(LogLevel::kWarn, "invalid response header dropped", {{"header", h.name.substr(0, 64)}});
        continue;
      }
      // The server owns the framing.
      if (IEquals(h.name, "Content-Length") || IEquals(h.name, "Transfer-Encoding")) continue;
      if (IEquals(h.name, "Connection") && IContains(h.value, "close")) keep_alive = false;
      res.insert(h.name, h.value);
    }
    if (!response.content_type.empty() && IsValidResponseHeader({"Content-Type", response.content_type})) {
      res.set(bhttp::field::content_type, response.content_type);
    }
    res.set(bhttp::field::server, "ulak");
    res.set("X-Request-Id", request_id_);
    const bool no_body_status = status == 204 || status == 304;
    if (!no_body_status) {
      res.content_length(response.body.size());
      // HEAD: the length of the body a GET would get, but not the body.
      if (!is_head_) res.body() = std::move(response.body);
    }
    res.keep_alive(keep_alive);
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(stream_, res, [self = shared_from_this(), keep_alive](const error_code& ec, size_t) {
      self->OnWritten(ec, keep_alive);
    });
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "cannot write response", {{"error", e.what()}});
    CloseNow();
  }
}

void Session::OnWritten(const error_code& ec, bool keep_alive) {
  if (state_ == State::kClosed) return;
  stream_.expires_never();
  response_.reset();
  LogAccess();
  if (ec) {
    CloseNow();
    return;
  }
  if (!keep_alive) {
    LingerClose();
    return;
  }
  first_request_ = false;
  AwaitRequest();
}

void Session::LogAccess() {
  const double duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - request_start_).count();
  ScopedRequestId scoped_id(request_id_);
  // Never headers, query or body: they carry credentials and payloads.
  Log(LogLevel::kInfo, "request",
      {{"method", method_.empty() ? std::string_view("-") : std::string_view(method_)},
       {"path", path_.empty() ? std::string_view("-") : std::string_view(path_)},
       {"status", status_},
       {"duration_ms", duration_ms},
       {"remote", remote_address_}});
}

void Session::LingerClose() {
  if (core_.stopping()) {
    CloseNow();
    return;
  }
  state_ = State::kLingering;
  error_code ignored;
  stream_.socket().shutdown(Socket::shutdown_send, ignored);
  lingered_bytes_ = 0;
  ArmReadTimer(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTimeout));
  Drain();
}

void Session::Drain() {
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](const error_code& ec, size_t n) {
    if (self->state_ == State::kClosed) return;
    self->lingered_bytes_ += n;
    if (ec || self->lingered_bytes_ > kMaxLingerBytes) {
      self->CloseNow();
      return;
    }
    self->Drain();
  });
}

void Session::CloseNow() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  DisarmReadTimer();
  error_code ignored;
  stream_.socket().shutdown(Socket::shutdown_both, ignored);
  stream_.close();
  core_.Unregister(this);
}

void Session::OnServerStopping() {
  // Idle connections close now; one with a request under way finishes it (its response says
  // Connection: close) within the shutdown grace.
  if (state_ == State::kAwaiting || state_ == State::kLingering) CloseNow();
}

class BeastServer final : public Server {
 public:
  BeastServer(ServerOptions options, Handler handler)
      : core_(std::move(options), std::move(handler)),
        loops_(MakeLoops(LoopCount(core_.options()))),
        acceptor_(loops_.front()->get_executor()),
        accept_retry_timer_(loops_.front()->get_executor()) {
    work_.reserve(loops_.size());
    for (const auto& loop : loops_) work_.push_back(asio::make_work_guard(*loop));
  }

  ~BeastServer() override { Stop(); }

  Status Bind() {
    const ServerOptions& options = core_.options();
    const std::string where = options.host + ":" + std::to_string(options.port);
    auto fail = [&where](const error_code& ec) {
      return Unavailable("cannot listen on " + where + ": " + ec.message());
    };
    error_code ec;
    tcp::resolver resolver(*loops_.front());
    const auto endpoints = resolver.resolve(options.host, std::to_string(options.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) return fail(ec);
    if (endpoints.empty()) return Unavailable("cannot listen on " + where + ": no address");
    const tcp::endpoint endpoint = endpoints.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail(ec);
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail(ec);
    acceptor_.bind(endpoint, ec);
    if (ec) return fail(ec);
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec);
    const tcp::endpoint local = acceptor_.local_endpoint(ec);
    if (ec) return fail(ec);
    port_ = local.port();
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Start() override {
    std::lock_guard lock(lifecycle_mu_);
    if (started_ || stopped_) return;
    started_ = true;
    for (size_t i = 0; i < loops_.size(); ++i) {
      try {
        threads_.emplace_back([this, i] { RunLoop(i); });
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "cannot start an I/O thread", {{"error", e.what()}});
        break;
      }
    }
    // Connections go only to loops that have a thread. Written before DoAccept is posted,
    // so the acceptor's loop sees it.
    serving_loops_ = threads_.size();
    if (serving_loops_ > 0) asio::post(acceptor_.get_executor(), [this] { DoAccept(); });
  }

  void Stop() override {
    for (const auto& loop : loops_) {
      if (loop->get_executor().running_in_this_thread()) {
        // Joining ourselves would deadlock; the header forbids it.
        Log(LogLevel::kError, "Server::Stop called on an I/O thread; ignored");
        return;
      }
    }
    std::lock_guard lock(lifecycle_mu_);
    if (stopped_) return;
    stopped_ = true;

    std::vector<std::shared_ptr<Session>> live = core_.BeginStop();
    if (!threads_.empty()) {
      asio::post(acceptor_.get_executor(), [this] {
        error_code ignored;
        acceptor_.close(ignored);
        accept_retry_timer_.cancel();
      });
      for (const auto& session : live) session->NotifyServerStopping();
      live.clear();
      const SteadyTime deadline = std::chrono::steady_clock::now() + core_.options().shutdown_grace;
      if (!core_.WaitForSessions(deadline)) {
        Log(LogLevel::kWarn, "shutdown grace expired; closing the remaining connections");
      }
      work_.clear();
      for (const auto& loop : loops_) loop->stop();
      for (std::thread& t : threads_) t.join();
      threads_.clear();
    }
    live.clear();
    // No loop runs any more, so what is left can be closed from here.
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& [key, session] : core_.TakeSessions()) session->CloseAfterIoStopped();
    // Pending operations still own their sessions; they are destroyed with their loops.
    // From now on a Reply must not post into one.
    core_.CloseGate();
  }

 private:
  static size_t LoopCount(const ServerOptions& options) {
    return options.threads > 0 ? static_cast<size_t>(options.threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  }

  static std::vector<std::unique_ptr<asio::io_context>> MakeLoops(size_t count) {
    std::vector<std::unique_ptr<asio::io_context>> loops;
    loops.reserve(count);
    // Hint 1: exactly one thread runs each loop, so Asio uses its single-thread fast paths.
    for (size_t i = 0; i < count; ++i) loops.push_back(std::make_unique<asio::io_context>(1));
    return loops;
  }

  // REQUIRES: on loop 0 (the acceptor's).
  void DoAccept() {
    // The socket is registered with the loop that will serve it, not with the acceptor's.
    asio::io_context& target = *loops_[next_loop_];
    next_loop_ = (next_loop_ + 1) % serving_loops_;
    acceptor_.async_accept(target.get_executor(), [this](const error_code& ec, Socket socket) {
      OnAccept(ec, std::move(socket));
    });
  }

  // REQUIRES: on loop 0.
  void OnAccept(const error_code& ec, Socket socket) {
    if (core_.stopping() || !acceptor_.is_open()) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors and the like: back off rather than spin on the same error.
      Log(LogLevel::kWarn, "accept failed", {{"error", ec.message()}});
      accept_retry_timer_.expires_after(kAcceptRetryDelay);
      accept_retry_timer_.async_wait([this](const error_code& wait_ec) {
        if (!wait_ec && !core_.stopping()) DoAccept();
      });
      return;
    }
    if (core_.options().max_connections > 0 && core_.SessionCount() >= core_.options().max_connections) {
      // Full: closed at once (the client sees a reset or EOF), before any buffer is spent on it.
      Metrics::Instance().CountConnectionRefused();
      error_code ignored;
      socket.close(ignored);
      DoAccept();
      return;
    }
    try {
      // Built here, registered (so max_connections counts it at once), then handed to its
      // own loop by Start(), which posts there.
      auto session = std::make_shared<Session>(std::move(socket), core_);
      if (core_.Register(session)) session->Start();
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "cannot start a connection", {{"error", e.what()}});
    }
    DoAccept();
  }

  void RunLoop(size_t index) {
    SetCurrentThreadName("ulak-http-" + std::to_string(index));
    asio::io_context& loop = *loops_[index];
    for (;;) {
      try {
        loop.run();
        return;
      } catch (const std::exception& e) {
        // A bug in a completion handler; keep serving the other connections.
        Log(LogLevel::kError, "I/O thread caught an exception", {{"error", e.what()}});
      } catch (...) {
        Log(LogLevel::kError, "I/O thread caught an unknown exception");
      }
    }
  }

  // Declaration order matters: sessions and handlers still queued in a loop are destroyed
  // with it and may refer to core_, so core_ comes first (and dies last); the acceptor and
  // its timer are registered with loop 0, so they come after the loops (and die first).
  ServerCore core_;
  const std::vector<std::unique_ptr<asio::io_context>> loops_;  // never empty
  Acceptor acceptor_;
  Timer accept_retry_timer_;
  std::vector<asio::executor_work_guard<LoopExecutor>> work_;  // one per loop until Stop()
  uint16_t port_ = 0;
  // Only on loop 0, after Start().
  size_t serving_loops_ = 0;
  size_t next_loop_ = 0;

  std::mutex lifecycle_mu_;
  bool started_ = false;              // GUARDED_BY(lifecycle_mu_)
  bool stopped_ = false;              // GUARDED_BY(lifecycle_mu_)
  std::vector<std::thread> threads_;  // GUARDED_BY(lifecycle_mu_); threads_[i] runs loops_[i]
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Listen(ServerOptions options, Handler handler) {
  try {
    auto server = std::make_unique<BeastServer>(std::move(options), std::move(handler));
    Status status = server->Bind();
    if (!status.ok()) return status;
    return std::unique_ptr<Server>(std::move(server));
  } catch (const std::exception& e) {
    return Internal(std::string("cannot create the HTTP server: ") + e.what());
  }
}

}  // namespace ulak::http
