#include "gw/upstream.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "gw/electric_url.h"
#include "gw/log.h"
#include "gw/offset.h"
#include "gw/shape_page.h"

namespace gw {
namespace {

constexpr size_t kMaxBuffered = 1u << 20;  // pause upstream beyond this
// The client waits for the whole answer up to this much of its body, and is
// answered at once with it (its length known: headers and a small body leave
// in one send); a longer body is streamed from here on.
constexpr size_t kStreamFrom = 64u << 10;
constexpr auto kRetryDelay = std::chrono::milliseconds(500);
constexpr int kMaxRotations = 8;             // 409s followed for one pull
constexpr size_t kMaxPage = 256u << 20;      // a recovery page larger than this is given up

std::string HeaderValue(const Headers& headers, const char* name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return {};
}

bool Transient(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT ||
         rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_PARTIAL_FILE;
}

}  // namespace

Upstream::~Upstream() { Stop(); }

bool Upstream::Start(std::string* error) {
  multi_ = curl_multi_init();
  if (multi_ == nullptr) {
    *error = "curl_multi_init failed";
    return false;
  }
  thread_ = std::thread([this] { Loop(); });
  return true;
}

void Upstream::Submit(const std::shared_ptr<ProxyTransfer>& t) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming_.push_back(t);
  }
  Wake();
}

void Upstream::Cancel(const std::shared_ptr<ProxyTransfer>& t) {
  {
    std::lock_guard<std::mutex> lock(t->mu);
    t->cancelled = true;
  }
  Wake();
}

void Upstream::Close() {
  closing_ = true;
  Wake();
}

void Upstream::Stop() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  for (auto& [easy, t] : active_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
  }
  active_.clear();
  if (multi_) curl_multi_cleanup(multi_);
  multi_ = nullptr;
}

size_t Upstream::waiting() { return active_count_.load(); }

size_t Upstream::OnHeader(char* data, size_t size, size_t n, void* cls) {
  auto* t = static_cast<ProxyTransfer*>(cls);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  std::lock_guard<std::mutex> lock(t->mu);
  if (t->cancelled) return 0;
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a 1xx, too)
    t->headers.clear();
    size_t sp = line.find(' ');
    t->status = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
  } else if (line.empty()) {
    if (t->status == 502 || t->status == 503 || t->status == 504) {
      // Electric (or what is in front of it) is unavailable for now: like an
      // unreachable Electric, retried while the poll may wait, never passed
      // on (a 5xx pull ends the stock client's sync for its session).
      t->unavailable = true;
      return 0;  // abort this transfer
    }
    if (t->status == 409 && t->client_seq) {
      // The shape was rotated: followed on the client's behalf (Finish).
      // Rotating on and on is a fault for now: retried like a 503, then the
      // empty answer at the client's position, never the 409.
      t->rotation_handle = HeaderValue(t->headers, "electric-handle");
      if (t->rotations < kMaxRotations) t->rotated = true;
      else t->unavailable = true;
      return 0;  // abort this transfer
    }
    if (t->status >= 200 && !t->recovering) {
      // The client is resumed when the body is all here (Finish) or long
      // enough to stream (OnBody), not now: resumed at the headers, it ran
      // once for them and once more for the end of the body (two wake-ups
      // of its thread, and a chunked answer sent in two pieces).
      t->headers_done = true;
    }
  } else if (size_t colon = line.find(':'); colon != std::string::npos) {
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    value.erase(0, value.find_first_not_of(" \t"));
    // Electric sends it empty; libmicrohttpd drops empty values (shape_log.cpp).
    if (value.empty() && name == "electric-up-to-date") value = "true";
    t->headers.emplace_back(std::move(name), std::move(value));
  }
  return size * n;
}

size_t Upstream::OnBody(char* data, size_t size, size_t n, void* cls) {
  auto* t = static_cast<ProxyTransfer*>(cls);
  std::lock_guard<std::mutex> lock(t->mu);
  if (t->cancelled) return 0;  // aborts the transfer
  if (t->recovering) {
    if (t->page.size() + size * n > kMaxPage) return 0;
    t->page.append(data, size * n);
    return size * n;
  }
  if (t->buffer.size() - t->read_pos > kMaxBuffered) {
    t->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  t->buffer.append(data, size * n);
  t->scan.Feed(std::string_view(data, size * n));
  if (t->response_started || t->buffer.size() - t->read_pos >= kStreamFrom) t->ResumeLocked();
  return size * n;
}

void Upstream::Add(const std::shared_ptr<ProxyTransfer>& t) {
  CURL* easy = curl_easy_init();
  const Config& c = server_->config();
  curl_easy_setopt(easy, CURLOPT_URL, t->url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, static_cast<long>(c.upstream_timeout_s));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Upstream::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Upstream::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
  t->owner = this;
  active_[easy] = t;
  active_count_ = active_.size();
  curl_multi_add_handle(multi_, easy);
}

void Upstream::Finish(CURL* easy, CURLcode result) {
  auto it = active_.find(easy);
  if (it == active_.end()) return;
  std::shared_ptr<ProxyTransfer> t = it->second;
  active_.erase(it);
  active_count_ = active_.size();
  curl_multi_remove_handle(multi_, easy);
  curl_easy_cleanup(easy);
  std::lock_guard<std::mutex> lock(t->mu);
  const bool gone = t->cancelled || t->client_gone || closing_;
  if (t->rotated && !gone) {
    t->rotated = false;
    ++t->rotations;
    t->recovering = true;
    server_->metrics().UpstreamRotation();
    LogInfo("upstream shape rotated (409, new handle '%s'): reading it for the client from seqNum %lld",
            t->rotation_handle.c_str(), static_cast<long long>(*t->client_seq));
    NextPage(t, t->rotation_handle, "-1");
    return;
  }
  if (t->recovering && result == CURLE_OK && !gone) {
    if (!TakePage(t)) return;  // the next page is on its way
  }
  if (result == CURLE_OK && !t->recovered && t->headers_done && t->status == 200) {
    // Where the client is after this page, for its next request (positions.h).
    std::optional<int64_t> seq = t->scan.last();
    if (t->client_seq && (!seq || *seq < *t->client_seq)) seq = t->client_seq;
    if (seq)
      positions_.Record(HeaderValue(t->headers, "electric-handle"), HeaderValue(t->headers, "electric-offset"), *seq);
  }
  if (result != CURLE_OK && !t->headers_done && !t->cancelled && !t->client_gone) {
    server_->metrics().UpstreamError();
    LogError("upstream %s: %s", t->url.c_str(), curl_easy_strerror(result));
    // Electric unreachable: try again while the client's poll may still wait.
    if ((Transient(result) || t->unavailable) && !closing_ && Clock::now() + kRetryDelay < t->retry_until) {
      t->status = 0;
      t->unavailable = false;
      t->headers.clear();
      t->page.clear();
      std::lock_guard<std::mutex> qlock(mu_);
      retries_.emplace_back(Clock::now() + kRetryDelay, t);
      return;
    }
  }
  t->done = true;
  t->result = result;
  t->ResumeLocked();
}

void Upstream::NextPage(const std::shared_ptr<ProxyTransfer>& t, const std::string& handle,
                        const std::string& offset) {  // t->mu held
  t->url = t->base_url + ShapePosition(!handle.empty(), handle, offset, false);
  t->status = 0;
  t->headers.clear();
  t->page.clear();
  server_->metrics().UpstreamRotationRequest();
  {
    std::lock_guard<std::mutex> qlock(mu_);
    retries_.emplace_back(Clock::now(), t);
  }
  Wake();  // taken on the loop's next turn, not after its poll timeout
}

bool Upstream::TakePage(const std::shared_ptr<ProxyTransfer>& t) {  // t->mu held
  const std::string handle = HeaderValue(t->headers, "electric-handle");
  const std::string offset = HeaderValue(t->headers, "electric-offset");
  if (t->status == 200 && !handle.empty() && !offset.empty()) {
    FilteredPage f = FilterShapePage(t->page, *t->client_seq);
    if (f.ok && f.kept == 0 && !f.up_to_date) {
      // Only events the client has: on to the next page of the new shape.
      NextPage(t, handle, offset);
      return false;
    }
    if (f.ok) {
      Headers out;
      for (const auto& [name, value] : t->headers)
        if (name == "content-type" || name == "electric-schema" || name == "electric-cursor") out.emplace_back(name, value);
      std::string next = FormatProxyOffset(offset, f.last_seq);
      out.emplace_back("electric-handle", handle);
      out.emplace_back("electric-offset", f.kept > 0 ? Flag(next) : next);
      out.emplace_back("electric-has-data", f.kept > 0 ? "true" : "false");
      if (f.up_to_date) out.emplace_back("electric-up-to-date", "true");  // see shape_log.cpp
      out.emplace_back("cache-control", "no-store");  // built for this client's position
      positions_.Record(handle, offset, f.last_seq);
      t->headers = std::move(out);
      t->buffer = std::move(f.body);
      t->read_pos = 0;
      t->recovering = false;
      t->recovered = true;
      t->headers_done = true;
      LogInfo("upstream shape rotation followed: handle '%s', offset %s, %zu new events",
              handle.c_str(), next.c_str(), f.kept);
      return true;
    }
  }
  // Anything else (an error status, a malformed page): the client gets the
  // empty answer at its own position and asks again (never an error).
  LogError("upstream shape rotation: unexpected answer %ld from %s", t->status, t->url.c_str());
  t->headers.clear();
  t->recovering = false;
  return true;
}

void Upstream::Loop() {
  while (!stop_) {
    std::vector<std::shared_ptr<ProxyTransfer>> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready.swap(incoming_);
      auto now = Clock::now();
      for (auto it = retries_.begin(); it != retries_.end();) {
        if (it->first <= now || closing_) {
          ready.push_back(it->second);
          it = retries_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& t : ready) {
      bool skip;
      {
        std::lock_guard<std::mutex> lock(t->mu);
        skip = t->cancelled || t->client_gone || closing_;
        if (skip) {
          t->done = true;
          t->result = CURLE_ABORTED_BY_CALLBACK;
          t->ResumeLocked();
        }
      }
      if (!skip) Add(t);
    }
    // Clients gone (freed request, or socket seen closed) end their transfer
    // now; shutdown answers held polls; drained buffers let paused transfers
    // go on. Suspended clients are watched for a disconnect.
    std::vector<CURL*> aborted, unpause;
    std::vector<std::shared_ptr<ProxyTransfer>> watched;
    std::vector<curl_waitfd> fds;
    auto watch = [&](const std::shared_ptr<ProxyTransfer>& t) {  // t->mu held
      if (t->suspended && !t->cancelled && !t->client_gone && t->watch_client && t->client_fd >= 0) {
        watched.push_back(t);
        fds.push_back(curl_waitfd{t->client_fd, CURL_WAIT_POLLIN, 0});
      }
    };
    for (auto& [easy, t] : active_) {
      std::lock_guard<std::mutex> lock(t->mu);
      if (t->cancelled || t->client_gone || (closing_ && !t->headers_done)) {
        aborted.push_back(easy);
        if (t->cancelled || t->client_gone) server_->metrics().UpstreamCancelled();
        continue;
      }
      if (t->paused && t->buffer.size() - t->read_pos <= kMaxBuffered / 2) {
        t->paused = false;
        unpause.push_back(easy);
      }
      watch(t);
    }
    for (CURL* easy : aborted) Finish(easy, CURLE_ABORTED_BY_CALLBACK);
    // Outside t->mu: unpausing may call OnBody right away.
    for (CURL* easy : unpause) curl_easy_pause(easy, CURLPAUSE_CONT);
    {
      // Polls waiting to retry an unreachable Electric hold their client too.
      std::vector<std::shared_ptr<ProxyTransfer>> later;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& entry : retries_) later.push_back(entry.second);
      }
      for (auto& t : later) {
        std::lock_guard<std::mutex> lock(t->mu);
        watch(t);
      }
    }

    int running = 0;
    curl_multi_perform(multi_, &running);
    while (CURLMsg* msg = curl_multi_info_read(multi_, &running))
      if (msg->msg == CURLMSG_DONE) Finish(msg->easy_handle, msg->data.result);
    curl_multi_poll(multi_, fds.data(), static_cast<unsigned>(fds.size()), 100, nullptr);
    CheckClients(watched, fds);
  }
}

void Upstream::CheckClients(const std::vector<std::shared_ptr<ProxyTransfer>>& watched,
                            const std::vector<curl_waitfd>& fds) {
  for (size_t i = 0; i < watched.size(); ++i) {
    if (fds[i].revents == 0) continue;
    ProxyTransfer* t = watched[i].get();
    std::lock_guard<std::mutex> lock(t->mu);
    // Resumed meanwhile: the socket is MHD's again (it may even be closed and
    // its number reused), so it is not touched.
    if (!t->suspended || t->cancelled || t->client_gone) continue;
    char byte;
    ssize_t n = recv(t->client_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) {
      t->watch_client = false;  // a pipelined request: left to MHD after the resume
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    // EOF or a reset: the client is gone. The next turn of the loop removes
    // the easy handle (closing the upstream connection); the resume lets MHD
    // close the connection and free the request (NOTIFY_COMPLETED).
    t->client_gone = true;
    t->ResumeLocked();
  }
}

}  // namespace gw
