// raw_client: the plain libcurl multi client of `make bench` (docs/BENCHMARKS.md).
//
// Two modes, one loop:
// - closed loop (default): `--connections` requests always in flight, each handle reused at
//   once on completion, for `--seconds`. This is the machine's raw limit for POSTing a body
//   to a local sink (figure 1): no signing, no store, no JSON, only libcurl and the kernel.
// - open loop (`--rate R`): request i is due at start + i/R whatever happened before, as
//   wrk2 does. A request waiting for a free connection is late, and its latency counts from
//   when it was due (no coordinated omission), so a server that stalls shows in the p99.
//
// `--stamp` writes the wall clock (microseconds since the epoch, 16 digits) into the body
// over the first "@SENT_US@@@@@@@@" (16 characters) just before each send: bench/stamp_sink
// reads it back from the delivered payload for the publish → delivery latency.
//
// Prints one line of key=value pairs (parsed by bench/run.sh):
//   requests=… seconds=… rps=… ok=… non2xx=… errors=… p50_us=… p90_us=… p99_us=… max_us=…
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr char kStampMark[] = "@SENT_US@@@@@@@@";  // 16 characters, replaced by digits
constexpr size_t kStampLength = sizeof(kStampMark) - 1;

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string url;
  int connections = 64;
  double seconds = 10;
  double rate = 0;  // requests/s; 0: closed loop
  std::string body;
  std::vector<std::string> headers;
  bool stamp = false;
  long max_requests = 0;  // 0: no bound
};

struct Slot {
  CURL* easy = nullptr;
  std::string body;  // this handle's copy (stamped per send)
  size_t stamp_at = std::string::npos;
  SteadyClock::time_point due;  // when the request was due (open loop) or sent (closed loop)
  bool busy = false;
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "raw_client: %s\nusage: raw_client --url URL [--connections N] [--seconds S] [--rate R]\n"
               "  [--body-bytes N | --body-file F] [--header 'Name: value']... [--stamp] [--max-requests N]\n",
               why);
  std::exit(2);
}

// A JSON object of about `bytes` bytes: {"event":"bench.raw","data":{"pad":"xxx…"}}.
std::string JsonBody(size_t bytes) {
  std::string head = R"({"event":"bench.raw","data":{"pad":")";
  std::string tail = R"("}})";
  size_t pad = bytes > head.size() + tail.size() ? bytes - head.size() - tail.size() : 0;
  return head + std::string(pad, 'x') + tail;
}

Options Parse(int argc, char** argv) {
  Options o;
  size_t body_bytes = 1024;
  std::string body_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--url") o.url = next();
    else if (a == "--connections") o.connections = std::atoi(next().c_str());
    else if (a == "--seconds") o.seconds = std::atof(next().c_str());
    else if (a == "--rate") o.rate = std::atof(next().c_str());
    else if (a == "--body-bytes") body_bytes = std::strtoul(next().c_str(), nullptr, 10);
    else if (a == "--body-file") body_file = next();
    else if (a == "--header") o.headers.push_back(next());
    else if (a == "--stamp") o.stamp = true;
    else if (a == "--max-requests") o.max_requests = std::atol(next().c_str());
    else Usage(("unknown argument " + a).c_str());
  }
  if (o.url.empty()) Usage("--url is required");
  if (o.connections < 1 || o.seconds <= 0) Usage("--connections and --seconds must be positive");
  if (!body_file.empty()) {
    std::ifstream in(body_file, std::ios::binary);
    if (!in) Usage(("cannot read " + body_file).c_str());
    std::stringstream ss;
    ss << in.rdbuf();
    o.body = ss.str();
  } else {
    o.body = JsonBody(body_bytes);
  }
  if (o.stamp && o.body.find(kStampMark) == std::string::npos) Usage("--stamp needs @SENT_US@@@@@@@@ in the body");
  return o;
}

int64_t Percentile(std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(o.connections));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(o.connections));
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  for (const auto& h : o.headers) headers = curl_slist_append(headers, h.c_str());

  std::vector<Slot> slots(o.connections);
  std::vector<Slot*> idle;
  for (Slot& s : slots) {
    s.easy = curl_easy_init();
    s.body = o.body;
    s.stamp_at = o.stamp ? s.body.find(kStampMark) : std::string::npos;
    curl_easy_setopt(s.easy, CURLOPT_URL, o.url.c_str());
    curl_easy_setopt(s.easy, CURLOPT_POST, 1L);
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.data());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body.size()));
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(s.easy, CURLOPT_PROXY, "");
    curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, 30'000L);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, static_cast<void*>(&s));
    idle.push_back(&s);
  }

  std::vector<int64_t> latencies_us;
  latencies_us.reserve(1 << 20);
  long ok = 0, non2xx = 0, errors = 0, started = 0;
  // The client's own cost over the load loop (not setup): CPU (user + system) and context
  // switches, the denominators of the "cost per event" ratios (bench/run.sh, BENCHMARKS.md).
  rusage usage0{};
  getrusage(RUSAGE_SELF, &usage0);
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(o.seconds));
  std::deque<SteadyClock::time_point> late;  // open loop: due requests waiting for a connection
  long scheduled = 0;                        // open loop: requests made due so far

  auto launch = [&](Slot* s, SteadyClock::time_point due) {
    if (s->stamp_at != std::string::npos) {
      char digits[32];
      std::snprintf(digits, sizeof digits, "%016" PRId64, WallMicros());
      std::memcpy(s->body.data() + s->stamp_at, digits, kStampLength);
    }
    s->due = due;
    s->busy = true;
    curl_multi_add_handle(multi, s->easy);
    ++started;
  };
  auto may_start = [&]() { return o.max_requests == 0 || started < o.max_requests; };

  int running = 0;
  for (;;) {
    const auto now = SteadyClock::now();
    const bool sending = now < end;
    if (sending) {
      if (o.rate > 0) {
        // Every request due by now joins the queue; idle connections take the oldest.
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const long due_count = static_cast<long>(elapsed * o.rate) + 1;
        while (scheduled < due_count && (o.max_requests == 0 || scheduled < o.max_requests)) {
          late.push_back(start + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(scheduled) / o.rate)));
          ++scheduled;
        }
        while (!late.empty() && !idle.empty()) {
          Slot* s = idle.back();
          idle.pop_back();
          launch(s, late.front());
          late.pop_front();
        }
      } else {
        while (!idle.empty() && may_start()) {
          Slot* s = idle.back();
          idle.pop_back();
          launch(s, now);
        }
      }
    }
    curl_multi_perform(multi, &running);
    int queued = 0;
    int finished = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode code = m->data.result;
      curl_multi_remove_handle(multi, m->easy_handle);
      const auto done = SteadyClock::now();
      if (code != CURLE_OK) {
        ++errors;
        if (errors <= 3) std::fprintf(stderr, "raw_client: %s\n", curl_easy_strerror(code));
      } else {
        long status = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) ++ok;
        else ++non2xx;
        // Only answers completed within the window count, so rps is not inflated by the tail.
        if (done <= end) latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(done - s->due).count());
      }
      s->busy = false;
      idle.push_back(s);
      ++finished;
    }
    if (!sending && running == 0) break;
    if (!sending && SteadyClock::now() > end + std::chrono::seconds(30)) break;  // give up on stragglers
    if (o.max_requests > 0 && !may_start() && running == 0 && late.empty()) break;
    int timeout_ms = 10;
    if (o.rate > 0 && sending) {
      const double next_due = static_cast<double>(scheduled) / o.rate;
      const double wait = next_due - std::chrono::duration<double>(SteadyClock::now() - start).count();
      timeout_ms = std::clamp(static_cast<int>(wait * 1000), 0, 10);
    }
    // A handle just finished: send again at once (closed loop) rather than wait in poll.
    if (finished > 0 && sending && (o.rate <= 0 || !late.empty())) continue;
    if (running > 0 || timeout_ms > 0) curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
  }
  const double window = std::min(o.seconds, std::chrono::duration<double>(SteadyClock::now() - start).count());
  rusage usage1{};
  getrusage(RUSAGE_SELF, &usage1);
  auto micros = [](const timeval& t) { return static_cast<int64_t>(t.tv_sec) * 1000000 + t.tv_usec; };
  const int64_t cpu_us = micros(usage1.ru_utime) + micros(usage1.ru_stime) - micros(usage0.ru_utime) -
                         micros(usage0.ru_stime);
  const long ctx_switches = (usage1.ru_nvcsw + usage1.ru_nivcsw) - (usage0.ru_nvcsw + usage0.ru_nivcsw);

  std::sort(latencies_us.begin(), latencies_us.end());
  const long counted = static_cast<long>(latencies_us.size());
  std::printf("requests=%ld seconds=%.3f rps=%.0f ok=%ld non2xx=%ld errors=%ld late=%zu p50_us=%" PRId64
              " p90_us=%" PRId64 " p99_us=%" PRId64 " max_us=%" PRId64 " cpu_us=%" PRId64 " ctxsw=%ld\n",
              started, window, static_cast<double>(counted) / window, ok, non2xx, errors, late.size(),
              Percentile(latencies_us, 0.50), Percentile(latencies_us, 0.90), Percentile(latencies_us, 0.99),
              latencies_us.empty() ? int64_t{0} : latencies_us.back(), cpu_us, ctx_switches);

  for (Slot& s : slots) {
    if (s.busy) curl_multi_remove_handle(multi, s.easy);
    curl_easy_cleanup(s.easy);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return errors > 0 && ok == 0 ? 1 : 0;
}
