// libFuzzer over the whole API: each input is a short session of HTTP requests, dispatched
// into the real router (api::BuildRouter) with every real handler, the publisher, the
// delivery engine and its operations, on a fresh SQLite store behind the EncryptingStore,
// with a manual clock and seeded randomness. The engine's transport never touches the
// network: it records nothing and answers at once, with a status picked from the URL.
//
// Input format (text, so seeds are readable and mutations stay meaningful), requests
// separated by a line "===":
//
//   POST /api/webhooks?x=1 A          <- method, target, and who asks (optional, default A)
//   Idempotency-Key: k1               <- headers, until an empty line
//
//   {"name":"w","url":"http://127.0.0.1:9/h"}   <- the body: the rest of the block
//
// Who asks: A the admin key, O the last organization key minted (o the first), P the last
// portal token, B a wrong key, C the cron secret, N nobody. An Authorization header in the
// block itself wins. A block "TICK <seconds>" advances the clock and lets the engine run
// what came due. In the target and the body, {id} is the last "id" any JSON answer carried,
// {id~2} the one before it; {organization.id}, {webhook_id}, {key.id}... likewise for any
// "<key>.id" or "*_id" member seen.
//
// Invariants (a violation traps): no handler throws or forgets to answer (8 s); no 500, and no
// 5xx but 503 (nothing injects store faults here); every status is 100..599 and every
// response header is sendable; every JSON answer parses; every error answer is exactly
// {"error":{"code":"...","message":"..."}}; a secret the API minted or was given (API keys,
// webhook secrets, custom header values, source secrets, template credentials) never appears
// in a later GET; an answer to an organization's key or portal token never carries another
// organization's "organization_id".
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "api/auth.h"
#include "api/portal.h"
#include "api/source_cache.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "crypto/secret_box.h"
#include "delivery/engine.h"
#include "delivery/http_transport.h"
#include "delivery/operations.h"
#include "delivery/publisher.h"
#include "http/router.h"
#include "store/encrypting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/writer.h"

namespace {

using namespace ulak;

constexpr std::string_view kAdminKey = "ulak_fuzz_admin_key_0123456789abcdef0123";
constexpr std::string_view kCronSecret = "fuzz-cron-secret-0123456789";
constexpr size_t kMaxRequests = 24;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_api invariant broken: %s\n%s\n", what, detail.substr(0, 4000).c_str());
  std::fflush(stderr);
  __builtin_trap();
}

// Answers at once, never on the network: 200 unless the URL asks for something else
// ("/500", "/410", "/429", "/timeout", "/refused"), so retries, Gone and the breaker run too.
class NullTransport final : public delivery::HttpTransport {
 public:
  void Send(delivery::OutgoingRequest request, Callback done) override {
    delivery::TransportResult r;
    const std::string& url = request.url;
    if (url.find("/timeout") != std::string::npos) {
      r.error = delivery::TransportError::kTimeout;
      r.error_message = "timed out";
    } else if (url.find("/refused") != std::string::npos) {
      r.error = delivery::TransportError::kConnect;
      r.error_message = "connection refused";
    } else if (url.find("/500") != std::string::npos) {
      r.status = 500;
      r.body = "{\"oops\":true}";
    } else if (url.find("/410") != std::string::npos) {
      r.status = 410;
    } else if (url.find("/429") != std::string::npos) {
      r.status = 429;
      r.retry_after = "7";
    } else {
      r.status = 200;
      r.body = "ok";
    }
    done(std::move(r));
  }
  void Stop() override {}
};

// What one process keeps: the master key and a migrated database every input starts from.
struct Process {
  std::shared_ptr<const crypto::SecretBox> box;
  std::string dir;
  std::string template_db;
  std::string db;
};

Process& TheProcess() {
  static Process* p = [] {
    auto* out = new Process;
    SetLogLevel(LogLevel::kError);
    std::string key(crypto::kMasterKeyBytes, '\x2a');
    auto box = crypto::SecretBox::Create(key);
    if (!box.ok()) Fail("setup", box.status().message());
    out->box = std::make_shared<const crypto::SecretBox>(std::move(box).value());
    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::getenv("TMPDIR");
    const std::filesystem::path parent(base != nullptr ? base : "/tmp");
    // One directory per process, named by its pid. A run that trapped (a finding) or was
    // killed at its timeout left its directory behind: removed here once its process is gone.
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("ulak_fuzz_api.", 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + 14, nullptr, 10);
      if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove_all(entry.path(), ec);
    }
    out->dir = (parent / ("ulak_fuzz_api." + std::to_string(getpid()))).string();
    std::filesystem::remove_all(out->dir, ec);
    if (!std::filesystem::create_directory(out->dir, ec)) Fail("setup", "cannot create " + out->dir);
    out->template_db = out->dir + "/template.db";
    out->db = out->dir + "/api.db";
    {
      auto store = store::sqlite::SqliteStore::Open(out->template_db);
      if (!store.ok()) Fail("setup", store.status().message());
      if (Status s = (*store)->Migrate(); !s.ok()) Fail("setup", s.message());
    }  // closed: the WAL is checkpointed into the file
    std::atexit([] { std::filesystem::remove_all(TheProcess().dir); });
    return out;
  }();
  return *p;
}

// ULAK_FUZZ_API_TRACE=1: print each request and its answer (to check what a seed reaches).
bool Tracing() {
  static const bool on = std::getenv("ULAK_FUZZ_API_TRACE") != nullptr;
  return on;
}

// ---- the input format ----

struct FuzzRequest {
  bool tick = false;
  int64_t tick_seconds = 0;
  http::Method method = http::Method::kGet;
  std::string target;
  char who = 'A';
  std::vector<http::Header> headers;
  std::string body;
};

http::Method MethodOf(std::string_view m) {
  if (m == "GET") return http::Method::kGet;
  if (m == "HEAD") return http::Method::kHead;
  if (m == "POST") return http::Method::kPost;
  if (m == "PUT") return http::Method::kPut;
  if (m == "PATCH") return http::Method::kPatch;
  if (m == "DELETE") return http::Method::kDelete;
  if (m == "OPTIONS") return http::Method::kOptions;
  return http::Method::kOther;
}

std::string_view NextLine(std::string_view& rest) {
  const size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// What Beast lets through: a target without spaces or controls; header names that are
// tokens; header values without controls but tab.
std::string SaneTarget(std::string_view t) {
  std::string out;
  for (char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u != 0x7f) out += c;
  }
  return out.empty() ? "/" : out;
}

std::optional<FuzzRequest> ParseBlock(std::string_view block) {
  FuzzRequest r;
  std::string_view line = NextLine(block);
  const size_t sp = line.find(' ');
  const std::string_view method = line.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  if (method == "TICK") {
    r.tick = true;
    r.tick_seconds = std::clamp<int64_t>(std::atoll(std::string(rest).c_str()), 0, 40LL * 24 * 3600);
    return r;
  }
  r.method = MethodOf(method);
  const size_t sp2 = rest.find(' ');
  r.target = SaneTarget(rest.substr(0, sp2));
  if (sp2 != std::string_view::npos && sp2 + 1 < rest.size()) r.who = rest[sp2 + 1];
  while (!block.empty()) {
    std::string_view h = NextLine(block);
    if (h.empty()) break;
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string name(h.substr(0, colon));
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) continue;
    std::string value;
    for (char c : h.substr(colon + 1)) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 || c == '\t') value += c;
    }
    const size_t first = value.find_first_not_of(" \t");
    value = first == std::string::npos ? "" : value.substr(first, value.find_last_not_of(" \t") - first + 1);
    r.headers.push_back({std::move(name), std::move(value)});
  }
  r.body = std::string(block);
  return r;
}

std::vector<FuzzRequest> Decode(std::string_view input) {
  std::vector<FuzzRequest> out;
  while (!input.empty() && out.size() < kMaxRequests) {
    size_t sep = input.find("\n===\n");
    std::string_view block = input.substr(0, sep);
    input = sep == std::string_view::npos ? std::string_view() : input.substr(sep + 5);
    if (auto r = ParseBlock(block)) out.push_back(std::move(*r));
  }
  return out;
}

// ---- one session ----

class Session {
 public:
  explicit Session(std::string_view input) : input_(input) {
    Process& p = TheProcess();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.db + suffix);
    std::filesystem::copy_file(p.template_db, p.db);
    auto sqlite = store::sqlite::SqliteStore::Open(p.db);
    if (!sqlite.ok()) Fail("setup", sqlite.status().message());
    store_ = std::make_unique<store::EncryptingStore>(std::move(sqlite).value(), p.box, random_);
    auth_ = std::make_unique<api::Authenticator>(*store_, api::HashKey(kAdminKey));
    auto portal_key = api::LoadPortalSigningKey(*store_, *p.box, random_);
    if (!portal_key.ok()) Fail("setup", portal_key.status().message());
    auth_->EnablePortal(std::move(portal_key).value(), clock_);
    writer_ = std::make_unique<store::StoreWriter>(*store_);
    delivery::EngineOptions options;
    options.tick = std::chrono::milliseconds(5);
    engine_ = std::make_unique<delivery::DeliveryEngine>(*store_, *writer_, transport_, clock_, random_, options);
    publisher_ = std::make_unique<delivery::Publisher>(*store_, *writer_, *engine_, clock_, random_);
    operations_ = std::make_unique<delivery::DeliveryOperations>(*store_, *engine_, *publisher_, clock_, random_);
    engine_->SetDisableHandler([this](const delivery::ConfigPtr& webhook, const std::string& reason) {
      operations_->DisableWebhook(webhook, reason);
    });
    if (Status s = engine_->Start(); !s.ok()) Fail("setup", s.message());
    sources_ = std::make_unique<api::SourceCache>(*store_);
    ctx_ = std::make_unique<api::ApiContext>(api::ApiContext{*store_, clock_, random_, *auth_, publisher_.get(),
                                                             engine_.get(), Mode::kDevelopment,
                                                             std::string(kCronSecret), operations_.get(),
                                                             sources_.get()});
    ctx_->writer = writer_.get();
    router_ = std::make_unique<http::Router>(api::BuildRouter(*ctx_));
  }
  ~Session() {
    operations_->Stop();
    engine_->Stop();
    writer_->Stop();
  }

  void Run(const std::vector<FuzzRequest>& requests) {
    for (const FuzzRequest& r : requests) {
      if (r.tick) {
        clock_.Advance(std::chrono::seconds(r.tick_seconds));
        engine_->RunUntilIdleForTest();  // every delivery now due has been tried (the transport answers inline)
        writer_->Flush();                // and its attempt is in the store
        continue;
      }
      RunOne(r);
    }
  }

 private:
  // Replaces each {name} or {name~N} naming a remembered id; anything else is kept as is.
  std::string Substitute(std::string_view text) const {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      if (text[i] != '{') {
        out += text[i++];
        continue;
      }
      size_t end = i + 1;
      while (end < text.size() && end - i < 40 &&
             (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_' || text[end] == '.' ||
              text[end] == '~')) {
        ++end;
      }
      if (end >= text.size() || text[end] != '}') {
        out += text[i++];
        continue;
      }
      std::string name(text.substr(i + 1, end - i - 1));
      size_t back = 1;
      if (const size_t tilde = name.find('~'); tilde != std::string::npos) {
        back = std::clamp<size_t>(std::strtoul(name.c_str() + tilde + 1, nullptr, 10), 1, 16);
        name.resize(tilde);
      }
      auto it = ids_.find(name);
      if (it == ids_.end()) {
        out += text[i++];
        continue;
      }
      out += it->second[it->second.size() - std::min(back, it->second.size())];
      i = end + 1;
    }
    return out;
  }

  // An organization's credential: the key or portal token, and the organization it opens.
  struct Credential {
    std::string secret;
    std::string organization_id;
  };
  // The credential `who` names, if it is an organization's (O, o, P).
  const Credential* OrganizationCredential(char who) const {
    if (who == 'O' && !org_keys_.empty()) return &org_keys_.back();
    if (who == 'o' && !org_keys_.empty()) return &org_keys_.front();
    if (who == 'P' && !portal_tokens_.empty()) return &portal_tokens_.back();
    return nullptr;
  }

  std::string Authorization(char who) const {
    switch (who) {
      case 'A': return "Bearer " + std::string(kAdminKey);
      case 'O':
      case 'o':
      case 'P': {
        const Credential* c = OrganizationCredential(who);
        return "Bearer " + (c != nullptr ? c->secret : std::string());
      }
      case 'B': return "Bearer ulak_not_a_key_at_all_000000000000";
      case 'C': return "Bearer " + std::string(kCronSecret);
      default: return "";
    }
  }

  void RunOne(const FuzzRequest& fr) {
    http::Request request;
    request.method = fr.method;
    request.target = SaneTarget(Substitute(fr.target));
    // As the server splits it (http/server.cc SplitTarget, origin form only here).
    std::string_view path = request.target;
    std::string_view query;
    if (const size_t q = path.find('?'); q != std::string_view::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    request.path = http::PercentDecode(path, false);
    request.query = http::ParseQuery(query);
    bool has_auth = false;
    for (const http::Header& h : fr.headers) {
      if (strcasecmp(h.name.c_str(), "Authorization") == 0) has_auth = true;
      request.headers.push_back({h.name, Substitute(h.value)});
    }
    if (!has_auth) {
      if (std::string a = Authorization(fr.who); !a.empty()) request.headers.push_back({"Authorization", a});
    }
    request.body = Substitute(fr.body);
    request.request_id = "fuzz";
    request.remote_address = "127.0.0.1";
    const std::string body_sent = request.body;
    const std::string what = std::string(http::MethodName(fr.method)) + " " + request.target;

    auto answer = std::make_shared<std::promise<http::Response>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    std::future<http::Response> got = answer->get_future();
    try {
      router_->Dispatch(std::move(request), [answer, calls](http::Response&& response) {
        if (calls->fetch_add(1) == 0) answer->set_value(std::move(response));
      });
    } catch (const std::exception& e) {
      Fail("a handler threw (the server answers 500)", what + ": " + e.what());
    } catch (...) {
      Fail("a handler threw (the server answers 500)", what);
    }
    // The engine's loop is this thread's (a manual loop: the transport here has none), so it
    // runs while we wait: an answer that needs the loop (an operation asking the engine for
    // its held webhooks or due retries) comes only while it turns.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (got.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
      engine_->RunUntilIdleForTest();
      if (std::chrono::steady_clock::now() > deadline) Fail("no answer within 8 s", what);
    }
    http::Response response = got.get();
    if (calls->load() != 1) Fail("replied more than once", what);
    if (Tracing()) std::fprintf(stderr, "%s -> %d %s\n", what.c_str(), response.status, response.body.substr(0, 300).c_str());
    Check(fr.method, what, response, has_auth ? nullptr : OrganizationCredential(fr.who));
    Learn(fr.method, body_sent, response);
  }

  void Check(http::Method method, const std::string& what, const http::Response& r, const Credential* tenant) {
    const std::string where = what + " -> " + std::to_string(r.status) + "\n" + r.body;
    if (r.status < 100 || r.status > 599) Fail("invalid status", where);
    // A request inbox (/in/{id}) answers whatever status and body its owner configured.
    const bool inbox = what.find(" /in/") != std::string::npos;
    if (r.status == 500 && !inbox) Fail("500", where);
    if (r.status > 500 && r.status != 503 && !inbox) Fail("5xx other than 503", where);
    for (const http::Header& h : r.headers) {
      bool ok = !h.name.empty() && std::all_of(h.name.begin(), h.name.end(), IsTokenChar) &&
                h.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
      if (!ok) Fail("unsendable response header", where + "\n" + h.name + ": " + h.value);
    }
    const bool json = r.content_type.rfind("application/json", 0) == 0;
    boost::json::value parsed;
    if (json && r.status != 204) {
      boost::system::error_code ec;
      parsed = boost::json::parse(r.body, ec);
      if (ec) Fail("JSON answer does not parse", where);
    }
    if (r.status >= 400 && !inbox) {
      if (!json) Fail("error answer is not JSON", where + "\ncontent-type: " + r.content_type);
      const boost::json::object* o = parsed.if_object();
      const boost::json::object* e = nullptr;
      if (o != nullptr && o->size() == 1 && o->contains("error")) e = o->at("error").if_object();
      if (e == nullptr || !e->contains("code") || !e->contains("message") || !e->at("code").is_string() ||
          !e->at("message").is_string() || e->at("code").as_string().empty()) {
        Fail("error answer is not {\"error\":{\"code\",\"message\"}}", where);
      }
    }
    if (tenant != nullptr && !tenant->organization_id.empty() && r.status < 300 && json && !inbox) {
      CheckTenant(parsed, tenant->organization_id, where);
    }
    if ((method == http::Method::kGet || method == http::Method::kHead) && r.status < 300) {
      for (const std::string& secret : secrets_) {
        if (r.body.find(secret) != std::string::npos) Fail("a secret came back in a GET", where + "\nsecret: " + secret);
      }
    }
  }

  static std::string StringOr(const boost::json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : std::string();
  }

  // Every "organization_id" in an answer to an organization's credential names that
  // organization: nobody reaches what is not theirs.
  static void CheckTenant(const boost::json::value& v, const std::string& organization_id, const std::string& where) {
    if (const boost::json::object* o = v.if_object()) {
      for (const auto& [k, child] : *o) {
        if (k == "organization_id" && child.is_string() && child.as_string() != organization_id) {
          Fail("an organization's credential saw another organization's data", where + "\nexpected " + organization_id);
        }
        CheckTenant(child, organization_id, where);
      }
    } else if (const boost::json::array* a = v.if_array()) {
      for (const auto& child : *a) CheckTenant(child, organization_id, where);
    }
  }

  void RememberId(const std::string& key, const std::string& value) {
    auto& v = ids_[key];
    if (!v.empty() && v.back() == value) return;
    v.push_back(value);
    if (v.size() > 16) v.erase(v.begin());
  }

  // Remembers ids and minted secrets from an answer.
  void Walk(const boost::json::value& v, const std::string& parent) {
    if (const boost::json::object* o = v.if_object()) {
      for (const auto& [k, child] : *o) {
        const std::string key(k);
        if (const boost::json::string* s = child.if_string()) {
          const std::string value(*s);
          if (key == "id") {
            RememberId("id", value);
            if (!parent.empty()) RememberId(parent + ".id", value);
          } else if (key.size() > 3 && key.ends_with("_id")) {
            RememberId(key, value);
          } else if (key == "api_key") {
            // Answers minting a key: {"organization":{"id"}, "api_key"} or {"key":{"organization_id"}, "api_key"}.
            std::string org;
            if (const auto* x = o->if_contains("organization"); x != nullptr && x->is_object() && x->as_object().contains("id")) {
              org = StringOr(x->as_object().at("id"));
            } else if (const auto* k = o->if_contains("key"); k != nullptr && k->is_object() && k->as_object().contains("organization_id")) {
              org = StringOr(k->as_object().at("organization_id"));
            }
            org_keys_.push_back({value, org});
            AddSecret(value);
          } else if (key == "secret_key" || key == "standard_webhooks_secret") {
            AddSecret(value);
          } else if (key == "url" && value.rfind("/ui/#portal=", 0) == 0) {
            portal_tokens_.push_back({value.substr(12), o->contains("organization_id") ? StringOr(o->at("organization_id")) : ""});
          }
        }
        Walk(child, key);
      }
    } else if (const boost::json::array* a = v.if_array()) {
      for (const auto& child : *a) Walk(child, parent);
    }
  }

  void AddSecret(const std::string& value) {
    if (value.size() >= 12 && std::find(secrets_.begin(), secrets_.end(), value) == secrets_.end()) {
      secrets_.push_back(value);
    }
  }

  // A value the caller gave as a secret counts only if it is long and appears once in the
  // whole input: otherwise the input itself may have put it somewhere a GET shows.
  void AddGivenSecret(const std::string& value) {
    if (value.size() < 12) return;
    const size_t first = input_.find(value);
    if (first == std::string_view::npos || input_.find(value, first + 1) != std::string_view::npos) return;
    AddSecret(value);
  }

  void Learn(http::Method method, const std::string& body_sent, const http::Response& r) {
    if (r.status >= 300 || r.content_type.rfind("application/json", 0) != 0 || r.status == 204) return;
    boost::system::error_code ec;
    boost::json::value answer = boost::json::parse(r.body, ec);
    if (!ec) Walk(answer, "");
    if (method != http::Method::kPost && method != http::Method::kPatch && method != http::Method::kPut) return;
    boost::json::value sent = boost::json::parse(body_sent, ec);
    const boost::json::object* o = ec ? nullptr : sent.if_object();
    if (o == nullptr) return;
    if (const auto* headers = o->if_contains("custom_headers"); headers != nullptr && headers->is_object()) {
      for (const auto& [k, v] : headers->as_object()) {
        if (v.is_string()) AddGivenSecret(std::string(v.as_string()));
      }
    }
    if (const auto* added = o->if_contains("add_secret"); added != nullptr && added->is_string()) {
      AddGivenSecret(std::string(added->as_string()));
    }
    // Template credentials: every auth value (access_token, refresh_token, client_secret...)
    // and the n8n template's params.secret.
    if (const auto* t = o->if_contains("template"); t != nullptr && t->is_object()) {
      if (const auto* auth = t->as_object().if_contains("auth"); auth != nullptr && auth->is_object()) {
        for (const auto& [k, v] : auth->as_object()) {
          if (v.is_string() && k != "kind" && k != "client_id" && k != "token_url") AddGivenSecret(std::string(v.as_string()));
        }
      }
      if (const auto* params = t->as_object().if_contains("params"); params != nullptr && params->is_object()) {
        if (const auto* secret = params->as_object().if_contains("secret"); secret != nullptr && secret->is_string()) {
          AddGivenSecret(std::string(secret->as_string()));
        }
      }
    }
    if (const auto* secrets = o->if_contains("secrets"); secrets != nullptr && secrets->is_array()) {
      for (const auto& v : secrets->as_array()) {
        if (v.is_string()) AddGivenSecret(std::string(v.as_string()));
      }
    }
  }

  std::string_view input_;
  ManualClock clock_;
  SeededRandomForTest random_{15};
  NullTransport transport_;
  std::unique_ptr<store::EncryptingStore> store_;
  std::unique_ptr<api::Authenticator> auth_;
  std::unique_ptr<store::StoreWriter> writer_;
  std::unique_ptr<delivery::DeliveryEngine> engine_;
  std::unique_ptr<delivery::Publisher> publisher_;
  std::unique_ptr<delivery::DeliveryOperations> operations_;
  std::unique_ptr<api::SourceCache> sources_;
  std::unique_ptr<api::ApiContext> ctx_;
  std::unique_ptr<http::Router> router_;
  std::map<std::string, std::vector<std::string>> ids_;
  std::vector<Credential> org_keys_;
  std::vector<Credential> portal_tokens_;
  std::vector<std::string> secrets_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<FuzzRequest> requests = Decode(input);
  if (requests.empty()) return 0;
  Session session(input);
  session.Run(requests);
  return 0;
}
