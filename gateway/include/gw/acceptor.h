// The gateway's own accept loop. libmicrohttpd's thread pool lets whichever
// worker wakes first accept up to ten new connections in a row, so a burst of
// clients lands on a few workers (each serving its connections one request
// at a time) while others idle. The acceptor takes every connection on one
// thread and hands it to the daemon with MHD_add_connection, which spreads
// them over the pool (by socket number).
#pragma once

#include <microhttpd.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace gw {

class Acceptor {
 public:
  Acceptor() = default;
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  ~Acceptor() { Stop(); }

  // Listens on addr (SO_REUSEADDR and SO_REUSEPORT: a new gateway can bind the
  // port before the old one stops), or adopts a listening socket passed by
  // systemd (activated_fd >= 0).
  bool Open(const sockaddr_storage& addr, socklen_t len, int activated_fd, std::string* error);
  uint16_t port() const { return port_; }
  // Starts handing accepted connections to daemon (started with
  // MHD_USE_NO_LISTEN_SOCKET).
  void Start(MHD_Daemon* daemon);
  // Stops accepting and closes the listening socket: the kernel then routes
  // new connections to a successor bound to the same port.
  void Stop();

 private:
  void Loop();
  int fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Stop() ends the loop
  uint16_t port_ = 0;
  MHD_Daemon* daemon_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gw
