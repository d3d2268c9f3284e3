// loadgen: the benchmark load generator of bench/run.sh.
//
// One single-threaded epoll loop drives every HTTP connection (HTTP/1.1,
// keep-alive, one request in flight per connection); the database-only
// ceiling uses one libpq connection per thread. Every mode prints one JSON
// object on stdout. Every loop is bounded in time (and the waits in count).
//
//   loadgen serve    --port P [--seconds 600]              a trivial HTTP responder
//   loadgen ceiling  --concurrency C --seconds T [--batch B] its own ceiling against `serve` (forked)
//   loadgen get      --url U [--method GET|HEAD] --concurrency C --seconds T
//   loadgen push     --url U --concurrency C --batch B --seconds T --store-prefix P [--pid SERVER_PID]
//   loadgen dbpush   --db CONNINFO --sql insert|append|append-notify|cte|insert-notify --concurrency C --batch B --seconds T --store-prefix P
//   loadgen fanout   --url U --readers R --store S --seconds T --interval-ms I [--pid PID]
//                    [--push-url U2] [--metrics-url GW1,GW2] [--held-want N] [--cache-pid PID] [--drain-seconds S]
//   loadgen hold     --url U --conns N --store S --hold-seconds H [--pid PID]
//   loadgen pull     --url U --store S [--pid PID] [--expect N]
//   loadgen storm    --url U --store S --clients C [--expect N] [--page-events P] [--pid PID]
//   loadgen copy     --db CONNINFO --sql "COPY (...) TO STDOUT"
//   loadgen compare  --targets name=URL,... --store S --case empty|page --seconds T
//
// Common: --warmup S (not measured), --token T (payload.authToken of pulls),
// --samples FILE (latency CDF: "ms fraction" lines), --label L.
#include <libpq-fe.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http.h"

using namespace lg;

namespace {

// ---- arguments ----------------------------------------------------------------

struct Args {
  std::map<std::string, std::string> kv;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  std::string Need(const std::string& k) const {
    auto it = kv.find(k);
    if (it == kv.end()) throw std::invalid_argument("missing --" + k);
    return it->second;
  }
  long Int(const std::string& k, long def) const { return kv.count(k) ? std::stol(kv.at(k)) : def; }
  double Dbl(const std::string& k, double def) const { return kv.count(k) ? std::stod(kv.at(k)) : def; }
};

// ---- JSON output ----------------------------------------------------------------

std::string JsonEscape(const std::string& s) {
  std::string o;
  o.reserve(s.size() + 2);
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}

class Json {
 public:
  Json& Num(const std::string& k, double v) {
    char b[64];
    if (std::isfinite(v)) std::snprintf(b, sizeof b, "%.6g", v);
    else std::snprintf(b, sizeof b, "null");
    return Raw(k, b);
  }
  Json& Int(const std::string& k, int64_t v) { return Raw(k, std::to_string(v)); }
  Json& Str(const std::string& k, const std::string& v) { return Raw(k, "\"" + JsonEscape(v) + "\""); }
  Json& Bool(const std::string& k, bool v) { return Raw(k, v ? "true" : "false"); }
  Json& Raw(const std::string& k, const std::string& raw) {
    if (!body_.empty()) body_ += ',';
    body_ += "\"" + JsonEscape(k) + "\":" + raw;
    return *this;
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

// ---- latency statistics ------------------------------------------------------------

struct Lat {
  std::vector<uint32_t> us;
  void Add(int64_t d) { us.push_back(static_cast<uint32_t>(std::clamp<int64_t>(d, 0, UINT32_MAX))); }
  void Merge(const Lat& o) { us.insert(us.end(), o.us.begin(), o.us.end()); }
  std::string Summary() {
    std::sort(us.begin(), us.end());
    Json j;
    j.Int("n", static_cast<int64_t>(us.size()));
    if (us.empty()) return j.str();
    auto q = [&](double p) {
      size_t i = static_cast<size_t>(p * static_cast<double>(us.size()));
      return us[std::min(i, us.size() - 1)] / 1000.0;
    };
    double sum = 0;
    for (uint32_t v : us) sum += v;
    j.Num("mean_ms", sum / static_cast<double>(us.size()) / 1000.0)
        .Num("p50_ms", q(0.50))
        .Num("p90_ms", q(0.90))
        .Num("p99_ms", q(0.99))
        .Num("p999_ms", q(0.999))
        .Num("max_ms", us.back() / 1000.0)
        .Num("min_ms", us.front() / 1000.0);
    return j.str();
  }
  // The distribution as a CDF, at most ~1000 points: "ms fraction".
  void WriteCdf(const std::string& path) {
    if (path.empty() || us.empty()) return;
    std::sort(us.begin(), us.end());
    std::ofstream f(path);
    const size_t n = us.size();
    const size_t step = std::max<size_t>(1, n / 1000);
    for (size_t i = 0; i < n; i += step) f << us[i] / 1000.0 << " " << static_cast<double>(i + 1) / n << "\n";
    f << us[n - 1] / 1000.0 << " 1\n";
  }
};

// ---- a watched process (the gateway): RSS and CPU from /proc -----------------------

class ProcSampler {
 public:
  explicit ProcSampler(int pid) : pid_(pid) {
    page_kb_ = sysconf(_SC_PAGESIZE) / 1024;
    ticks_ = static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  bool active() const { return pid_ > 0; }
  long RssKb() const {
    if (pid_ <= 0) return 0;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/statm", pid_);
    FILE* f = std::fopen(path, "r");
    if (!f) return 0;
    long size = 0, rss = 0;
    if (std::fscanf(f, "%ld %ld", &size, &rss) != 2) rss = 0;
    std::fclose(f);
    return rss * page_kb_;
  }
  double CpuS() const {
    if (pid_ <= 0) return 0;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid_);
    std::ifstream f(path);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t rp = s.rfind(')');
    if (rp == std::string::npos) return 0;
    std::istringstream in(s.substr(rp + 2));
    std::string tok;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15 && (in >> tok); ++field) {
      if (field == 14) utime = std::stoull(tok);
      if (field == 15) stime = std::stoull(tok);
    }
    return static_cast<double>(utime + stime) / ticks_;
  }
  void Begin() {
    rss_begin_ = rss_peak_ = RssKb();
    cpu_begin_ = CpuS();
    t_begin_ = NowUs();
  }
  void Sample() {
    long r = RssKb();
    rss_peak_ = std::max(rss_peak_, r);
    rss_last_ = r;
  }
  void End() {
    Sample();
    cpu_end_ = CpuS();
    t_end_ = NowUs();
  }
  double cpu_s() const { return cpu_end_ - cpu_begin_; }
  long rss_begin() const { return rss_begin_; }
  long rss_peak() const { return rss_peak_; }
  long rss_last() const { return rss_last_; }
  std::string Summary() const {
    Json j;
    if (pid_ <= 0) return j.str();
    double wall = static_cast<double>(t_end_ - t_begin_) / 1e6;
    j.Int("pid", pid_)
        .Num("rss_begin_mb", rss_begin_ / 1024.0)
        .Num("rss_peak_mb", rss_peak_ / 1024.0)
        .Num("rss_end_mb", rss_last_ / 1024.0)
        .Num("cpu_s", cpu_end_ - cpu_begin_)
        .Num("cpu_pct", wall > 0 ? 100.0 * (cpu_end_ - cpu_begin_) / wall : 0);
    return j.str();
  }
  // Samples every period_us on the loop until stopped.
  void Schedule(Loop& loop, int64_t period_us, const bool* stop) {
    loop.After(period_us, [this, &loop, period_us, stop] {
      if (*stop) return;
      Sample();
      Schedule(loop, period_us, stop);
    });
  }

 private:
  int pid_;
  long page_kb_ = 4;
  double ticks_ = 100;
  long rss_begin_ = 0, rss_peak_ = 0, rss_last_ = 0;
  double cpu_begin_ = 0, cpu_end_ = 0;
  int64_t t_begin_ = 0, t_end_ = 0;
};

// ---- the LiveStore wire ---------------------------------------------------------------

const char* kPushTag = "@livestore/sync-electric.Push";
const char* kPullTag = "@livestore/sync-electric.Pull";

// One event exactly as the client sends it (and as every target stores it).
struct EventRow {
  std::string seq, parent, name, args, client, session;
};

EventRow MakeEvent(const std::string& store, const std::string& client, int seq) {
  EventRow e;
  e.seq = std::to_string(seq);
  e.parent = std::to_string(seq - 1);
  e.name = "v1.TodoCreated";
  e.args = "{\"id\":\"" + store + "-" + e.seq + "\",\"text\":\"benchmark todo number " + e.seq +
           "\",\"completed\":false}";
  e.client = client;
  e.session = client + "-s1";
  return e;
}

void AppendEventJson(std::string& out, const EventRow& e) {
  out += "{\"name\":\"";
  out += e.name;
  out += "\",\"args\":";
  out += e.args;
  out += ",\"seqNum\":";
  out += e.seq;
  out += ",\"parentSeqNum\":";
  out += e.parent;
  out += ",\"clientId\":\"";
  out += e.client;
  out += "\",\"sessionId\":\"";
  out += e.session;
  out += "\"}";
}

std::string BatchJson(const std::string& store, const std::string& client, int first_seq, int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    AppendEventJson(out, MakeEvent(store, client, first_seq + i));
  }
  out += ']';
  return out;
}

std::string PushBody(const std::string& store, const std::string& client, int first_seq, int n) {
  return std::string("{\"_tag\":\"") + kPushTag + "\",\"storeId\":\"" + store + "\",\"batch\":" +
         BatchJson(store, client, first_seq, n) + "}";
}

std::string PullPath(const Url& ep, const std::string& store, const std::string& token, const std::string* handle,
                     const std::string* offset, bool live) {
  std::string args = std::string("{\"_tag\":\"") + kPullTag + "\",\"storeId\":\"" + JsonEscape(store) + "\"";
  if (!token.empty()) args += ",\"payload\":{\"authToken\":\"" + JsonEscape(token) + "\"}";
  if (handle == nullptr) args += ",\"handle\":{\"_tag\":\"None\"}";
  else
    args += ",\"handle\":{\"_tag\":\"Some\",\"value\":{\"offset\":\"" + JsonEscape(*offset) + "\",\"handle\":\"" +
            JsonEscape(*handle) + "\"}}";
  args += live ? ",\"live\":true}" : ",\"live\":false}";
  std::string path = ep.path;
  path += path.find('?') == std::string::npos ? "?args=" : "&args=";
  path += EncodeURIComponent(args);
  return path;
}

// The seqNums of the insert items of a pull body ("seqNum":"N", with or
// without blanks around the colon, as json_build_object writes it), in order.
void ForEachSeq(const std::string& body, const std::function<void(int)>& fn) {
  // memmem, not std::string::find: find stops at every '"' of the body to
  // compare the needle (memchr + memcmp), which made this scan the
  // load generator's largest cost on a 1,000,000-event pull, on cores the
  // gateway and Postgres share with it.
  static const char kNeedle[] = "\"seqNum\"";
  size_t p = 0;
  const size_t n = body.size();
  const char* const b = body.data();
  while (p < n) {
    const void* hit = memmem(b + p, n - p, kNeedle, sizeof kNeedle - 1);
    if (hit == nullptr) break;
    p = static_cast<size_t>(static_cast<const char*>(hit) - b) + sizeof kNeedle - 1;
    while (p < n && body[p] == ' ') ++p;
    if (p >= n || body[p] != ':') continue;
    ++p;
    while (p < n && body[p] == ' ') ++p;
    if (p >= n || body[p] != '"') continue;
    ++p;
    if (p < n && body[p] >= '0' && body[p] <= '9') fn(std::atoi(body.c_str() + p));
  }
}

bool HasSeq(const std::string& body) {
  bool any = false;
  ForEachSeq(body, [&](int) { any = true; });
  return any;
}

bool ParseHeldPolls(const std::string& metrics, long* held) {
  size_t p = metrics.find("\nlivestore_gateway_held_polls ");
  if (p == std::string::npos) return false;
  *held = std::atol(metrics.c_str() + p + 30);
  return true;
}

std::string StatusMapJson(const std::map<int, long>& m) {
  Json j;
  for (const auto& [k, v] : m) j.Int(k == 0 ? "transport" : std::to_string(k), v);
  return j.str();
}

void RaiseNoFile() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// ---- serve / ceiling ------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;

int Serve(const Args& a) {
  signal(SIGTERM, [](int) { g_stop = 1; });
  signal(SIGINT, [](int) { g_stop = 1; });
  Loop loop;
  TinyServer srv(loop, "127.0.0.1", static_cast<int>(a.Int("port", 0)));
  std::printf("{\"port\":%d}\n", srv.port());
  std::fflush(stdout);
  int64_t end = NowUs() + static_cast<int64_t>(a.Dbl("seconds", 600) * 1e6);
  while (!g_stop && NowUs() < end) loop.Run(std::min(end, NowUs() + 100000));
  std::fprintf(stderr, "serve: %" PRIu64 " requests\n", srv.requests);
  return 0;
}

// ---- get: one fixed URL, repeated --------------------------------------------------

struct RunClock {
  int64_t t0, measure, end;
  RunClock(double warmup_s, double seconds) {
    t0 = NowUs();
    measure = t0 + static_cast<int64_t>(warmup_s * 1e6);
    end = measure + static_cast<int64_t>(seconds * 1e6);
  }
  bool InWindow(int64_t t) const { return t >= measure && t <= end; }
};

int Get(const Args& a) {
  Url url = ParseUrl(a.Need("url"));
  const std::string method = a.Get("method", "GET");
  const bool head = method == "HEAD";
  const int C = static_cast<int>(a.Int("concurrency", 1));
  const std::string expect_header = a.Get("expect-header");
  Loop loop;
  std::vector<std::unique_ptr<HttpConn>> conns;
  for (int i = 0; i < C; ++i) conns.push_back(std::make_unique<HttpConn>(loop, url));
  const std::string req = BuildRequest(method.c_str(), url, url.path);
  RunClock clk(a.Dbl("warmup", 0.5), a.Dbl("seconds", 5));
  Lat lat;
  long ok = 0, bytes = 0;
  std::map<int, long> errors;
  int active = C;
  std::function<void(HttpConn*)> issue = [&](HttpConn* c) {
    if (NowUs() >= clk.end) {
      --active;
      return;
    }
    c->Send(req, head, [&, c](HttpResult& r) {
      bool good = r.status >= 200 && r.status < 300 && (expect_header.empty() || r.Header(expect_header));
      if (clk.InWindow(r.end_us)) {
        if (good) {
          ++ok;
          bytes += static_cast<long>(r.body.size());
          lat.Add(r.end_us - r.start_us);
        } else {
          errors[r.status]++;
        }
      }
      if (!good && r.status == 0) {
        loop.After(10000, [&, c] { issue(c); });
        return;
      }
      issue(c);
    });
  };
  for (auto& c : conns) issue(c.get());
  loop.RunUntil([&] { return active == 0; }, clk.end + 15'000'000);
  double secs = static_cast<double>(clk.end - clk.measure) / 1e6;
  lat.WriteCdf(a.Get("samples"));
  Json j;
  j.Str("mode", "get").Str("label", a.Get("label")).Str("method", method).Int("concurrency", C)
      .Num("seconds", secs).Int("requests", ok).Num("requests_per_s", ok / secs)
      .Num("bytes_per_request", ok ? static_cast<double>(bytes) / ok : 0)
      .Int("errors", [&] { long n = 0; for (auto& e : errors) n += e.second; return n; }())
      .Raw("error_statuses", StatusMapJson(errors)).Raw("latency", lat.Summary());
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- push: C virtual clients, each owning a store and its seqNum chain -------------

struct PushResult {
  long events = 0, requests = 0, errors = 0;
  double seconds = 0;
  std::map<int, long> statuses;
  Lat lat;
  std::string setup;
  std::string server;  // --pid: the server's CPU and RSS over the measured window (ProcSampler)
  double server_cpu_s = -1;
};

PushResult RunPush(const Args& a, const Url& url) {
  const int C = static_cast<int>(a.Int("concurrency", 1));
  const int B = static_cast<int>(a.Int("batch", 1));
  const std::string prefix = a.Get("store-prefix", "bench");
  const std::string token = a.Get("token");
  const bool setup_pull = a.Get("setup", "pull") == "pull";
  Loop loop;
  struct Client {
    std::string store, client_id;
    int seq = 0;
    std::unique_ptr<HttpConn> conn;
  };
  std::vector<Client> clients(static_cast<size_t>(C));
  for (int i = 0; i < C; ++i) {
    clients[i].store = prefix + "_" + std::to_string(i);
    clients[i].client_id = "bench-client-" + std::to_string(i);
    clients[i].conn = std::make_unique<HttpConn>(loop, url);
  }
  PushResult out;
  // Setup, as the client does before pushing: a first pull (handle None),
  // which creates the store (gateway) or its table (reference).
  if (setup_pull) {
    int pending = C;
    std::map<int, long> setup_status;
    for (auto& c : clients) {
      c.conn->Send(BuildRequest("GET", url, PullPath(url, c.store, token, nullptr, nullptr, false)), false,
                   [&](HttpResult& r) {
                     setup_status[r.status]++;
                     --pending;
                   });
    }
    loop.RunUntil([&] { return pending == 0; }, NowUs() + 60'000'000);
    out.setup = StatusMapJson(setup_status);
  }
  RunClock clk(a.Dbl("warmup", 1), a.Dbl("seconds", 5));
  // --pid: the server's CPU time over exactly the measured window.
  ProcSampler proc(static_cast<int>(a.Int("pid", 0)));
  bool proc_ended = false;
  if (proc.active()) {
    loop.After(clk.measure - NowUs(), [&] { proc.Begin(); });
    loop.After(clk.end - NowUs(), [&] {
      proc.End();
      proc_ended = true;
    });
  }
  int active = C;
  std::function<void(Client&)> issue = [&](Client& c) {
    if (NowUs() >= clk.end) {
      --active;
      return;
    }
    std::string req = BuildRequest("POST", url, url.path, PushBody(c.store, c.client_id, c.seq + 1, B),
                                   "application/json");
    c.conn->Send(std::move(req), false, [&](HttpResult& r) {
      bool good = r.status == 200 && r.body.find("\"success\":true") != std::string::npos;
      if (good) c.seq += B;
      if (clk.InWindow(r.end_us)) {
        out.statuses[r.status]++;
        if (good) {
          out.events += B;
          out.requests++;
          out.lat.Add(r.end_us - r.start_us);
        } else {
          out.errors++;
        }
      }
      if (!good) {
        if (std::getenv("LOADGEN_DEBUG"))
          std::fprintf(stderr, "push %s seq %d: %d %s %s\n", c.store.c_str(), c.seq + 1, r.status, r.err.c_str(),
                       r.body.substr(0, 300).c_str());
        loop.After(20000, [&] { issue(c); });  // the same batch again, like the client
        return;
      }
      issue(c);
    });
  };
  for (auto& c : clients) issue(c);
  loop.RunUntil([&] { return active == 0; }, clk.end + 30'000'000);
  out.seconds = static_cast<double>(clk.end - clk.measure) / 1e6;
  if (proc.active()) {
    if (!proc_ended) proc.End();  // the last answer came before the timer ran
    out.server = proc.Summary();
    out.server_cpu_s = proc.cpu_s();
  }
  return out;
}

std::string PushJson(const Args& a, const char* mode, PushResult& r) {
  r.lat.WriteCdf(a.Get("samples"));
  Json j;
  j.Str("mode", mode).Str("label", a.Get("label")).Int("concurrency", a.Int("concurrency", 1))
      .Int("batch", a.Int("batch", 1)).Num("seconds", r.seconds).Int("events", r.events)
      .Int("requests", r.requests).Num("events_per_s", r.events / r.seconds)
      .Num("requests_per_s", r.requests / r.seconds).Int("errors", r.errors)
      .Raw("statuses", StatusMapJson(r.statuses)).Raw("latency", r.lat.Summary());
  if (!r.setup.empty()) j.Raw("setup_statuses", r.setup);
  if (!r.server.empty()) {
    // CPU time per answered push and per event stored: efficiency apart from the machine's load.
    j.Raw("server", r.server)
        .Num("server_cpu_us_per_request", r.requests ? r.server_cpu_s * 1e6 / r.requests : 0)
        .Num("server_cpu_us_per_event", r.events ? r.server_cpu_s * 1e6 / r.events : 0);
  }
  return j.str();
}

int Push(const Args& a) {
  Url url = ParseUrl(a.Need("url"));
  PushResult r = RunPush(a, url);
  std::printf("%s\n", PushJson(a, "push", r).c_str());
  return 0;
}

// The load generator's own ceiling: the same work against a trivial
// responder in a child process (one core each on a 2-core machine).
int Ceiling(const Args& a) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw std::runtime_error("pipe");
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[0]);
    dup2(pipefd[1], 1);
    Args sa;
    sa.kv["port"] = "0";
    sa.kv["seconds"] = std::to_string(a.Dbl("seconds", 5) * 4 + 60);
    _exit(Serve(sa));
  }
  close(pipefd[1]);
  char buf[128] = {0};
  ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
  close(pipefd[0]);
  int port = 0;
  if (n > 0) std::sscanf(buf, "{\"port\":%d}", &port);
  if (port == 0) throw std::runtime_error("ceiling: the responder did not start");
  const std::string origin = "http://127.0.0.1:" + std::to_string(port);
  Args ha = a;
  ha.kv["url"] = origin + "/api/electric";
  ha.kv["method"] = "HEAD";
  ha.kv["label"] = "loadgen ceiling: HEAD";
  ha.kv["samples"] = "";
  std::fflush(stdout);
  // HEAD requests/s, then pushes of the requested batch size.
  Get(ha);
  std::fflush(stdout);
  Args pa = a;
  pa.kv["url"] = origin + "/api/electric";
  pa.kv["setup"] = "none";
  pa.kv["store-prefix"] = "ceiling";
  PushResult r = RunPush(pa, ParseUrl(pa.kv["url"]));
  std::printf("%s\n", PushJson(pa, "ceiling-push", r).c_str());
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  return 0;
}

// ---- dbpush: the same rows over libpq, no HTTP ---------------------------------

int DbPush(const Args& a) {
  const std::string db = a.Need("db");
  const std::string mode = a.Get("sql", "insert");
  // append: as the gateway runs it (livestore.notify = off; with extension
  // 0.2.0 then livestore.announce() in its own transaction, with 0.3.0+
  // nothing more: the commit publishes the wake-up);
  // append-notify: with the NOTIFY inside the append (the extension's default).
  if (mode != "insert" && mode != "append" && mode != "append-notify" && mode != "cte" && mode != "insert-notify")
    throw std::invalid_argument("--sql insert|append|append-notify|cte|insert-notify");
  const bool plain_table = mode == "insert" || mode == "insert-notify";
  const int C = static_cast<int>(a.Int("concurrency", 1));
  const int B = static_cast<int>(a.Int("batch", 1));
  const std::string prefix = a.Get("store-prefix", "bench");
  std::atomic<int> ready{0};
  std::atomic<bool> announce_used{false};
  std::atomic<bool> go{false};
  std::mutex mu;
  Lat all;
  long events = 0, requests = 0, errors = 0;
  std::string first_error;
  int64_t t_measure = 0, t_end = 0;
  const double warmup = a.Dbl("warmup", 1), seconds = a.Dbl("seconds", 5);
  auto worker = [&](int idx) {
    const std::string store = prefix + "_" + std::to_string(idx);
    const std::string client = "bench-client-" + std::to_string(idx);
    const std::string table = "eventlog_6_" + store;  // store ids here are [A-Za-z0-9_]
    Lat lat;
    long ev = 0, rq = 0, er = 0;
    std::string err1;
    PGconn* conn = PQconnectdb(db.c_str());
    auto fail = [&](const std::string& what) {
      if (err1.empty()) err1 = what + ": " + PQerrorMessage(conn);
    };
    bool ok = PQstatus(conn) == CONNECTION_OK;
    bool announce = false;
    if (!ok) fail("connect");
    if (ok) {
      std::string setup = plain_table
                              ? "CREATE TABLE IF NOT EXISTS \"" + table +
                                    "\" (\"seqNum\" INTEGER PRIMARY KEY, \"parentSeqNum\" INTEGER, \"name\" TEXT NOT "
                                    "NULL, \"args\" JSONB NOT NULL, \"clientId\" TEXT NOT NULL, \"sessionId\" TEXT "
                                    "NOT NULL)"
                              : "SELECT livestore.create_store('" + store + "')";  // append, append-notify, cte
      PGresult* r = PQexec(conn, setup.c_str());
      ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
      if (!ok) fail("setup");
      PQclear(r);
    }
    if (ok) {
      std::string sql;
      int nparams;
      if (plain_table) {
        // insert-notify: the same INSERT, plus the NOTIFY livestore.append sends, in one statement.
        const bool notify = mode == "insert-notify";
        sql = notify ? "WITH n AS (SELECT pg_catalog.pg_notify('livestore_bench', $" + std::to_string(6 * B + 1) +
                           ")) INSERT INTO \"" + table +
                           "\" (\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\") "
                           "SELECT v.* FROM (VALUES "
                     : "INSERT INTO \"" + table +
                           "\" (\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\") VALUES ";
        for (int i = 0; i < B; ++i) {
          if (i) sql += ',';
          int b = i * 6;
          if (notify)
            sql += "($" + std::to_string(b + 1) + "::int4,$" + std::to_string(b + 2) + "::int4,$" + std::to_string(b + 3) +
                   "::text,$" + std::to_string(b + 4) + "::jsonb,$" + std::to_string(b + 5) + "::text,$" +
                   std::to_string(b + 6) + "::text)";
          else
            sql += "($" + std::to_string(b + 1) + ",$" + std::to_string(b + 2) + ",$" + std::to_string(b + 3) + ",$" +
                   std::to_string(b + 4) + ",$" + std::to_string(b + 5) + ",$" + std::to_string(b + 6) + ")";
        }
        if (notify) sql += ") v WHERE EXISTS (SELECT 1 FROM n)";
        nparams = 6 * B + (notify ? 1 : 0);
      } else if (mode == "cte") {
        // livestore.append's own statement (fn_append.cpp), run directly: no
        // C function, no batch check, no NOTIFY.
        sql = "WITH h AS (UPDATE livestore.stores s SET head = $2 WHERE s.table_name OPERATOR(pg_catalog.=) $4 "
              "AND s.head OPERATOR(pg_catalog.=) $1 RETURNING 1) "
              "INSERT INTO public.\"" + table + "\" (\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\") "
              "SELECT x.\"seqNum\", x.\"parentSeqNum\", x.name, COALESCE(x.args, 'null'::pg_catalog.jsonb), x.\"clientId\", "
              "x.\"sessionId\" FROM pg_catalog.jsonb_to_recordset($3) AS x(\"seqNum\" pg_catalog.int4, "
              "\"parentSeqNum\" pg_catalog.int4, name pg_catalog.text, args pg_catalog.jsonb, \"clientId\" pg_catalog.text, "
              "\"sessionId\" pg_catalog.text) WHERE EXISTS (SELECT 1 FROM h)";
        Oid types[4] = {23, 23, 3802, 25};  // int4, int4, jsonb, text
        PGresult* r = PQprepare(conn, "s", sql.c_str(), 4, types);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fail("prepare");
        PQclear(r);
        nparams = -1;
      } else {
        sql = "SELECT livestore.append($1, $2::jsonb)";
        nparams = 2;
        // The session as the gateway sets it up.
        // Extension 0.3.0+ (wait_changes): the append's commit wakes live
        // pulls through the extension's ring, so the gateway announces
        // nothing; before, it announced after each append.
        PGresult* g = PQexec(conn, "SELECT current_setting('livestore.notify', true) IS NOT NULL, "
                                   "to_regprocedure('livestore.announce(text)') IS NOT NULL, "
                                   "to_regprocedure('livestore.wait_changes(bigint,integer)') IS NOT NULL");
        bool has_setting = false;
        if (PQresultStatus(g) == PGRES_TUPLES_OK && PQntuples(g) == 1) {
          has_setting = PQgetvalue(g, 0, 0)[0] == 't';
          announce = mode == "append" && PQgetvalue(g, 0, 1)[0] == 't' && PQgetvalue(g, 0, 2)[0] != 't' &&
                     !std::getenv("LOADGEN_NO_ANNOUNCE");
        }
        PQclear(g);
        if (has_setting) {
          PGresult* set = PQexec(conn, mode == "append" ? "SET livestore.notify = off" : "SET livestore.notify = on");
          PQclear(set);
        }
        if (announce) {
          PGresult* pa = PQprepare(conn, "a", "SELECT livestore.announce($1)", 1, nullptr);
          if (PQresultStatus(pa) != PGRES_COMMAND_OK) announce = false;
          PQclear(pa);
        }
      }
      if (nparams >= 0) {
        PGresult* r = PQprepare(conn, "s", sql.c_str(), nparams, nullptr);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fail("prepare");
        PQclear(r);
      }
    }
    if (announce) announce_used = true;
    ready++;
    while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    int seq = 0;
    std::vector<std::string> vals;
    std::vector<const char*> params;
    while (ok) {
      int64_t start = NowUs();
      if (start >= t_end) break;
      vals.clear();
      if (plain_table) {
        for (int i = 0; i < B; ++i) {
          EventRow e = MakeEvent(store, client, seq + 1 + i);
          vals.push_back(e.seq);
          vals.push_back(e.parent);
          vals.push_back(e.name);
          vals.push_back(e.args);
          vals.push_back(e.client);
          vals.push_back(e.session);
        }
        if (mode == "insert-notify")
          vals.push_back("{\"table\":\"" + table + "\",\"store\":\"" + store + "\",\"head\":" + std::to_string(seq + B) + "}");
      } else if (mode == "cte") {
        vals.push_back(std::to_string(seq));
        vals.push_back(std::to_string(seq + B));
        vals.push_back(BatchJson(store, client, seq + 1, B));
        vals.push_back(table);
      } else {
        vals.push_back(store);
        vals.push_back(BatchJson(store, client, seq + 1, B));
      }
      params.clear();
      for (auto& v : vals) params.push_back(v.c_str());
      PGresult* r = PQexecPrepared(conn, "s", static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0);
      ExecStatusType st = PQresultStatus(r);
      if (announce && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
        // The gateway's second statement: wake other gateways' polls.
        const char* id[1] = {store.c_str()};
        PGresult* an = PQexecPrepared(conn, "a", 1, id, nullptr, nullptr, 0);
        PQclear(an);
      }
      int64_t end = NowUs();
      bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
      if (good && mode == "cte" && std::atoi(PQcmdTuples(r)) != B) {
        good = false;
        if (err1.empty()) err1 = "cte: head did not match";
      }
      if (!good && err1.empty()) err1 = PQresultErrorMessage(r);
      PQclear(r);
      if (good) seq += B;
      if (end >= t_measure && end <= t_end) {
        if (good) {
          ev += B;
          rq++;
          lat.Add(end - start);
        } else {
          er++;
        }
      }
      if (!good) {
        if (PQstatus(conn) != CONNECTION_OK) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    PQfinish(conn);
    std::lock_guard<std::mutex> lock(mu);
    all.Merge(lat);
    events += ev;
    requests += rq;
    errors += er + (ok ? 0 : 1);
    if (first_error.empty()) first_error = err1;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < C; ++i) threads.emplace_back(worker, i);
  for (int i = 0; i < 60000 && ready.load() < C; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t_measure = NowUs() + static_cast<int64_t>(warmup * 1e6);
  t_end = t_measure + static_cast<int64_t>(seconds * 1e6);
  go = true;
  for (auto& t : threads) t.join();
  all.WriteCdf(a.Get("samples"));
  Json j;
  j.Str("mode", "dbpush").Str("sql", mode).Bool("announce", announce_used.load()).Str("label", a.Get("label")).Int("concurrency", C).Int("batch", B)
      .Num("seconds", seconds).Int("events", events).Int("requests", requests)
      .Num("events_per_s", events / seconds).Num("requests_per_s", requests / seconds).Int("errors", errors)
      .Str("first_error", first_error).Raw("latency", all.Summary());
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- shared by fanout and hold ----------------------------------------------------

struct Position {
  std::string handle, offset;
};

// The first pull (handle None, not live): the store's handle and position.
bool InitialPull(Loop& loop, HttpConn& conn, const Url& ep, const std::string& store, const std::string& token,
                 Position* pos, std::string* err) {
  bool done = false, ok = false;
  conn.Send(BuildRequest("GET", ep, PullPath(ep, store, token, nullptr, nullptr, false)), false, [&](HttpResult& r) {
    done = true;
    const std::string* h = r.Header("electric-handle");
    const std::string* o = r.Header("electric-offset");
    if (r.status == 200 && h && o) {
      pos->handle = *h;
      pos->offset = *o;
      ok = true;
    } else {
      *err = "initial pull: status " + std::to_string(r.status) + " " + r.err + " " + r.body.substr(0, 200);
    }
  });
  loop.RunUntil([&] { return done; }, NowUs() + 30'000'000);
  return ok;
}

// Follows the pull chain (handle None first, then the offsets answered) until
// an empty page: how a fresh client catches up. Returns the position at the end.
bool CatchUp(Loop& loop, HttpConn& conn, const Url& ep, const std::string& store, const std::string& token,
             Position* pos, int max_pages, std::string* err) {
  if (!InitialPull(loop, conn, ep, store, token, pos, err)) return false;
  for (int i = 0; i < max_pages; ++i) {
    bool done = false, empty = false, ok = false;
    conn.Send(BuildRequest("GET", ep, PullPath(ep, store, token, &pos->handle, &pos->offset, false)), false,
              [&](HttpResult& r) {
                done = true;
                const std::string* h = r.Header("electric-handle");
                const std::string* o = r.Header("electric-offset");
                if (r.status != 200 || !h || !o) {
                  *err = "catch-up pull: status " + std::to_string(r.status) + " " + r.err;
                  return;
                }
                ok = true;
                empty = !HasSeq(r.body);
                pos->handle = *h;
                pos->offset = *o;
              });
    loop.RunUntil([&] { return done; }, NowUs() + 30'000'000);
    if (!ok) return false;
    if (empty) break;
  }
  // A flagged offset ("~") would be answered at once: the position proper.
  if (!pos->offset.empty() && pos->offset.back() == '~') pos->offset.pop_back();
  return true;
}

// Polls /metrics until the gateway holds at least `want` live pulls.
long WaitHeld(Loop& loop, HttpConn& conn, const Url& ep, long want, int64_t deadline) {
  long held = -1;
  bool busy = false;
  while (NowUs() < deadline) {
    if (!busy) {
      busy = true;
      conn.Send(BuildRequest("GET", ep, "/metrics"), false, [&](HttpResult& r) {
        busy = false;
        long h;
        if (r.status == 200 && ParseHeldPolls(r.body, &h)) held = h;
      });
    }
    loop.RunUntil([&] { return !busy; }, std::min(deadline, NowUs() + 5'000'000));
    if (held >= want) break;
    loop.Run(NowUs() + 100'000);
  }
  return held;
}

// ---- the gateways behind a cache or a balancer: their /metrics ----------------------

// Summed over the gateways read: live pulls held now, pulls and pushes answered so far.
struct OriginCounts {
  long held = 0, pulls = 0, pushes = 0;
  int answered = 0;  // gateways whose /metrics answered
};

// The sum of livestore_gateway_requests_total{route="ROUTE",status="..."} over statuses.
long RouteCount(const std::string& metrics, const std::string& route) {
  const std::string needle = "\nlivestore_gateway_requests_total{route=\"" + route + "\",";
  long n = 0;
  for (size_t p = metrics.find(needle); p != std::string::npos; p = metrics.find(needle, p + 1)) {
    size_t sp = metrics.find("} ", p);
    if (sp == std::string::npos) break;
    n += std::atol(metrics.c_str() + sp + 2);
  }
  return n;
}

// --metrics-url: the gateways' base URLs, comma-separated (default: --url's own
// server). With a cache or a balancer at --url, the figures are the gateways'.
class Origins {
 public:
  Origins(Loop& loop, const std::string& list, const Url& fallback) : loop_(loop) {
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ','))
      if (!item.empty()) urls_.push_back(ParseUrl(item));
    if (urls_.empty()) urls_.push_back(fallback);
    for (const Url& u : urls_) conns_.push_back(std::make_unique<HttpConn>(loop, u));
  }
  OriginCounts Read(int64_t deadline) {
    OriginCounts c;
    for (size_t i = 0; i < urls_.size(); ++i) {
      bool done = false;
      conns_[i]->Send(BuildRequest("GET", urls_[i], "/metrics"), false, [&](HttpResult& r) {
        done = true;
        long h;
        if (r.status != 200 || !ParseHeldPolls(r.body, &h)) return;
        c.answered++;
        c.held += h;
        c.pulls += RouteCount(r.body, "pull");
        c.pushes += RouteCount(r.body, "push");
      });
      loop_.RunUntil([&] { return done; }, deadline);
    }
    return c;
  }
  // Reads every 100 ms until the gateways hold `base` + `want` live pulls, or
  // at least `want` unchanged for a second: polls of earlier readers (closed
  // connections the gateway holds until their timeout) may end meanwhile.
  OriginCounts WaitHeld(long base, long want, int64_t deadline) {
    OriginCounts c;
    long last = -1;
    int64_t since = NowUs();
    while (NowUs() < deadline) {
      c = Read(std::min(deadline, NowUs() + 5'000'000));
      if (c.held >= base + want) break;
      if (c.held != last) last = c.held, since = NowUs();
      else if (c.held >= want && NowUs() - since >= 1'000'000) break;
      loop_.Run(NowUs() + 100'000);
    }
    return c;
  }

 private:
  Loop& loop_;
  std::vector<Url> urls_;
  std::vector<std::unique_ptr<HttpConn>> conns_;
};

// ---- fanout: R live readers on one store while a writer pushes ---------------------

// The load generator's own CPU time (user + system), to tell whether a
// fan-out figure measured the gateway or the load generator's limit.
double OwnCpuS() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int Fanout(const Args& a) {
  RaiseNoFile();
  Url ep = ParseUrl(a.Need("url"));
  const int R = static_cast<int>(a.Int("readers", 100));
  const std::string store = a.Need("store");
  const std::string token = a.Get("token");
  const double seconds = a.Dbl("seconds", 10);
  const int64_t interval_us = a.Int("interval-ms", 200) * 1000;
  const int max_pushes = static_cast<int>(a.Int("max-pushes", 100000));
  // The writer may push through another server than the readers read from
  // (--push-url: another gateway); --metrics-url: see Origins.
  const Url push_ep = a.Get("push-url").empty() ? ep : ParseUrl(a.Get("push-url"));
  const double drain_s = a.Dbl("drain-seconds", 10);
  Loop loop;
  ProcSampler proc(static_cast<int>(a.Int("pid", 0)));
  ProcSampler cache_proc(static_cast<int>(a.Int("cache-pid", 0)));  // e.g. the cache in front of the gateway
  HttpConn writer(loop, push_ep);
  Origins origins(loop, a.Get("metrics-url"), ep);
  Position start;
  std::string err;
  if (!CatchUp(loop, writer, ep, store, token, &start, 100000, &err)) {
    std::printf("%s\n", Json().Str("mode", "fanout").Str("error", err).str().c_str());
    return 1;
  }
  int head = std::atoi(start.offset.c_str());

  struct Reader {
    std::unique_ptr<HttpConn> conn;
    Position pos;
    int last = 0;
    long requests = 0;
  };
  std::vector<Reader> readers(static_cast<size_t>(R));
  std::vector<int64_t> sent_at;  // by seqNum
  Lat lat;
  long deliveries = 0, errors = 0, duplicates = 0;
  std::map<int, long> statuses;
  bool stopping = false;
  std::function<void(Reader&)> next = [&](Reader& rd) {
    if (stopping) return;
    rd.requests++;
    rd.conn->Send(BuildRequest("GET", ep, PullPath(ep, store, token, &rd.pos.handle, &rd.pos.offset, true)), false,
                  [&](HttpResult& r) {
                    const std::string* h = r.Header("electric-handle");
                    const std::string* o = r.Header("electric-offset");
                    if (r.status != 200 || !h || !o) {
                      errors++;
                      statuses[r.status]++;
                      if (!stopping) loop.After(100000, [&] { next(rd); });
                      return;
                    }
                    rd.pos.handle = *h;
                    rd.pos.offset = *o;
                    ForEachSeq(r.body, [&](int s) {
                      if (s <= rd.last) {
                        duplicates++;
                        return;
                      }
                      rd.last = s;
                      deliveries++;
                      if (s >= 0 && static_cast<size_t>(s) < sent_at.size() && sent_at[s] > 0)
                        lat.Add(r.end_us - sent_at[s]);
                    });
                    next(rd);
                  });
  };
  const OriginCounts before_readers = origins.Read(NowUs() + 5'000'000);
  // Connect the readers gradually (the accept queue is finite).
  for (int i = 0; i < R; ++i) {
    readers[i].conn = std::make_unique<HttpConn>(loop, ep);
    readers[i].pos = start;
    readers[i].last = head;
  }
  for (int i = 0; i < R; i += 250) {
    for (int k = i; k < std::min(R, i + 250); ++k) next(readers[k]);
    loop.Run(NowUs() + 20'000);
  }
  // Every reader's poll sent, then held by the gateways: all R of them direct,
  // only the collapsed few behind a cache (--held-want).
  loop.RunUntil(
      [&] {
        for (auto& rd : readers)
          if (!rd.conn->written()) return false;
        return true;
      },
      NowUs() + 30'000'000);
  const OriginCounts at_start = origins.WaitHeld(before_readers.held, a.Int("held-want", R), NowUs() + 30'000'000);
  long held = std::max(0L, at_start.held - before_readers.held);

  // The writer: one event per push, every interval.
  proc.Begin();
  const double own_cpu_begin = OwnCpuS();
  cache_proc.Begin();
  bool stop_sampling = false;
  if (proc.active()) proc.Schedule(loop, 50'000, &stop_sampling);
  if (cache_proc.active()) cache_proc.Schedule(loop, 50'000, &stop_sampling);
  int seq = head, pushes = 0, push_errors = 0;
  Lat push_lat;
  const int64_t t0 = NowUs(), t_end = t0 + static_cast<int64_t>(seconds * 1e6);
  sent_at.assign(static_cast<size_t>(head) + static_cast<size_t>(seconds * 1e6 / interval_us) + 16, 0);
  bool writer_done = false;
  std::function<void(int64_t)> push_at = [&](int64_t when) {
    loop.At(when, [&, when] {
      if (NowUs() >= t_end || pushes >= max_pushes || static_cast<size_t>(seq + 1) >= sent_at.size()) {
        writer_done = true;
        return;
      }
      int s = seq + 1;
      sent_at[s] = NowUs();
      pushes++;
      writer.Send(BuildRequest("POST", push_ep, push_ep.path, PushBody(store, "fanout-writer", s, 1), "application/json"),
                  false, [&, s, when](HttpResult& r) {
                    if (r.status == 200) {
                      seq = s;
                      push_lat.Add(r.end_us - r.start_us);
                    } else {
                      push_errors++;
                      sent_at[s] = 0;
                    }
                    // Next push at the next tick (or now, if this one overran it).
                    push_at(std::max(NowUs(), when + interval_us));
                  });
    });
  };
  push_at(NowUs());
  loop.RunUntil([&] { return writer_done; }, t_end + 30'000'000);
  // Drain: every reader should reach the last seq.
  const int final_seq = seq;
  loop.RunUntil(
      [&] {
        for (auto& rd : readers)
          if (rd.last < final_seq) return false;
        return true;
      },
      NowUs() + static_cast<int64_t>(drain_s * 1e6));
  proc.End();
  const double own_cpu_s = OwnCpuS() - own_cpu_begin;
  cache_proc.End();
  const OriginCounts at_end = origins.Read(NowUs() + 5'000'000);
  stop_sampling = true;
  stopping = true;
  long missing = 0;
  for (auto& rd : readers) missing += final_seq - rd.last;
  long requests = 0;
  for (auto& rd : readers) requests += rd.requests;
  for (auto& rd : readers) rd.conn->Close();
  lat.WriteCdf(a.Get("samples"));
  const double secs = static_cast<double>(NowUs() - t0) / 1e6;
  Json j;
  j.Str("mode", "fanout").Str("label", a.Get("label")).Int("readers", R).Int("held_before_writing", held)
      .Int("pushes", pushes).Int("push_errors", push_errors).Num("interval_ms", interval_us / 1000.0)
      .Int("deliveries", deliveries).Int("expected_deliveries", static_cast<int64_t>(R) * (final_seq - head))
      .Int("missing", missing).Int("duplicates", duplicates).Int("errors", errors)
      .Raw("error_statuses", StatusMapJson(statuses)).Int("reader_requests", requests)
      .Num("reader_requests_per_s", requests / secs).Raw("latency", lat.Summary())
      .Raw("push_latency", push_lat.Summary()).Raw("gateway", proc.Summary())
      .Num("loadgen_cpu_s", own_cpu_s).Num("seconds", secs);
  // What reached the gateways while writing (from the first push to the drain's end).
  j.Raw("origin", Json().Int("gateways", at_end.answered).Int("pulls", at_end.pulls - at_start.pulls)
                      .Int("pushes", at_end.pushes - at_start.pushes).str());
  if (cache_proc.active()) j.Raw("cache", cache_proc.Summary());
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- hold: N idle long polls held at once ---------------------------------------

int Hold(const Args& a) {
  RaiseNoFile();
  Url ep = ParseUrl(a.Need("url"));
  const int N = static_cast<int>(a.Int("conns", 10000));
  const std::string store = a.Need("store");
  const std::string token = a.Get("token");
  const double hold_s = a.Dbl("hold-seconds", 5);
  const int ramp = static_cast<int>(a.Int("ramp", 500));  // new connections per 50 ms
  Loop loop;
  ProcSampler proc(static_cast<int>(a.Int("pid", 0)));
  HttpConn writer(loop, ep), meta(loop, ep);
  Position pos;
  std::string err;
  if (!CatchUp(loop, writer, ep, store, token, &pos, 100000, &err)) {
    std::printf("%s\n", Json().Str("mode", "hold").Str("error", err).str().c_str());
    return 1;
  }
  const int head = std::atoi(pos.offset.c_str());
  proc.Begin();  // the gateway before any held poll (the baseline)
  const long rss_idle = proc.rss_begin();
  bool stop_sampling = false;
  if (proc.active()) proc.Schedule(loop, 100'000, &stop_sampling);

  std::vector<std::unique_ptr<HttpConn>> conns;
  conns.reserve(static_cast<size_t>(N));
  long early = 0, ok = 0, bad = 0;
  std::map<int, long> early_status, bad_status;
  bool released = false;
  int64_t release_at = 0;
  Lat release_lat;
  const std::string path = PullPath(ep, store, token, &pos.handle, &pos.offset, true);
  const int64_t t_ramp = NowUs();
  for (int i = 0; i < N; ++i) {
    conns.push_back(std::make_unique<HttpConn>(loop, ep));
    conns.back()->Send(BuildRequest("GET", ep, path), false, [&](HttpResult& r) {
      if (!released) {
        early++;
        early_status[r.status]++;
        if (std::getenv("LOADGEN_DEBUG") && early < 5)
          std::fprintf(stderr, "early answer: %d %s\n", r.status, r.err.c_str());
        return;
      }
      bool has = false;
      ForEachSeq(r.body, [&](int s) { has = has || s == head + 1; });
      if (r.status == 200 && has) {
        ok++;
        release_lat.Add(r.end_us - release_at);
      } else {
        bad++;
        bad_status[r.status]++;
      }
    });
    if ((i + 1) % ramp == 0) loop.Run(NowUs() + 50'000);
  }
  const double ramp_s = static_cast<double>(NowUs() - t_ramp) / 1e6;
  const long held = WaitHeld(loop, meta, ep, N, NowUs() + 60'000'000);
  const double all_held_s = static_cast<double>(NowUs() - t_ramp) / 1e6;
  loop.Run(NowUs() + static_cast<int64_t>(hold_s * 1e6));
  proc.Sample();
  const long rss_held = proc.rss_last();
  const long held_after = WaitHeld(loop, meta, ep, 0, NowUs() + 10'000'000);
  // Release: one push wakes every held poll, which must answer 200 with it.
  released = true;
  release_at = NowUs();
  int push_status = 0;
  writer.Send(BuildRequest("POST", ep, ep.path, PushBody(store, "hold-writer", head + 1, 1), "application/json"),
              false, [&](HttpResult& r) { push_status = r.status; });
  loop.RunUntil([&] { return ok + bad + early >= N; }, NowUs() + static_cast<int64_t>(a.Dbl("release-timeout", 60) * 1e6));
  proc.End();
  stop_sampling = true;
  const long unanswered = N - ok - bad - early;
  for (auto& c : conns) c->Close();
  Json j;
  j.Str("mode", "hold").Str("label", a.Get("label")).Int("conns", N).Num("ramp_s", ramp_s)
      .Num("all_held_s", all_held_s).Int("held_reported", held).Int("held_after_hold", held_after)
      .Num("rss_idle_mb", rss_idle / 1024.0).Num("rss_held_mb", rss_held / 1024.0)
      .Num("rss_per_poll_kb", N ? static_cast<double>(rss_held - rss_idle) / N : 0)
      .Int("early_answers", early).Raw("early_statuses", StatusMapJson(early_status)).Int("release_push_status", push_status)
      .Int("released_ok", ok).Int("released_bad", bad).Raw("released_bad_statuses", StatusMapJson(bad_status))
      .Int("unanswered", unanswered).Int("errors", early + bad + unanswered + (push_status == 200 ? 0 : 1))
      .Raw("release_latency", release_lat.Summary()).Raw("gateway", proc.Summary());
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- compare: the same pull through several endpoints, interleaved --------------

// --targets name=URL,name=URL...: the first is the baseline. Every round sends
// one request to each target in turn (sequentially, concurrency 1), so drift
// hits all alike. --case empty: a non-live pull at the head (an empty page);
// --case page: a non-live pull --page-size events behind the head.
int Compare(const Args& a) {
  const std::string store = a.Need("store");
  const std::string token = a.Get("token");
  const std::string kase = a.Get("case", "empty");
  const long page = a.Int("page-size", 50);
  const double seconds = a.Dbl("seconds", 5), warmup = a.Dbl("warmup", 0.5);
  const long max_rounds = a.Int("max-rounds", 200000);
  struct Target {
    std::string name;
    Url url;
    std::unique_ptr<HttpConn> conn;
    std::string request;
    Lat lat;
    long errors = 0;
    std::map<int, long> statuses;
    long events = 0;
  };
  std::vector<Target> targets;
  Loop loop;
  std::stringstream ts(a.Need("targets"));
  for (std::string item; std::getline(ts, item, ',');) {
    size_t eq = item.find('=');
    Target t;
    t.name = item.substr(0, eq);
    t.url = ParseUrl(item.substr(eq + 1));
    t.conn = std::make_unique<HttpConn>(loop, t.url);
    targets.push_back(std::move(t));
  }
  if (targets.empty()) throw std::invalid_argument("--targets");
  // The position, from the first target.
  Position pos;
  std::string err;
  if (!CatchUp(loop, *targets[0].conn, targets[0].url, store, token, &pos, 100000, &err)) {
    std::printf("%s\n", Json().Str("mode", "compare").Str("error", err).str().c_str());
    return 1;
  }
  const int head = std::atoi(pos.offset.c_str());
  Position at = pos;
  if (kase == "page") at.offset = std::to_string(std::max<long>(0, head - page)) + "_0";
  for (auto& t : targets) t.request = BuildRequest("GET", t.url, PullPath(t.url, store, token, &at.handle, &at.offset, false));
  const int64_t t0 = NowUs(), measure = t0 + static_cast<int64_t>(warmup * 1e6),
                end = measure + static_cast<int64_t>(seconds * 1e6);
  long rounds = 0;
  while (NowUs() < end && rounds < max_rounds) {
    for (auto& t : targets) {
      bool done = false;
      const bool counted = NowUs() >= measure;
      t.conn->Send(t.request, false, [&](HttpResult& r) {
        done = true;
        bool good = r.status == 200 && r.Header("electric-offset") && r.Header("electric-handle");
        if (!counted) return;
        t.statuses[r.status]++;
        if (!good) {
          t.errors++;
          return;
        }
        t.lat.Add(r.end_us - r.start_us);
        long n = 0;
        ForEachSeq(r.body, [&](int) { n++; });
        t.events = n;
      });
      loop.RunUntil([&] { return done; }, NowUs() + 30'000'000);
    }
    if (NowUs() >= measure) rounds++;
  }
  std::string list = "[";
  for (size_t i = 0; i < targets.size(); ++i) {
    auto& t = targets[i];
    if (i) list += ',';
    Json j;
    j.Str("name", t.name).Int("errors", t.errors).Raw("statuses", StatusMapJson(t.statuses))
        .Int("events_per_page", t.events).Raw("latency", t.lat.Summary());
    list += j.str();
  }
  list += "]";
  Json j;
  j.Str("mode", "compare").Str("label", a.Get("label")).Str("case", kase).Int("head", head)
      .Str("offset", at.offset).Int("rounds", rounds).Raw("targets", list);
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- pull: one fresh reader pages through a store -------------------------------------

int Pull(const Args& a) {
  Url ep = ParseUrl(a.Need("url"));
  const std::string store = a.Need("store");
  const std::string token = a.Get("token");
  const long expect = a.Int("expect", 0);
  const bool live = a.Get("live", "true") == "true";  // the client pulls live
  const int64_t deadline = NowUs() + static_cast<int64_t>(a.Dbl("timeout", 600) * 1e6);
  const long max_pages = a.Int("max-pages", 1000000);
  Loop loop;
  HttpConn conn(loop, ep);
  ProcSampler proc(static_cast<int>(a.Int("pid", 0)));
  proc.Begin();
  bool stop_sampling = false;
  if (proc.active()) proc.Schedule(loop, 10'000, &stop_sampling);
  Position pos;
  bool have = false, done = false, failed = false;
  long events = 0, pages = 0, bytes = 0, gaps = 0;
  int last = 0;
  std::string err;
  Lat page_lat;
  const int64_t t0 = NowUs();
  while (!done && !failed && pages < max_pages && NowUs() < deadline) {
    bool answered = false;
    conn.Send(BuildRequest("GET", ep, PullPath(ep, store, token, have ? &pos.handle : nullptr,
                                               have ? &pos.offset : nullptr, live)),
              false, [&](HttpResult& r) {
                answered = true;
                const std::string* h = r.Header("electric-handle");
                const std::string* o = r.Header("electric-offset");
                if (r.status != 200 || !h || !o) {
                  failed = true;
                  err = "status " + std::to_string(r.status) + " " + r.err;
                  return;
                }
                pages++;
                bytes += static_cast<long>(r.body.size());
                page_lat.Add(r.end_us - r.start_us);
                long n = 0;
                ForEachSeq(r.body, [&](int s) {
                  if (s != last + 1) gaps++;
                  last = s;
                  n++;
                });
                events += n;
                if (n == 0 && have) done = true;
                pos.handle = *h;
                pos.offset = *o;
                have = true;
              });
    loop.RunUntil([&] { return answered; }, deadline);
    if (!answered) failed = true, err = "timeout";
  }
  const double secs = static_cast<double>(NowUs() - t0) / 1e6;
  proc.End();
  stop_sampling = true;
  Json j;
  j.Str("mode", "pull").Str("label", a.Get("label")).Str("store", store).Int("events", events)
      .Int("expected", expect).Int("pages", pages).Int("bytes", bytes).Num("seconds", secs)
      .Num("events_per_s", events / secs).Num("mb_per_s", bytes / secs / 1e6).Int("gaps", gaps)
      .Bool("complete", done && (expect == 0 || events == expect) && gaps == 0).Str("error", err)
      .Raw("page_latency", page_lat.Summary()).Raw("gateway", proc.Summary());
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- storm: C fresh clients open one store at the same moment ----------------------

// The value of an unlabelled counter or gauge in a /metrics body (-1 if absent).
double MetricValue(const std::string& metrics, const std::string& name) {
  const std::string needle = "\n" + name + " ";
  size_t p = metrics.find(needle);
  if (p == std::string::npos) return -1;
  return std::atof(metrics.c_str() + p + needle.size());
}

// Every client follows the pull chain from handle None as the LiveStore
// client does (live, flagged offsets) until an empty page; reports the time
// until every client has caught up, the requests and bytes served, and the
// page queries the gateway made (from its /metrics, before and after).
int Storm(const Args& a) {
  RaiseNoFile();
  Url ep = ParseUrl(a.Need("url"));
  const int C = static_cast<int>(a.Int("clients", 1000));
  const std::string store = a.Need("store");
  const std::string token = a.Get("token");
  const long expect = a.Int("expect", 0);
  const long page_events = std::max(1L, static_cast<long>(a.Int("page-events", 1000)));  // the gateway's
  const int64_t deadline_after = static_cast<int64_t>(a.Dbl("timeout", 300) * 1e6);
  Loop loop;
  ProcSampler proc(static_cast<int>(a.Int("pid", 0)));
  HttpConn meta(loop, ep);
  auto scrape = [&](std::string* out) {
    bool done = false;
    meta.Send(BuildRequest("GET", ep, "/metrics"), false, [&](HttpResult& r) {
      done = true;
      if (r.status == 200) *out = r.body;
    });
    loop.RunUntil([&] { return done; }, NowUs() + 10'000'000);
  };
  std::string before, after;
  scrape(&before);

  struct Client {
    std::unique_ptr<HttpConn> conn;
    Position pos;
    bool have = false, done = false;
    int last = 0;
    long events = 0, requests = 0, gaps = 0;
    int64_t done_us = 0;
  };
  std::vector<Client> clients(static_cast<size_t>(C));
  long bytes = 0, errors = 0, finished = 0;
  std::map<int, long> statuses;
  Lat caught_up;
  int64_t t0 = 0;
  std::function<void(Client&)> next = [&](Client& c) {
    c.requests++;
    c.conn->Send(BuildRequest("GET", ep, PullPath(ep, store, token, c.have ? &c.pos.handle : nullptr,
                                                  c.have ? &c.pos.offset : nullptr, true)),
                 false, [&](HttpResult& r) {
                   const std::string* h = r.Header("electric-handle");
                   const std::string* o = r.Header("electric-offset");
                   if (r.status != 200 || !h || !o) {
                     errors++;
                     statuses[r.status]++;
                     loop.After(100'000, [&] { next(c); });
                     return;
                   }
                   bytes += static_cast<long>(r.body.size());
                   long n = 0;
                   ForEachSeq(r.body, [&](int s) {
                     if (s != c.last + 1) c.gaps++;
                     c.last = s;
                     n++;
                   });
                   c.events += n;
                   c.pos.handle = *h;
                   c.pos.offset = *o;
                   if (n == 0 && c.have) {
                     c.done = true;
                     c.done_us = r.end_us;
                     caught_up.Add(r.end_us - t0);
                     finished++;
                     return;
                   }
                   c.have = true;
                   next(c);
                 });
  };
  for (auto& c : clients) c.conn = std::make_unique<HttpConn>(loop, ep);
  proc.Begin();
  bool stop_sampling = false;
  if (proc.active()) proc.Schedule(loop, 50'000, &stop_sampling);
  t0 = NowUs();
  // All at once, in bursts of 250 connections (the accept queue is finite).
  for (int i = 0; i < C; i += 250) {
    for (int k = i; k < std::min(C, i + 250); ++k) next(clients[k]);
    loop.Run(NowUs() + 5'000);
  }
  loop.RunUntil([&] { return finished == C; }, t0 + deadline_after);
  const double secs = static_cast<double>(NowUs() - t0) / 1e6;
  proc.End();
  stop_sampling = true;
  long requests = 0, events = 0, gaps = 0, complete = 0;
  for (auto& c : clients) {
    requests += c.requests;
    events += c.events;
    gaps += c.gaps;
    if (c.done && c.gaps == 0 && (expect == 0 || c.events == expect)) complete++;
    c.conn->Close();
  }
  scrape(&after);
  auto delta = [&](const char* name) {
    const double b = MetricValue(before, name), e = MetricValue(after, name);
    return b < 0 || e < 0 ? -1L : static_cast<long>(e - b);
  };
  // Every page read from Postgres: for a request, or ahead of one (a gateway
  // without prefetch has no such metric: -1, counted as none).
  const long prefetches = delta("livestore_gateway_page_prefetches_total");
  const long request_queries = delta("livestore_gateway_page_queries_total");
  const long page_queries = request_queries < 0 ? -1 : request_queries + std::max(prefetches, 0L);
  Json j;
  j.Str("mode", "storm").Str("label", a.Get("label")).Str("store", store).Int("clients", C).Int("expected", expect)
      .Int("complete_clients", complete).Int("finished_clients", finished).Int("events", events).Int("gaps", gaps)
      .Num("seconds_all_caught_up", secs).Int("requests", requests).Int("bytes", bytes).Int("errors", errors)
      .Raw("error_statuses", StatusMapJson(statuses)).Int("page_queries", page_queries)
      .Int("page_prefetches", prefetches).Int("page_cache_hits", delta("livestore_gateway_page_cache_hits_total"))
      .Num("queries_per_page", expect > 0 && page_queries >= 0 ? page_queries / (expect / page_events + 1.0) : -1)
      .Num("events_per_s", events / secs).Raw("caught_up", caught_up.Summary()).Raw("gateway", proc.Summary());
  std::printf("%s\n", j.str().c_str());
  return 0;
}

// ---- copy: COPY (SELECT ...) TO STDOUT over libpq ---------------------------------

int Copy(const Args& a) {
  PGconn* conn = PQconnectdb(a.Need("db").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::printf("%s\n", Json().Str("mode", "copy").Str("error", PQerrorMessage(conn)).str().c_str());
    return 1;
  }
  const int64_t t0 = NowUs();
  PGresult* r = PQexec(conn, a.Need("sql").c_str());
  long rows = 0, bytes = 0;
  std::string err;
  if (PQresultStatus(r) != PGRES_COPY_OUT) {
    err = PQresultErrorMessage(r);
  } else {
    char* buf = nullptr;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
      rows++;  // one row per message
      bytes += n;
      PQfreemem(buf);
    }
    PGresult* fin = PQgetResult(conn);
    if (PQresultStatus(fin) != PGRES_COMMAND_OK) err = PQresultErrorMessage(fin);
    PQclear(fin);
  }
  PQclear(r);
  const double secs = static_cast<double>(NowUs() - t0) / 1e6;
  PQfinish(conn);
  Json j;
  j.Str("mode", "copy").Str("label", a.Get("label")).Int("rows", rows).Int("bytes", bytes).Num("seconds", secs)
      .Num("rows_per_s", rows / secs).Num("mb_per_s", bytes / secs / 1e6).Str("error", err);
  std::printf("%s\n", j.str().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr,
                 "usage: loadgen serve|ceiling|get|push|dbpush|fanout|hold|pull|copy|compare|storm [--key value]...\n"
                 "see the header of bench/loadgen/loadgen.cpp\n");
    return 2;
  }
  Args a;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      std::fprintf(stderr, "loadgen: unexpected argument %s\n", k.c_str());
      return 2;
    }
    k = k.substr(2);
    if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) a.kv[k] = argv[++i];
    else a.kv[k] = "1";
  }
  const std::string mode = argv[1];
  try {
    if (mode == "serve") return Serve(a);
    if (mode == "ceiling") return Ceiling(a);
    if (mode == "get") return Get(a);
    if (mode == "push") return Push(a);
    if (mode == "dbpush") return DbPush(a);
    if (mode == "fanout") return Fanout(a);
    if (mode == "hold") return Hold(a);
    if (mode == "pull") return Pull(a);
    if (mode == "copy") return Copy(a);
    if (mode == "compare") return Compare(a);
    if (mode == "storm") return Storm(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen %s: %s\n", mode.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "loadgen: unknown mode %s\n", mode.c_str());
  return 2;
}
