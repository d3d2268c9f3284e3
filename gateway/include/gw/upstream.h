// Proxy mode: pulls go to Electric through one libcurl multi thread. The
// client's connection is suspended until Electric's whole answer is here (then
// it is sent with its length, at once) or, for a body longer than 64 KiB,
// until that much of it is: then the body is streamed back as it comes (the
// content reader suspends when it has nothing, and the transfer pauses when
// the client reads slowly).
//
// Ownership and threads. A ProxyTransfer is shared (shared_ptr) by the
// Request (until NOTIFY_COMPLETED), the streaming response (until MHD frees
// it) and, while an easy handle exists for it, the curl thread's active_ map;
// it is freed when the last of them lets go. Every curl call (easy and multi)
// is made on the curl thread only; the other threads set flags under t->mu and
// wake it. A client that goes away is seen two ways: MHD notices it (the
// connection was not suspended) and NOTIFY_COMPLETED calls Cancel; or, while
// the connection is suspended (MHD watches no suspended socket), the curl
// thread polls the client's socket next to its own and, on EOF or an error,
// marks the transfer client_gone, removes its easy handle at once and resumes
// the connection so that MHD closes it and frees the request.
#pragma once
#include <curl/curl.h>
#include <microhttpd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gw/positions.h"
#include "gw/seq_scan.h"
#include "gw/server.h"

namespace gw {

class Upstream;

struct ProxyTransfer {
  std::mutex mu;
  Upstream* owner = nullptr;
  MHD_Connection* conn = nullptr;
  // The client's socket, watched by the curl thread while conn is suspended
  // (and only then: MHD closes it only after a resume, or when it stops).
  int client_fd = -1;
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
  bool cancelled = false;        // the request was freed (NOTIFY_COMPLETED): never resume
  bool client_gone = false;      // seen closed while suspended: abort, resume once so MHD closes
  bool watch_client = true;      // false once the client sent bytes (pipelining): EOF undetectable
  bool paused = false;           // curl write paused: the client reads slowly
  bool response_started = false;
  // For the empty fallback answer and offset flagging.
  std::string client_handle, client_offset;  // offset without the flag
  // The client's position (offset.h, positions.h) and shape rotation: when
  // Electric answers 409 and the client's last seqNum is known, the 409 is
  // not passed on; the new shape is read from -1 page by page (buffered),
  // events the client has are dropped, and the first page with new events
  // (or the end of the log) is the answer, at the new handle and offset.
  std::string base_url;                // the shape URL without its position
  std::optional<int64_t> client_seq;   // the client's last seqNum, when known
  SeqScanner scan;                     // normal path: seqNums streaming through
  int rotations = 0;                   // 409s followed for this pull
  bool rotated = false;                // this answer was a 409 to follow
  bool recovering = false;             // reading the new shape (buffered)
  bool recovered = false;              // the answer was built from a filtered page
  std::string rotation_handle;         // the handle the 409 named ("" if none)
  std::string page;                    // recovery: the page being read

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
  // Easy handles in the multi handle right now (open upstream transfers).
  size_t open() const { return active_count_.load(); }
  Positions& positions() { return positions_; }

 private:
  void Loop();
  void Add(const std::shared_ptr<ProxyTransfer>& t);
  void Finish(CURL* easy, CURLcode result);
  // After curl_multi_poll: which watched clients closed their connection.
  void CheckClients(const std::vector<std::shared_ptr<ProxyTransfer>>& watched,
                    const std::vector<curl_waitfd>& fds);
  // Recovery after a 409: request `offset` of `handle` (buffered), later.
  void NextPage(const std::shared_ptr<ProxyTransfer>& t, const std::string& handle, const std::string& offset);
  // A whole recovery page arrived: answer with its new events, or go on.
  bool TakePage(const std::shared_ptr<ProxyTransfer>& t);
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
  Positions positions_;
};

}  // namespace gw
