// The HTTP daemon: libmicrohttpd thread pool + epoll, suspend/resume for
// anything that waits. Owns the per-request state (freed only in the
// completed callback) and dispatches to one route handler per file.
#pragma once
#include <microhttpd.h>

#include <atomic>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gw/acceptor.h"
#include "gw/announcer.h"
#include "gw/authz.h"
#include "gw/config.h"
#include "gw/key_store.h"
#include "gw/metrics.h"
#include "gw/page_prefetch.h"
#include "gw/pg.h"
#include "gw/rate_limit.h"
#include "gw/waiters.h"

namespace gw {

class Upstream;
struct ProxyTransfer;
struct PullState;

enum class Route { kPing, kPush, kPull, kShape, kHealth, kMetrics, kPreflight, kNotFound, kBadMethod };
const char* RouteName(Route r);

class Server;

struct Request {
  Server* server = nullptr;
  MHD_Connection* conn = nullptr;
  std::string method, path;
  Route route = Route::kNotFound;
  std::string body;
  bool body_too_large = false;
  Clock::time_point start = Clock::now();
  int status = 0;
  std::string store_id;  // for the log line
  std::unique_ptr<PullState> pull;             // built-in pull in progress
  std::shared_ptr<ProxyTransfer> proxy;        // upstream pull in progress
  Waiter auth_wait;  // a pull held until keys or the authorization function answer (auth.h)
  ~Request();
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Server {
 public:
  explicit Server(Config config);
  ~Server();
  bool Start(std::string* error);
  // Graceful: stop accepting, answer held polls, finish in-flight work.
  void Shutdown();

  const Config& config() const { return config_; }
  Metrics& metrics() { return metrics_; }
  Waiters& waiters() { return waiters_; }
  Announcer& announcer() { return announcer_; }
  // True while live pulls are woken through livestore.wait_changes()
  // (extension 0.3.0+): every committed write is seen there, so pushes need
  // no announcement for other gateways.
  bool ring_wake() const { return ring_wake_; }
  Upstream* upstream() { return upstream_.get(); }
  PagePrefetcher& prefetcher() { return prefetcher_; }
  KeyStore& keys() { return *keys_; }
  DecisionCache& decisions() { return *decisions_; }
  PgSession& db() { return PgSession::ForThread(config_.database_url); }
  bool closing() const { return closing_.load(); }
  RateLimiter& push_store_limit() { return push_store_limit_; }
  RateLimiter& push_ip_limit() { return push_ip_limit_; }
  RateLimiter& pull_ip_limit() { return pull_ip_limit_; }
  static std::string ClientAddress(MHD_Connection* c);
  uint16_t port() const { return bound_port_; }
  bool socket_activated() const { return socket_activated_; }

  // Queue a response with CORS headers; records the status for the log.
  MHD_Result Reply(Request& r, int status, const std::string& body, const Headers& headers = {},
                   const char* content_type = "application/json");
  MHD_Result ReplyError(Request& r, int status, const std::string& message, const Headers& headers = {});
  MHD_Result Queue(Request& r, int status, MHD_Response* response);
  // The same in steps, for an answer queued on many connections (gw/answer_cache.h):
  // a response with the headers given; the headers every answer to r gets
  // (CORS for r's Origin, cache-control, Connection while closing); queued
  // as it is, keeping the caller's reference.
  static MHD_Response* Build(const std::string& body, const Headers& headers, const char* content_type);
  // A response whose body is the concatenation of `parts`, sent from where
  // they are (no copy): `owner` keeps them alive until the response is gone
  // (`bytes`: the body's size). A body of at most kCopyBodyBelow bytes is
  // copied instead (headers and body then leave in one system call).
  static constexpr size_t kCopyBodyBelow = 16 * 1024;
  static MHD_Response* BuildParts(std::shared_ptr<const void> owner, std::initializer_list<std::string_view> parts,
                                  const Headers& headers, const char* content_type, size_t* bytes = nullptr);
  void Complete(Request& r, MHD_Response* response) const;
  MHD_Result QueueComplete(Request& r, int status, MHD_Response* response);

 private:
  static MHD_Result OnAccess(void* cls, MHD_Connection* c, const char* url, const char* method,
                             const char* version, const char* upload, size_t* upload_size,
                             void** req_cls) noexcept;
  static void OnCompleted(void* cls, MHD_Connection* c, void** req_cls,
                          MHD_RequestTerminationCode toe) noexcept;
  static void OnLog(void* cls, const char* fmt, va_list ap) noexcept;
  static size_t OnUnescape(void* cls, MHD_Connection* c, char* s) noexcept;
  MHD_Result Dispatch(Request& r);
  Route Classify(const std::string& method, const std::string& path) const;
  void AddCors(Request& r, MHD_Response* resp) const;
  void ListenLoop();
  void FollowRing(PGconn* conn);
  void FollowNotifies(PGconn* conn);

  Config config_;
  Metrics metrics_;
  Waiters waiters_;
  Announcer announcer_;
  std::unique_ptr<Upstream> upstream_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<DecisionCache> decisions_;
  PagePrefetcher prefetcher_{this};
  RateLimiter push_store_limit_, push_ip_limit_, pull_ip_limit_;
  Acceptor acceptor_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t bound_port_ = 0;
  bool socket_activated_ = false;
  std::atomic<bool> closing_{false};
  std::atomic<bool> stop_listener_{false};
  std::atomic<bool> ring_wake_{false};
  std::atomic<long> in_flight_{0};
  std::atomic<Clock::rep> last_request_{0};
  std::thread listener_;
};

}  // namespace gw
