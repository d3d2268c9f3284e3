// Minimal single-threaded epoll event loop, HTTP/1.1 keep-alive client
// connection and a trivial responder, for the benchmark load generator.
// Nothing here allocates per event beyond the request/response strings.
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lg {

int64_t NowUs();

struct Url {
  std::string host = "127.0.0.1";
  int port = 80;
  std::string path = "/";  // with the query, if any
  std::string origin() const { return "http://" + host + ":" + std::to_string(port); }
};
Url ParseUrl(const std::string& s);  // http://host:port/path?query (host must be an IPv4 literal or localhost)
std::string EncodeURIComponent(const std::string& s);

struct Handler {
  virtual ~Handler() = default;
  virtual void OnEvent(uint32_t events) = 0;
};

class Loop {
 public:
  Loop();
  ~Loop();
  int fd() const { return ep_; }
  void Add(int fd, uint32_t events, Handler* h);
  void Mod(int fd, uint32_t events, Handler* h);
  void Del(int fd);
  void At(int64_t t_us, std::function<void()> fn) { timers_.emplace(t_us, std::move(fn)); }
  void After(int64_t d_us, std::function<void()> fn) { At(NowUs() + d_us, std::move(fn)); }
  // Runs until Stop() or the absolute deadline (microseconds, NowUs clock).
  void Run(int64_t deadline_us);
  // Runs until pred() is true, Stop(), or the deadline; returns pred().
  bool RunUntil(const std::function<bool()>& pred, int64_t deadline_us);
  void Stop() { stop_ = true; }

 private:
  int ep_;
  bool stop_ = false;
  std::multimap<int64_t, std::function<void()>> timers_;
  bool Step(int64_t deadline_us);
};

struct HttpResult {
  int status = 0;        // 0: transport error (see err)
  std::string err;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  int64_t start_us = 0, end_us = 0;
  const std::string* Header(const std::string& lower_name) const;
};

// One client connection: one request at a time, kept alive between requests,
// reconnected transparently when the server closed it meanwhile.
class HttpConn : public Handler {
 public:
  using Callback = std::function<void(HttpResult&)>;
  HttpConn(Loop& loop, const Url& url);
  ~HttpConn() override;
  // request: the full request text; head: the answer has no body (HEAD).
  void Send(std::string request, bool head, Callback cb);
  bool busy() const { return busy_; }
  bool written() const { return busy_ && out_off_ == out_.size() && !connecting_; }
  void Close();
  void OnEvent(uint32_t events) override;
  static size_t open_count;

 private:
  Loop& loop_;
  sockaddr_in addr_{};
  int fd_ = -1;
  uint32_t watched_ = 0;  // the events epoll has for fd_
  bool connecting_ = false, busy_ = false, head_ = false, reused_ = false, got_bytes_ = false;
  int resends_ = 0;
  std::string out_;
  size_t out_off_ = 0;
  std::string in_;
  size_t pos_ = 0;
  // response parse state
  bool head_done_ = false, chunked_ = false, until_close_ = false, server_close_ = false;
  int cstate_ = 0;
  long content_length_ = -1, chunk_left_ = -1;
  HttpResult res_;
  Callback cb_;

  bool Open();
  void StartWrite();
  void Flush();
  void Watch(uint32_t events);
  void ReadAll();
  bool Parse();  // true when the response is complete
  void Finish();
  void Fail(const std::string& why);
  void ResetParse();
};

std::string BuildRequest(const char* method, const Url& url, const std::string& path,
                         const std::string& body = "", const char* content_type = nullptr);

// A trivial HTTP/1.1 responder: every request gets 200 and a tiny JSON body
// (headers only for HEAD). Used to measure the load generator's own ceiling.
class TinyServer : public Handler {
 public:
  TinyServer(Loop& loop, const std::string& host, int port);
  ~TinyServer() override;
  int port() const { return port_; }
  void OnEvent(uint32_t events) override;
  uint64_t requests = 0;

 private:
  Loop& loop_;
  int fd_ = -1, port_ = 0;
  std::vector<std::unique_ptr<Handler>> conns_;
  friend class TinyConn;
};

}  // namespace lg
