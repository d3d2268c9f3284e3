// --threads: its default follows the CPUs this process may run on (4 per
// CPU, at least 8, at most 32); a value given wins, from the flag or the
// environment.
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gw/config.h"
#include "test_support.h"

namespace {

using gwtest::ParseArgs;

// DefaultThreads() on a thread pinned to `cpus` CPUs (affinity is per thread).
int DefaultOn(int cpus) {
  int got = -1;
  std::thread t([&] {
    cpu_set_t all, set;
    CPU_ZERO(&all);
    ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    CPU_ZERO(&set);
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < cpus; ++cpu)
      if (CPU_ISSET(cpu, &all)) {
        CPU_SET(cpu, &set);
        ++n;
      }
    ASSERT_EQ(n, cpus) << "this machine has fewer CPUs";
    ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
    got = gw::DefaultThreads();
  });
  t.join();
  return got;
}

TEST(ConfigThreads, DefaultIsFourPerCpuAtLeastEight) {
  EXPECT_EQ(DefaultOn(1), 8);
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus >= 2) {
    EXPECT_EQ(DefaultOn(2), 8);
  }
  if (cpus >= 3) {
    EXPECT_EQ(DefaultOn(3), 12);
  }
  if (cpus >= 9) {
    EXPECT_EQ(DefaultOn(9), 32);
  }
}

TEST(ConfigThreads, GivenValueWins) {
  EXPECT_EQ(ParseArgs({"--database-url", "host=db", "--threads", "32"}).threads, 32);
  setenv("LIVESTORE_THREADS", "3", 1);
  EXPECT_EQ(ParseArgs({"--database-url", "host=db"}).threads, 3);
  unsetenv("LIVESTORE_THREADS");
  EXPECT_EQ(ParseArgs({"--database-url", "host=db"}).threads, gw::DefaultThreads());
  EXPECT_THROW(ParseArgs({"--database-url", "host=db", "--threads", "0"}), std::invalid_argument);
}

}  // namespace
