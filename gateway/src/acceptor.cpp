#include "gw/acceptor.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gw/log.h"

namespace gw {

bool Acceptor::Open(const sockaddr_storage& addr, socklen_t len, int activated_fd, std::string* error) {
  if (activated_fd >= 0) {
    fd_ = activated_fd;
  } else {
    fd_ = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      *error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (addr.ss_family == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0 || listen(fd_, SOMAXCONN) != 0) {
      *error = std::string("bind: ") + std::strerror(errno);
      close(fd_);
      fd_ = -1;
      return false;
    }
  }
  // Non-blocking: the loop takes what is queued, then polls again.
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &blen) == 0) {
    if (bound.ss_family == AF_INET) port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    if (bound.ss_family == AF_INET6) port_ = ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void Acceptor::Start(MHD_Daemon* daemon) {
  daemon_ = daemon;
  thread_ = std::thread([this] { Loop(); });
}

void Acceptor::Stop() {
  if (thread_.joinable()) {
    stop_ = true;
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  if (fd_ >= 0) close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  fd_ = wake_fd_ = -1;
}

void Acceptor::Loop() {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!stop_) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (stop_ || (fds[1].revents & POLLIN)) break;
    if (!(fds[0].revents & POLLIN)) continue;
    for (int i = 0; i < 64 && !stop_; ++i) {
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      const int c = accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: the connection waits in the backlog.
          LogError("accept: %s", std::strerror(errno));
          poll(&fds[1], 1, 100);
        }
        break;  // EAGAIN: all taken; ECONNABORTED etc.: next one
      }
      // Refused (connection limit, per-address limit): MHD closes it.
      (void)MHD_add_connection(daemon_, c, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }
}

}  // namespace gw
