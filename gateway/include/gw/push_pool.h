// The threads that run pushes' appends, each with its own database
// connection (--push-connections). The HTTP threads only read, check and
// answer pushes: libmicrohttpd hands each of its threads whole connections
// (up to ten at one accept), so an append run on the HTTP thread made every
// other connection of that thread wait for its commit. Here any free worker
// takes the next push, so as many appends commit together as there are
// pushes in flight, up to the pool's size.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gw {

// The answer a worker prepared for a suspended push request.
struct PushOutcome {
  int status = 500;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class PushPool {
 public:
  ~PushPool() { Stop(); }
  // `size` threads, each running `init` first (the gateway opens the
  // thread's database connection there, so that a burst of pushes does not
  // wait for Postgres to start backends).
  void Start(int size, std::function<void()> init = nullptr);
  // Runs `job` on a worker; false (job not taken) once Stop() began.
  bool Submit(std::function<void()> job);
  // Runs every job already submitted, then ends the threads.
  void Stop();

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    std::function<void()> job;
  };
  void Run(Worker* w, const std::function<void()>& init);

  std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> idle_;  // the most recently idle last: its connection is the warmest
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
};

}  // namespace gw
