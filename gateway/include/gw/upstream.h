// Proxy mode: pulls go to Electric through one libcurl multi thread. The
// client's connection is suspended until Electric's headers arrive, then the
// body is streamed back as it comes (the content reader suspends when it has
// nothing, and the transfer pauses when the client reads slowly).
#pragma once
#include <curl/curl.h>
#include <microhttpd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gw/server.h"

namespace gw {

class Upstream;

struct ProxyTransfer {
  std::mutex mu;
  Upstream* owner = nullptr;
  MHD_Connection* conn = nullptr;
  std::string url;
  Clock::time_point retry_until;  // connection failures are retried until then
  // Upstream response, filled by the curl thread.
  long status = 0;
  Headers headers;
  bool headers_done = false;
  bool unavailable = false;      // upstream answered 502/503/504: retry
  std::string buffer;
  size_t read_pos = 0;
  bool done = false;
  CURLcode result = CURLE_OK;
  // Coordination with the client connection.
  bool suspended = false;        // conn is suspended waiting for us
  bool cancelled = false;        // the client connection is gone
  bool paused = false;           // curl write paused: the client reads slowly
  bool response_started = false;
  // For the empty fallback answer and offset flagging.
  std::string client_handle, client_offset;  // offset without the flag

  void ResumeLocked() {
    if (suspended && !cancelled) {
      suspended = false;
      MHD_resume_connection(conn);
    }
  }
};

class Upstream {
 public:
  explicit Upstream(Server* server) : server_(server) {}
  ~Upstream();
  bool Start(std::string* error);
  void Submit(const std::shared_ptr<ProxyTransfer>& t);
  void Cancel(const std::shared_ptr<ProxyTransfer>& t);
  void Wake() { if (multi_) curl_multi_wakeup(multi_); }
  // Shutdown: transfers still waiting for headers (held polls) end now and
  // their clients get the empty same-offset answer.
  void Close();
  void Stop();
  size_t waiting();

 private:
  void Loop();
  void Add(const std::shared_ptr<ProxyTransfer>& t);
  void Finish(CURL* easy, CURLcode result);
  static size_t OnHeader(char* data, size_t size, size_t n, void* cls);
  static size_t OnBody(char* data, size_t size, size_t n, void* cls);

  Server* server_;
  CURLM* multi_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false}, closing_{false};
  std::mutex mu_;  // guards incoming_, retries_
  std::vector<std::shared_ptr<ProxyTransfer>> incoming_;
  std::vector<std::pair<Clock::time_point, std::shared_ptr<ProxyTransfer>>> retries_;
  std::map<CURL*, std::shared_ptr<ProxyTransfer>> active_;  // curl thread only
  std::atomic<size_t> active_count_{0};
};

}  // namespace gw
