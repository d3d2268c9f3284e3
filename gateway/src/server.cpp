#include "gw/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gw/auth.h"
#include "gw/log.h"
#include "gw/routes.h"
#include "gw/shape_log.h"
#include "gw/upstream.h"
#include "livestore/core/json.h"

namespace gw {

const char* RouteName(Route r) {
  switch (r) {
    case Route::kPing: return "ping";
    case Route::kPush: return "push";
    case Route::kPull: return "pull";
    case Route::kShape: return "shape";
    case Route::kHealth: return "healthz";
    case Route::kMetrics: return "metrics";
    case Route::kPreflight: return "preflight";
    case Route::kBadMethod: return "bad_method";
    case Route::kNotFound: break;
  }
  return "not_found";
}

Request::~Request() {
  // The client went away (or the answer is done): stop the upstream transfer.
  if (proxy && server && server->upstream()) server->upstream()->Cancel(proxy);
}

Server::Server(Config config)
    : config_(std::move(config)),
      announcer_(config_.listen_database_url),  // a session: it SETs synchronous_commit
      push_store_limit_(config_.push_rate_per_store, std::max(1.0, config_.push_rate_per_store)),
      push_ip_limit_(config_.push_rate_per_ip, std::max(1.0, config_.push_rate_per_ip)),
      pull_ip_limit_(config_.pull_rate_per_ip, std::max(1.0, config_.pull_rate_per_ip)) {
  if (!config_.electric_url.empty()) upstream_ = std::make_unique<Upstream>(this);
  keys_ = std::make_unique<KeyStore>(config_, &metrics_);
  decisions_ = std::make_unique<DecisionCache>(config_.authorize_cache_s,
                                               static_cast<size_t>(config_.authorize_cache_entries));
}

Server::~Server() {
  if (daemon_) Shutdown();
}

std::string Server::ClientAddress(MHD_Connection* c) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char host[INET6_ADDRSTRLEN] = "";
  const sockaddr* sa = info->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host, sizeof host);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, host, sizeof host);
  return host;
}

Route Server::Classify(const std::string& method, const std::string& path) const {
  const Config& c = config_;
  auto is = [&](const std::string& p) { return !p.empty() && path == p; };
  if (method == "OPTIONS" && (is(c.endpoint) || is(c.push_path) || is(c.pull_path) || is(c.ping_path) ||
                              (c.shape_api && (path == "/v1/shape" || path == "/v1/shape/"))))
    return Route::kPreflight;
  if (is(c.push_path) && method == "POST") return Route::kPush;
  if (is(c.pull_path) && method == "GET") return Route::kPull;
  if (is(c.ping_path) && method == "HEAD") return Route::kPing;
  if (is(c.endpoint)) {
    if (method == "GET") return Route::kPull;
    if (method == "POST") return Route::kPush;
    if (method == "HEAD") return Route::kPing;
    return Route::kBadMethod;
  }
  if (c.shape_api && (path == "/v1/shape" || path == "/v1/shape/"))
    return method == "GET" || method == "HEAD" ? Route::kShape : Route::kBadMethod;
  if (path == "/healthz") return method == "GET" || method == "HEAD" ? Route::kHealth : Route::kBadMethod;
  if (path == "/metrics") return method == "GET" ? Route::kMetrics : Route::kBadMethod;
  if (is(c.push_path) || is(c.pull_path) || is(c.ping_path)) return Route::kBadMethod;
  return Route::kNotFound;
}

void Server::AddCors(Request& r, MHD_Response* resp) const {
  const char* origin = MHD_lookup_connection_value(r.conn, MHD_HEADER_KIND, "Origin");
  MHD_add_response_header(resp, "Vary", "Origin");
  if (origin == nullptr) return;
  if (!config_.cors_origins.empty()) {
    bool allowed = false;
    for (const std::string& o : config_.cors_origins) allowed = allowed || o == origin || o == "*";
    if (!allowed) return;
  }
  MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
  MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                          "electric-handle, electric-offset, electric-cursor, electric-schema, "
                          "electric-up-to-date, electric-has-data, retry-after");
  if (r.route == Route::kPreflight) {
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, HEAD, OPTIONS");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                            "content-type, b3, traceparent, authorization, if-none-match");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
  }
}

void Server::Complete(Request& r, MHD_Response* response) const {
  AddCors(r, response);
  // Only pull answers say what a shared cache may keep; everything else
  // (pushes, pings, errors, 401/403, metrics) must never be stored.
  if (MHD_get_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL) == nullptr)
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (closing_) MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
}

MHD_Result Server::Queue(Request& r, int status, MHD_Response* response) {
  Complete(r, response);
  MHD_Result ret = QueueComplete(r, status, response);
  MHD_destroy_response(response);
  return ret;
}

MHD_Result Server::QueueComplete(Request& r, int status, MHD_Response* response) {
  r.status = status;
  return MHD_queue_response(r.conn, static_cast<unsigned>(status), response);
}

namespace {
MHD_Response* WithHeaders(MHD_Response* resp, size_t body_size, const Headers& headers, const char* content_type) {
  if (resp == nullptr) return nullptr;
  if (content_type && body_size > 0) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  for (const auto& [k, v] : headers) MHD_add_response_header(resp, k.c_str(), v.c_str());
  return resp;
}
}  // namespace

MHD_Response* Server::Build(const std::string& body, const Headers& headers, const char* content_type) {
  return WithHeaders(
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY),
      body.size(), headers, content_type);
}

MHD_Result Server::Reply(Request& r, int status, const std::string& body, const Headers& headers,
                         const char* content_type) {
  MHD_Response* resp = Build(body, headers, content_type);
  if (resp == nullptr) return MHD_NO;
  return Queue(r, status, resp);
}

MHD_Response* Server::BuildParts(std::shared_ptr<const void> owner, std::initializer_list<std::string_view> parts,
                                 const Headers& headers, const char* content_type, size_t* bytes) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  if (size <= kCopyBodyBelow) {
    // A small body (a live answer: a few events, or none) is copied into one
    // buffer: libmicrohttpd then sends the headers and the body with one
    // sendmsg(), where a body from an iovec costs a send() of the headers and
    // a sendmsg() of the body (the copy costs far less than the system call).
    // The response takes the buffer as it is (no second copy).
    auto* body = new std::string;
    body->reserve(size);
    for (std::string_view part : parts) body->append(part);
    MHD_Response* resp = MHD_create_response_from_buffer_with_free_callback_cls(
        size, body->data(), [](void* cls) { delete static_cast<std::string*>(cls); }, body);
    if (resp == nullptr) {
      delete body;
      return nullptr;
    }
    if (bytes) *bytes = size;
    return WithHeaders(resp, size, headers, content_type);
  }
  std::vector<MHD_IoVec> iov;
  for (std::string_view part : parts)
    if (!part.empty()) iov.push_back({part.data(), part.size()});
  auto* held = new std::shared_ptr<const void>(std::move(owner));
  MHD_Response* resp = MHD_create_response_from_iovec(
      iov.data(), static_cast<unsigned>(iov.size()),
      [](void* cls) { delete static_cast<std::shared_ptr<const void>*>(cls); }, held);
  if (resp == nullptr) {
    delete held;
    return nullptr;
  }
  if (bytes) *bytes = size;
  return WithHeaders(resp, size, headers, content_type);
}

MHD_Result Server::ReplyError(Request& r, int status, const std::string& message, const Headers& headers) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return Reply(r, status, std::string(buf.GetString(), buf.GetSize()), headers);
}

MHD_Result Server::Dispatch(Request& r) {
  switch (r.route) {
    case Route::kPing: return HandlePing(*this, r);
    case Route::kPush: return HandlePush(*this, r);
    case Route::kPull: return HandlePull(*this, r);
    case Route::kShape: return HandleShape(*this, r);
    case Route::kHealth: return HandleHealth(*this, r);
    case Route::kMetrics: return HandleMetrics(*this, r);
    case Route::kPreflight: return Reply(r, 204, "");
    case Route::kBadMethod: return ReplyError(r, 405, "method not allowed on " + r.path);
    case Route::kNotFound: break;
  }
  return ReplyError(r, 404, "not found");
}

MHD_Result Server::OnAccess(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                            const char* upload, size_t* upload_size, void** req_cls) noexcept {
  Server* self = static_cast<Server*>(cls);
  Request* r = static_cast<Request*>(*req_cls);
  try {
    if (r == nullptr) {
      r = new Request;
      *req_cls = r;
      self->in_flight_++;
      self->last_request_ = Clock::now().time_since_epoch().count();
      r->server = self;
      r->conn = c;
      r->method = method;
      r->path = url;
      r->route = self->Classify(r->method, r->path);
      if (r->route == Route::kPush) {
        // An oversized body is read and dropped, so that the client gets
        // its 413 instead of a reset; only an absurd announced size is
        // refused before reading (the connection is then closed).
        const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && std::strtoull(cl, nullptr, 10) > std::max<size_t>(self->config_.max_body_bytes * 16, 64u << 20))
          return self->ReplyError(*r, 413, "body larger than " + std::to_string(self->config_.max_body_bytes) +
                                               " bytes");
      }
      return MHD_YES;
    }
    if (*upload_size != 0) {
      if (r->route == Route::kPush && !r->body_too_large) {
        if (r->body.size() + *upload_size > self->config_.max_body_bytes) {
          r->body_too_large = true;  // keep draining, answer 413 at the end
          r->body.clear();
        } else {
          r->body.append(upload, *upload_size);
        }
      }
      *upload_size = 0;
      return MHD_YES;
    }
    if (r->body_too_large)
      return self->ReplyError(*r, 413, "body larger than " + std::to_string(self->config_.max_body_bytes) +
                                           " bytes");
    return self->Dispatch(*r);
  } catch (const std::exception& e) {
    LogError("handler failed: %s", e.what());
  } catch (...) {
    LogError("handler failed with an unknown exception");
  }
  try {
    return r ? self->ReplyError(*r, 500, "internal error") : MHD_NO;
  } catch (...) {
    return MHD_NO;
  }
}

void Server::OnCompleted(void* cls, MHD_Connection*, void** req_cls, MHD_RequestTerminationCode toe) noexcept {
  Server* self = static_cast<Server*>(cls);
  Request* r = static_cast<Request*>(*req_cls);
  if (r == nullptr) return;
  try {
    double seconds = std::chrono::duration<double>(Clock::now() - r->start).count();
    int status = r->status ? r->status : 499;  // no response: the client went away
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && r->status == 0) status = 499;
    self->metrics_.Request(RouteName(r->route), status, seconds);
    if (self->config_.log_requests) LogRequest(r->method, r->path, RouteName(r->route), status, seconds, r->store_id);
  } catch (...) {
  }
  delete r;
  *req_cls = nullptr;
  self->in_flight_--;
}

// Percent-decoding of the path and query arguments, except %00: a NUL
// would cut the C string libmicrohttpd hands over (so "/api/electric%00x"
// would look like the endpoint); it is left encoded instead.
size_t Server::OnUnescape(void*, MHD_Connection*, char* s) noexcept {
  auto hex = [](char ch) {
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
  };
  char* out = s;
  for (char* in = s; *in;) {
    int hi, lo;
    if (in[0] == '%' && in[1] && in[2] && (hi = hex(in[1])) >= 0 && (lo = hex(in[2])) >= 0 && (hi | lo) != 0) {
      *out++ = static_cast<char>(hi * 16 + lo);
      in += 3;
    } else {
      *out++ = *in++;
    }
  }
  *out = '\0';
  return static_cast<size_t>(out - s);
}

void Server::OnLog(void*, const char* fmt, va_list ap) noexcept {
  char line[1024];
  std::vsnprintf(line, sizeof line, fmt, ap);
  LogError("microhttpd: %s", line);
}

// The listening socket passed by systemd (LISTEN_FDS), or -1.
static int ActivatedSocket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr || std::strtol(pid, nullptr, 10) != getpid() || std::atoi(fds) < 1) return -1;
  return 3;  // SD_LISTEN_FDS_START
}

bool Server::Start(std::string* error) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  std::string port = std::to_string(config_.listen_port);
  if (getaddrinfo(config_.listen_host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    *error = "cannot resolve listen address " + config_.listen_host;
    return false;
  }
  sockaddr_storage addr{};
  std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
  const socklen_t addr_len = res->ai_addrlen;
  bool v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);

  // systemd socket activation: the socket outlives restarts, so clients
  // reconnecting during one wait in its queue instead of being refused.
  const int activated = ActivatedSocket();
  socket_activated_ = activated >= 0;
  if (!acceptor_.Open(addr, addr_len, activated, error)) {
    *error = "cannot listen on " + config_.listen_host + ":" + port + ": " + *error;
    return false;
  }

  // JWT keys: the configured ones now (a bad file fails the start), a JWKS
  // URL in the background (pulls that need its keys are held meanwhile).
  if (!keys_->Load(error)) return false;
  PgSession::SetPooled(config_.database_pooled);
  if (!config_.authorize_function.empty()) {
    PgSession::SetAuthorizeSql(AuthorizeSql(config_.authorize_function));
    if (std::string problem = CheckAuthorizeFunction(config_.database_url, config_.authorize_function);
        !problem.empty()) {
      *error = problem;
      return false;
    }
  }
  if (upstream_ && !upstream_->Start(error)) return false;
  keys_->Start([this] { waiters_.Notify(kAuthWaitChannel, -1); });
  listener_ = std::thread([this] { ListenLoop(); });
  announcer_.Start();

  // Connections come from the acceptor (gw/acceptor.h), spread over the pool.
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                   MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | (v6 ? static_cast<unsigned>(MHD_USE_IPv6) : 0u);
  std::vector<MHD_OptionItem> options = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&OnLog), this},
      {MHD_OPTION_THREAD_POOL_SIZE, config_.threads, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, config_.max_connections, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, config_.idle_timeout_s, nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, config_.max_connections_per_ip, nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&OnCompleted), this},
      {MHD_OPTION_UNESCAPE_CALLBACK, reinterpret_cast<intptr_t>(&OnUnescape), this},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(config_.max_header_bytes), nullptr},
  };
  options.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_ = MHD_start_daemon(flags, static_cast<uint16_t>(config_.listen_port), nullptr, nullptr, &OnAccess, this,
                             MHD_OPTION_ARRAY, options.data(), MHD_OPTION_END);
  if (daemon_ == nullptr) {
    *error = "cannot start the HTTP server on " + config_.listen_host + ":" + port;
    acceptor_.Stop();
    stop_listener_ = true;
    listener_.join();
    announcer_.Stop();
    keys_->Stop();
    if (upstream_) upstream_->Stop();
    return false;
  }
  bound_port_ = acceptor_.port() != 0 ? acceptor_.port() : static_cast<uint16_t>(config_.listen_port);
  // Read-ahead of built-in pull pages (into the page cache: none without one).
  if (!upstream_ && config_.page_cache_mb > 0) prefetcher_.Start(config_.page_prefetch);
  acceptor_.Start(daemon_);
  return true;
}

void Server::Shutdown() {
  if (daemon_ == nullptr) return;
  closing_ = true;
  // Stop accepting and let go of the port at once: with SO_REUSEPORT the
  // kernel then routes new connections to the successor only (with systemd
  // the socket stays open in systemd). In-flight work goes on.
  acceptor_.Stop();
  waiters_.Close();  // held polls answer now: 200, same offset, Connection: close
  if (upstream_) upstream_->Close();                   // proxied polls likewise
  // Drain: requests still arriving on open keep-alive connections are served
  // (with Connection: close) until none came for --drain-seconds, so that
  // stopping the daemon does not cut a request a client just sent on an idle
  // connection (a dropped pull ends that client's sync). 30 s at most.
  const auto quiet = std::chrono::seconds(config_.drain_seconds);
  for (auto give_up = Clock::now() + std::chrono::seconds(30); Clock::now() < give_up;) {
    const auto since = Clock::now() - Clock::time_point(Clock::duration(last_request_.load()));
    if (in_flight_.load() == 0 && since >= quiet) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
  prefetcher_.Stop();
  stop_listener_ = true;
  if (listener_.joinable()) listener_.join();
  announcer_.Stop();
  keys_->Stop();
  if (upstream_) upstream_->Stop();
}

// The wake-up connection: wakes held polls of the tables that advanced, and
// runs their deadlines. With extension 0.3.0+ it waits in
// livestore.wait_changes() (no NOTIFY needed from writers), else it LISTENs.
// After any reconnect every waiter is woken, since changes made during the
// outage were not seen.
void Server::ListenLoop() {
  int backoff_ms = 100;
  while (!stop_listener_) {
    // A session of its own: LISTEN, or a wait that spans a statement.
    PGconn* conn = PQconnectdb(config_.listen_database_url.c_str());
    PgResult mode;
    if (PQstatus(conn) == CONNECTION_OK) {
      PgResult named(PQexec(conn, "SET application_name = 'livestore-gateway'"));
      mode.reset(PQexec(conn,
                        "SELECT pg_catalog.to_regprocedure('livestore.wait_changes(bigint,integer)') IS NOT NULL "
                        "AND pg_catalog.has_function_privilege('livestore.wait_changes(bigint,integer)', 'EXECUTE')"));
    }
    if (!mode || PQresultStatus(mode.get()) != PGRES_TUPLES_OK) {
      PQfinish(conn);
      for (int waited = 0; waited < backoff_ms && !stop_listener_; waited += 50) {
        waiters_.ExpireDue(Clock::now());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff_ms = std::min(backoff_ms * 2, 2000);
      continue;
    }
    backoff_ms = 100;
    const bool ring = std::strcmp(PQgetvalue(mode.get(), 0, 0), "t") == 0;
    mode.reset();
    if (ring) {
      FollowRing(conn);
    } else {
      ring_wake_ = false;
      FollowNotifies(conn);
    }
    PQfinish(conn);
  }
}

namespace {
// Waits for the socket to be readable while running the waiters' deadlines;
// false when the connection failed or the gateway stops.
bool AwaitInput(PGconn* conn, Waiters& waiters, const std::atomic<bool>& stop) {
  while (!stop) {
    auto now = Clock::now();
    auto next = waiters.ExpireDue(now);
    int timeout_ms = static_cast<int>(
        std::clamp<long>(std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1, 1, 200));
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    const int n = poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) return PQconsumeInput(conn) != 0;
  }
  return false;
}
}  // namespace

void Server::FollowRing(PGconn* conn) {
  // Where the ring is now; everything before was missed while disconnected.
  PgResult start(PQexec(conn, "SELECT position FROM livestore.wait_changes(NULL)"));
  if (PQresultStatus(start.get()) != PGRES_TUPLES_OK || PQntuples(start.get()) != 1) return;
  std::string since = PQgetvalue(start.get(), 0, 0);
  start.reset();
  ring_wake_ = true;
  waiters_.WakeAll();
  // Under a stream of commits every wait returns at once: without a pause
  // the loop would cost a round trip (three syscalls, a thread wake-up here
  // and a statement in Postgres) per commit anywhere in the database, a
  // third of this gateway's CPU per push. Waits start at most every
  // kRingSpacing, so a change arriving while idle still wakes at once (the
  // wait is already in flight) and one arriving within kRingSpacing of the
  // previous one comes with the next wait (this gateway's own pushes wake
  // its pulls directly, see routes/push.cpp).
  constexpr auto kRingSpacing = std::chrono::milliseconds(5);
  Clock::time_point last_sent{};
  while (!stop_listener_) {
    if (const auto due = last_sent + kRingSpacing, now = Clock::now(); now < due) {
      waiters_.ExpireDue(now);
      std::this_thread::sleep_until(due);
    }
    last_sent = Clock::now();
    const char* params[1] = {since.c_str()};
    // A second at most: the wait holds its statement's snapshot.
    if (!PQsendQueryParams(conn,
                           "SELECT position, table_name, head, missed FROM livestore.wait_changes($1::bigint, 1000)",
                           1, nullptr, params, nullptr, nullptr, 0))
      return;
    bool ok = true;
    while (ok && PQisBusy(conn)) ok = AwaitInput(conn, waiters_, stop_listener_);
    if (!ok) return;
    bool got = false;
    while (PGresult* raw = PQgetResult(conn)) {
      PgResult res(raw);
      if (PQresultStatus(raw) != PGRES_TUPLES_OK) continue;
      const int rows = PQntuples(raw);
      for (int i = 0; i + 1 < rows; ++i)
        waiters_.Notify(PQgetvalue(raw, i, 1), static_cast<int32_t>(std::atol(PQgetvalue(raw, i, 2))));
      if (rows > 0) {
        since = PQgetvalue(raw, rows - 1, 0);
        if (std::strcmp(PQgetvalue(raw, rows - 1, 3), "t") == 0) waiters_.WakeAll();
        got = true;
      }
    }
    if (!got) return;  // an error: reconnect
  }
}

void Server::FollowNotifies(PGconn* conn) {
  PgResult listen(PQexec(conn, "LISTEN livestore_events"));
  if (PQresultStatus(listen.get()) != PGRES_COMMAND_OK) return;
  waiters_.WakeAll();
  while (AwaitInput(conn, waiters_, stop_listener_)) {
    while (PGnotify* n = PQnotifies(conn)) {
      rapidjson::Document doc;
      doc.Parse(n->extra);
      if (!doc.HasParseError() && doc.IsObject()) {
        auto t = doc.FindMember("table");
        auto h = doc.FindMember("head");
        const int32_t head = h != doc.MemberEnd() && h->value.IsInt() ? h->value.GetInt() : -1;
        if (t != doc.MemberEnd() && t->value.IsString()) waiters_.Notify(t->value.GetString(), head);
      }
      PQfreemem(n);
    }
  }
}

}  // namespace gw
