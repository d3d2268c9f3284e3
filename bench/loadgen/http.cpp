#include "http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace lg {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Url ParseUrl(const std::string& s) {
  Url u;
  std::string rest = s;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else throw std::invalid_argument("only http:// URLs: " + s);
  size_t slash = rest.find('/');
  std::string hostport = slash == std::string::npos ? rest : rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = std::stoi(hostport.substr(colon + 1));
  } else {
    u.host = hostport;
  }
  if (u.host == "localhost") u.host = "127.0.0.1";
  return u;
}

std::string EncodeURIComponent(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::strchr("-_.!~*'()", c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ---- Loop -------------------------------------------------------------------

Loop::Loop() : ep_(epoll_create1(EPOLL_CLOEXEC)) {
  if (ep_ < 0) throw std::runtime_error("epoll_create1 failed");
}
Loop::~Loop() { close(ep_); }

void Loop::Add(int fd, uint32_t events, Handler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw std::runtime_error(std::string("epoll add: ") + strerror(errno));
}
void Loop::Mod(int fd, uint32_t events, Handler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
}
void Loop::Del(int fd) { epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }

bool Loop::Step(int64_t deadline_us) {
  int64_t now = NowUs();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fn();
    if (stop_) return false;
  }
  if (now >= deadline_us) return false;
  int64_t next = deadline_us;
  if (!timers_.empty()) next = std::min(next, timers_.begin()->first);
  int timeout_ms = static_cast<int>(std::max<int64_t>(0, (next - now + 999) / 1000));
  if (timeout_ms > 100) timeout_ms = 100;
  epoll_event evs[256];
  int n = epoll_wait(ep_, evs, 256, timeout_ms);
  for (int i = 0; i < n; ++i) static_cast<Handler*>(evs[i].data.ptr)->OnEvent(evs[i].events);
  return !stop_;
}

void Loop::Run(int64_t deadline_us) {
  stop_ = false;
  while (Step(deadline_us)) {
  }
}

bool Loop::RunUntil(const std::function<bool()>& pred, int64_t deadline_us) {
  stop_ = false;
  while (!pred() && Step(deadline_us)) {
  }
  return pred();
}

// ---- HttpResult / HttpConn ------------------------------------------------

const std::string* HttpResult::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return &v;
  return nullptr;
}

size_t HttpConn::open_count = 0;

HttpConn::HttpConn(Loop& loop, const Url& url) : loop_(loop) {
  addr_.sin_family = AF_INET;
  addr_.sin_port = htons(static_cast<uint16_t>(url.port));
  if (inet_pton(AF_INET, url.host.c_str(), &addr_.sin_addr) != 1)
    throw std::invalid_argument("host must be an IPv4 address: " + url.host);
}

HttpConn::~HttpConn() {
  if (fd_ >= 0) {
    loop_.Del(fd_);
    close(fd_);
    --open_count;
  }
}

void HttpConn::Close() {
  if (fd_ >= 0) {
    loop_.Del(fd_);
    close(fd_);
    fd_ = -1;
    --open_count;
  }
  connecting_ = false;
}

bool HttpConn::Open() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  ++open_count;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = connect(fd_, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_);
  if (rc != 0 && errno != EINPROGRESS) {
    close(fd_);
    fd_ = -1;
    --open_count;
    return false;
  }
  connecting_ = rc != 0;
  reused_ = false;
  watched_ = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  loop_.Add(fd_, watched_, this);
  return true;
}

void HttpConn::ResetParse() {
  in_.clear();
  pos_ = 0;
  head_done_ = chunked_ = until_close_ = server_close_ = false;
  cstate_ = 0;
  content_length_ = chunk_left_ = -1;
  got_bytes_ = false;
  res_ = HttpResult{};
}

void HttpConn::Send(std::string request, bool head, Callback cb) {
  busy_ = true;
  head_ = head;
  cb_ = std::move(cb);
  out_ = std::move(request);
  out_off_ = 0;
  resends_ = 0;
  ResetParse();
  res_.start_us = NowUs();
  StartWrite();
}

void HttpConn::StartWrite() {
  if (fd_ < 0) {
    if (!Open()) return Fail(std::string("connect: ") + strerror(errno));
  } else {
    reused_ = true;
  }
  if (!connecting_) Flush();
}

void HttpConn::Flush() {
  while (out_off_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
    if (n > 0) {
      out_off_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Watch(EPOLLIN | EPOLLOUT | EPOLLRDHUP);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    // A kept-alive connection the server closed meanwhile: once more, fresh.
    if (reused_ && !got_bytes_ && resends_ == 0) {
      ++resends_;
      Close();
      out_off_ = 0;
      return StartWrite();
    }
    return Fail(std::string("send: ") + strerror(errno));
  }
  Watch(EPOLLIN | EPOLLRDHUP);
}

// epoll_ctl only when the events change: not once per request.
void HttpConn::Watch(uint32_t events) {
  if (events == watched_) return;
  loop_.Mod(fd_, events, this);
  watched_ = events;
}

void HttpConn::OnEvent(uint32_t events) {
  if (fd_ < 0) return;
  if (connecting_) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return Fail(std::string("connect: ") + strerror(err));
      connecting_ = false;
      if (busy_) Flush();
      else Watch(EPOLLIN | EPOLLRDHUP);
    }
    return;
  }
  if ((events & EPOLLOUT) && busy_ && out_off_ < out_.size()) Flush();
  if (fd_ >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) ReadAll();
}

void HttpConn::ReadAll() {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      if (busy_) {  // else stray bytes on an idle connection: dropped
        got_bytes_ = true;
        in_.append(buf, static_cast<size_t>(n));
      }
      // A short read took all there was: epoll (level-triggered) reports
      // the socket again if more comes, so no second recv() to see EAGAIN
      // (one system call less per response, on cores the load generator
      // shares with the servers it measures).
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // EOF or error
    if (!busy_) {
      Close();
      return;
    }
    if (head_done_ && until_close_) {
      res_.body.append(in_, pos_, std::string::npos);
      Close();
      return Finish();
    }
    if (Parse()) {
      Close();
      return Finish();
    }
    if (reused_ && !got_bytes_ && resends_ == 0) {
      ++resends_;
      Close();
      out_off_ = 0;
      return StartWrite();
    }
    return Fail(n == 0 ? "connection closed by the server" : std::string("recv: ") + strerror(errno));
  }
  if (busy_ && Parse()) {
    if (server_close_) Close();
    Finish();
  }
}

bool HttpConn::Parse() {
  if (!head_done_) {
    size_t e = in_.find("\r\n\r\n");
    if (e == std::string::npos) return false;
    // status line
    size_t eol = in_.find("\r\n");
    std::string status_line = in_.substr(0, eol);
    size_t sp = status_line.find(' ');
    res_.status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
    if (status_line.find("HTTP/1.0") == 0) server_close_ = true;
    size_t p = eol + 2;
    while (p < e) {
      size_t le = in_.find("\r\n", p);
      std::string line = in_.substr(p, le - p);
      p = le + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t vs = line.find_first_not_of(" \t", colon + 1);
      std::string value = vs == std::string::npos ? "" : line.substr(vs);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      if (name == "content-length") content_length_ = std::atol(value.c_str());
      else if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked_ = true;
      else if (name == "connection" && (value == "close" || value == "Close")) server_close_ = true;
      res_.headers.emplace_back(std::move(name), std::move(value));
    }
    pos_ = e + 4;
    head_done_ = true;
    if (res_.status >= 100 && res_.status < 200) {  // interim: start over
      in_.erase(0, pos_);
      pos_ = 0;
      head_done_ = false;
      res_.headers.clear();
      content_length_ = -1;
      chunked_ = false;
      return Parse();
    }
    if (head_ || res_.status == 204 || res_.status == 304) return true;
    if (!chunked_ && content_length_ < 0) until_close_ = true;
  }
  if (until_close_) return false;
  if (!chunked_) {
    if (in_.size() - pos_ < static_cast<size_t>(content_length_)) return false;
    res_.body.assign(in_, pos_, static_cast<size_t>(content_length_));
    return true;
  }
  // Chunked: 0 size line, 1 data, 2 CRLF after data, 3 trailers.
  for (;;) {
    switch (cstate_) {
      case 0: {
        size_t le = in_.find("\r\n", pos_);
        if (le == std::string::npos) return false;
        long size = std::strtol(in_.c_str() + pos_, nullptr, 16);
        pos_ = le + 2;
        if (size <= 0) {
          cstate_ = 3;
        } else {
          chunk_left_ = size;
          cstate_ = 1;
        }
        break;
      }
      case 1: {
        size_t take = std::min(in_.size() - pos_, static_cast<size_t>(chunk_left_));
        res_.body.append(in_, pos_, take);
        pos_ += take;
        chunk_left_ -= static_cast<long>(take);
        if (chunk_left_ > 0) {
          in_.erase(0, pos_);
          pos_ = 0;
          return false;
        }
        cstate_ = 2;
        break;
      }
      case 2:
        if (in_.size() - pos_ < 2) return false;
        pos_ += 2;
        cstate_ = 0;
        break;
      default:
        if (in_.size() - pos_ >= 2 && in_.compare(pos_, 2, "\r\n") == 0) return true;
        return in_.find("\r\n\r\n", pos_) != std::string::npos;
    }
  }
}

void HttpConn::Finish() {
  busy_ = false;
  res_.end_us = NowUs();
  Callback cb = std::move(cb_);
  HttpResult res = std::move(res_);
  res_ = HttpResult{};
  if (cb) cb(res);
}

void HttpConn::Fail(const std::string& why) {
  Close();
  busy_ = false;
  res_.status = 0;
  res_.err = why;
  Finish();
}

std::string BuildRequest(const char* method, const Url& url, const std::string& path, const std::string& body,
                         const char* content_type) {
  std::string r;
  r.reserve(path.size() + body.size() + 160);
  r += method;
  r += ' ';
  r += path;
  r += " HTTP/1.1\r\nHost: ";
  r += url.host;
  r += ':';
  r += std::to_string(url.port);
  r += "\r\nAccept: */*\r\n";
  if (content_type) {
    r += "Content-Type: ";
    r += content_type;
    r += "\r\n";
  }
  if (!body.empty() || std::strcmp(method, "POST") == 0) {
    r += "Content-Length: ";
    r += std::to_string(body.size());
    r += "\r\n";
  }
  r += "\r\n";
  r += body;
  return r;
}

// ---- TinyServer ---------------------------------------------------------------

class TinyConn : public Handler {
 public:
  TinyConn(Loop& loop, TinyServer& srv, int fd) : loop_(loop), srv_(srv), fd_(fd) {
    loop_.Add(fd_, EPOLLIN | EPOLLRDHUP, this);
  }
  void OnEvent(uint32_t events) override {
    if (events & EPOLLOUT) {
      if (!Flush()) return Die();
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      char buf[65536];
      for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
          in_.append(buf, static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return Die();
      }
      // Answer every complete request in the buffer (no pipelining expected).
      for (;;) {
        size_t e = in_.find("\r\n\r\n");
        if (e == std::string::npos) break;
        long cl = 0;
        bool head = in_.compare(0, 5, "HEAD ") == 0;
        size_t p = in_.find("\r\n") + 2;
        while (p < e) {
          size_t le = in_.find("\r\n", p);
          if (le - p > 15 && strncasecmp(in_.c_str() + p, "content-length:", 15) == 0)
            cl = std::atol(in_.c_str() + p + 15);
          p = le + 2;
        }
        if (in_.size() < e + 4 + static_cast<size_t>(cl)) break;
        in_.erase(0, e + 4 + static_cast<size_t>(cl));
        srv_.requests++;
        static const char kBody[] = "{\"success\":true,\"head\":1}";
        out_ += "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ";
        out_ += std::to_string(sizeof kBody - 1);
        out_ += "\r\n\r\n";
        if (!head) out_ += kBody;
      }
      if (!Flush()) return Die();
    }
  }

 private:
  Loop& loop_;
  TinyServer& srv_;
  int fd_;
  std::string in_, out_;
  bool Flush() {
    size_t off = 0;
    while (off < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        out_.erase(0, off);
        loop_.Mod(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
        return true;
      }
      return false;
    }
    out_.clear();
    loop_.Mod(fd_, EPOLLIN | EPOLLRDHUP, this);
    return true;
  }
  void Die() {
    loop_.Del(fd_);
    close(fd_);
    delete this;
  }
};

TinyServer::TinyServer(Loop& loop, const std::string& host, int port) : loop_(loop) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 4096) != 0)
    throw std::runtime_error(std::string("tiny server: cannot listen: ") + strerror(errno));
  socklen_t len = sizeof a;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  loop_.Add(fd_, EPOLLIN, this);
}

TinyServer::~TinyServer() {
  loop_.Del(fd_);
  close(fd_);
}

void TinyServer::OnEvent(uint32_t) {
  for (;;) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    new TinyConn(loop_, *this, c);
  }
}

}  // namespace lg
