#include "gw/push_pool.h"

namespace gw {

void PushPool::Start(int size, std::function<void()> init) {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  for (int i = 0; i < size; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    Worker* w = workers_.back().get();
    w->thread = std::thread([this, w, init] { Run(w, init); });
  }
}

bool PushPool::Submit(std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || workers_.empty()) return false;
  if (idle_.empty()) {
    queue_.push_back(std::move(job));
    return true;
  }
  Worker* w = idle_.back();
  idle_.pop_back();
  w->job = std::move(job);
  w->cv.notify_one();
  return true;
}

void PushPool::Run(Worker* w, const std::function<void()>& init) {
  if (init) init();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!w->job) {
      if (!queue_.empty()) {
        w->job = std::move(queue_.front());
        queue_.pop_front();
      } else if (stopping_) {
        return;
      } else {
        idle_.push_back(w);
        w->cv.wait(lock, [&] { return w->job || stopping_; });
        continue;
      }
    }
    std::function<void()> job = std::move(w->job);
    w->job = nullptr;
    lock.unlock();
    job();
    lock.lock();
  }
}

void PushPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (workers_.empty()) return;
    stopping_ = true;
    for (auto& w : workers_) w->cv.notify_one();
  }
  for (auto& w : workers_) w->thread.join();
  std::lock_guard<std::mutex> lock(mu_);
  workers_.clear();
  idle_.clear();
}

}  // namespace gw
