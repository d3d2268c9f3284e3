// Randomized concurrency test of livestore.append() over libpq.
//
//   append_race [conninfo]        (else $LIVESTORE_TEST_DSN, else libpq's PG* defaults)
//
// 1. 16 writers make 500 appends each to ONE store. Every attempt reads the
//    head h and appends a chain of 1-3 events with parent h; LS001 counts as
//    a conflict and is retried. Some attempts run in a transaction that rolls
//    back; some successes are re-sent (a lost acknowledgement).
// 2. 8 writers append to 8 stores of their own in parallel (no conflicts).
// Then the logs must be exactly 1..head, chained, holding every successful
// append's events once and no rolled-back event; every NOTIFY (the writers
// turn livestore.notify on) and every change in the wake-up ring
// (livestore.wait_changes) must name a head that a successful append
// returned, once per successful append.
// Exits 0 when all holds, 1 on any violation, 2 on setup failure, 3 on timeout.
#include <libpq-fe.h>
#include <sys/select.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kRaceWriters = 16;
constexpr int kRaceAppends = 500;
constexpr int kSoloStores = 8;
constexpr int kSoloAppends = 300;
constexpr int kTimeLimitSeconds = 120;

std::string g_dsn;
std::atomic<int> g_violations{0};

void Violation(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("VIOLATION: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  ++g_violations;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "append_race: %s\n", what.c_str());
  std::exit(2);
}

extern "C" void OnAlarm(int) {
  const char msg[] = "append_race: TIMEOUT: not finished within the time limit\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(3);
}

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

Conn Connect() {
  Conn c(PQconnectdb(g_dsn.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) Die(std::string("connect: ") + PQerrorMessage(c.get()));
  PQclear(PQexec(c.get(), "SET livestore.notify = on"));
  return c;
}

Result Exec(PGconn* c, const char* sql, std::vector<std::string> params = {}) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return Result(PQexecParams(c, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0),
                &PQclear);
}

// Runs a statement that must succeed (setup, verification).
Result MustExec(PGconn* c, const char* sql, std::vector<std::string> params = {}) {
  Result r = Exec(c, sql, std::move(params));
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
    Die(std::string(sql) + ": " + PQresultErrorMessage(r.get()));
  return r;
}

int Head(PGconn* c, const std::string& store) {
  Result r = MustExec(c, "SELECT livestore.head($1)", {store});
  return std::atoi(PQgetvalue(r.get(), 0, 0));
}

struct Event {
  int seq;
  std::string args, session;  // args in jsonb's own text form, so it compares as text
};

struct Batch {
  std::vector<Event> events;
  std::string json;
  int last() const { return events.back().seq; }
};

// writer/attempt/try make every event unique, so the log shows who wrote it.
Batch MakeBatch(int parent, int count, const std::string& writer, int attempt, int attempt_try) {
  Batch b;
  std::string session = writer + "-a" + std::to_string(attempt) + "-t" + std::to_string(attempt_try);
  b.json = "[";
  for (int i = 0; i < count; ++i) {
    int seq = parent + 1 + i;
    std::string args = "{\"a\": " + std::to_string(attempt) + ", \"i\": " + std::to_string(i) +
                       ", \"t\": " + std::to_string(attempt_try) + "}";
    b.events.push_back({seq, args, session});
    if (i) b.json += ",";
    b.json += "{\"name\":\"v1.Race\",\"args\":" + args + ",\"seqNum\":" + std::to_string(seq) +
              ",\"parentSeqNum\":" + std::to_string(seq - 1) + ",\"clientId\":\"" + writer +
              "\",\"sessionId\":\"" + session + "\"}";
  }
  b.json += "]";
  return b;
}

enum class Outcome { kOk, kConflict, kError };

// The head append() returned, or the outcome of its error.
Outcome Append(PGconn* c, const std::string& store, const Batch& b, int* head) {
  Result r = Exec(c, "SELECT livestore.append($1, $2::jsonb)", {store, b.json});
  if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
    *head = std::atoi(PQgetvalue(r.get(), 0, 0));
    return Outcome::kOk;
  }
  const char* code = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  if (code != nullptr && std::string(code) == "LS001") return Outcome::kConflict;
  Violation("append to %s failed: %s", store.c_str(), PQresultErrorMessage(r.get()));
  return Outcome::kError;
}

struct WriterLog {
  std::vector<Batch> stored;             // successful appends
  std::vector<int> heads;                // what each of them returned
  std::set<std::string> rolled_back;     // sessions whose append was rolled back
  long conflicts = 0, resends = 0;
};

// `appends` successful appends to `store`, retrying conflicts. With
// `surprises`, some attempts roll back and some successes are re-sent.
WriterLog Write(const std::string& store, const std::string& writer, int appends, bool surprises,
                unsigned seed) {
  Conn conn = Connect();
  PGconn* c = conn.get();
  std::mt19937 rng(seed);
  WriterLog log;
  for (int attempt = 0; attempt < appends && g_violations == 0; ++attempt) {
    for (int attempt_try = 0; g_violations == 0; ++attempt_try) {
      int h = Head(c, store);
      Batch b = MakeBatch(h, 1 + static_cast<int>(rng() % 3), writer, attempt, attempt_try);
      int head = 0;
      if (surprises && rng() % 20 == 0) {  // holds the head row, then gives it up
        MustExec(c, "BEGIN");
        if (Append(c, store, b, &head) == Outcome::kOk) log.rolled_back.insert(b.events[0].session);
        MustExec(c, "ROLLBACK");
        continue;
      }
      Outcome o = Append(c, store, b, &head);
      if (o == Outcome::kError) return log;
      if (o == Outcome::kConflict) {
        if (!surprises) Violation("%s: conflict on a store nobody else writes", writer.c_str());
        ++log.conflicts;
        continue;
      }
      if (head != b.last()) Violation("%s: append returned %d, expected %d", writer.c_str(), head, b.last());
      log.stored.push_back(b);
      log.heads.push_back(head);
      if (surprises && rng() % 10 == 0) {  // the acknowledgement was "lost"
        int again = 0;
        if (Append(c, store, b, &again) != Outcome::kOk || again < b.last())
          Violation("%s: re-send of %d..%d was not accepted", writer.c_str(), b.events[0].seq, b.last());
        ++log.resends;
      }
      break;
    }
  }
  return log;
}

// Collects the heads announced for each store, until told to stop: every
// livestore_events payload (kNotify) or every change in the wake-up ring
// (kRing, read as the gateway does; a missed change is a violation).
class Listener {
 public:
  enum Kind { kNotify, kRing };
  explicit Listener(Kind kind) : kind_(kind), conn_(Connect()) {
    if (kind_ == kNotify) {
      MustExec(conn_.get(), "LISTEN livestore_events");
    } else {
      Result r = Exec(conn_.get(), "SELECT position FROM livestore.wait_changes(NULL)");
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) Die(std::string("ring: ") + PQerrorMessage(conn_.get()));
      since_ = PQgetvalue(r.get(), 0, 0);
    }
    thread_ = std::thread([this] { kind_ == kNotify ? RunNotify() : RunRing(); });
  }
  const char* name() const { return kind_ == kNotify ? "NOTIFY" : "ring"; }
  // heads announced for `store`, waiting up to 10 s until `expected` arrived.
  std::vector<int> HeadsFor(const std::string& store, size_t expected) {
    for (int i = 0; i < 100 && Count(store) < expected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard<std::mutex> lock(mu_);
    return heads_[store];
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
  }

 private:
  size_t Count(const std::string& store) {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_[store].size();
  }
  void RunNotify() {
    PGconn* c = conn_.get();
    while (!stop_) {
      int fd = PQsocket(c);
      fd_set fds;
      FD_ZERO(&fds);
      FD_SET(fd, &fds);
      timeval tv{0, 100000};
      if (select(fd + 1, &fds, nullptr, nullptr, &tv) < 0) continue;
      if (!PQconsumeInput(c)) Die(std::string("listener: ") + PQerrorMessage(c));
      while (PGnotify* n = PQnotifies(c)) {
        Record(n->extra);
        PQfreemem(n);
      }
    }
  }
  void RunRing() {
    while (!stop_) {
      Result r = Exec(conn_.get(), "SELECT position, store_id, head, missed FROM livestore.wait_changes($1, 100)",
                      {since_});
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) Die(std::string("ring: ") + PQerrorMessage(conn_.get()));
      const int rows = PQntuples(r.get());
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i + 1 < rows; ++i) heads_[PQgetvalue(r.get(), i, 1)].push_back(std::atoi(PQgetvalue(r.get(), i, 2)));
      since_ = PQgetvalue(r.get(), rows - 1, 0);
      if (std::strcmp(PQgetvalue(r.get(), rows - 1, 3), "t") == 0) Violation("ring: changes were missed");
    }
  }
  // Payload: {"table":"...","store":"...","head":N}
  void Record(const std::string& payload) {
    size_t s = payload.find("\"store\":\""), h = payload.find("\"head\":");
    if (s == std::string::npos || h == std::string::npos) {
      Violation("malformed notification payload: %s", payload.c_str());
      return;
    }
    s += 9;
    std::string store = payload.substr(s, payload.find('"', s) - s);
    std::lock_guard<std::mutex> lock(mu_);
    heads_[store].push_back(std::atoi(payload.c_str() + h + 7));
  }

  Kind kind_;
  Conn conn_;
  std::string since_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, std::vector<int>> heads_;
};

// The log must be 1..head, chained, and exactly the events the writers
// stored; no rolled-back session may appear; one NOTIFY per success.
void Verify(PGconn* c, const std::string& store, const std::vector<WriterLog>& logs,
            const std::vector<Listener*>& listeners) {
  std::map<int, const Event*> expected;
  std::set<int> heads;
  std::set<std::string> rolled_back;
  for (const auto& log : logs) {
    for (const auto& b : log.stored)
      for (const auto& e : b.events)
        if (!expected.emplace(e.seq, &e).second) Violation("%s: seqNum %d stored twice", store.c_str(), e.seq);
    heads.insert(log.heads.begin(), log.heads.end());
    rolled_back.insert(log.rolled_back.begin(), log.rolled_back.end());
  }
  int head = Head(c, store);
  Result r = MustExec(c,
                      "SELECT \"seqNum\", \"parentSeqNum\", args::text, \"sessionId\" "
                      "FROM livestore.events($1, 0, 2147483647)",
                      {store});
  int rows = PQntuples(r.get());
  if (rows != head || static_cast<size_t>(head) != expected.size())
    Violation("%s: head %d, %d rows, %zu events appended", store.c_str(), head, rows, expected.size());
  for (int i = 0; i < rows; ++i) {
    int seq = std::atoi(PQgetvalue(r.get(), i, 0)), parent = std::atoi(PQgetvalue(r.get(), i, 1));
    std::string args = PQgetvalue(r.get(), i, 2), session = PQgetvalue(r.get(), i, 3);
    if (seq != i + 1 || parent != seq - 1)
      Violation("%s: row %d is seqNum %d, parent %d", store.c_str(), i, seq, parent);
    if (rolled_back.count(session)) Violation("%s: rolled-back %s is in the log", store.c_str(), session.c_str());
    auto it = expected.find(seq);
    if (it == expected.end() || it->second->args != args || it->second->session != session)
      Violation("%s: seqNum %d holds %s %s, not what was appended", store.c_str(), seq, session.c_str(),
                args.c_str());
  }
  size_t successes = 0;
  for (const auto& log : logs) successes += log.stored.size();
  for (Listener* listener : listeners) {
    std::vector<int> notified = listener->HeadsFor(store, successes);
    std::set<int> distinct(notified.begin(), notified.end());
    if (notified.size() != successes || distinct.size() != notified.size())
      Violation("%s: %zu %s wake-ups (%zu distinct) for %zu appends", store.c_str(), notified.size(),
                listener->name(), distinct.size(), successes);
    for (int h : notified)
      if (!heads.count(h)) Violation("%s: %s announced head %d that no append returned", store.c_str(), listener->name(), h);
  }
}

// Runs `writers` threads, writer i on stores[i % stores.size()].
std::vector<WriterLog> RunWriters(const std::vector<std::string>& stores, int writers, int appends,
                                  bool surprises) {
  std::vector<WriterLog> logs(writers);
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; ++i)
    threads.emplace_back([&, i] {
      logs[i] = Write(stores[i % stores.size()], "w" + std::to_string(i), appends, surprises,
                      std::random_device{}());
    });
  for (auto& t : threads) t.join();
  return logs;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("LIVESTORE_TEST_DSN");
  g_dsn = argc > 1 ? argv[1] : env ? env : "";
  std::signal(SIGALRM, OnAlarm);
  alarm(kTimeLimitSeconds);
  auto started = std::chrono::steady_clock::now();

  Conn admin = Connect();
  PGconn* c = admin.get();
  MustExec(c, "SET client_min_messages = warning");
  MustExec(c, "CREATE EXTENSION IF NOT EXISTS livestore");
  std::string prefix = "race_" + std::to_string(getpid());
  std::vector<std::string> race_store{prefix}, solo_stores;
  for (int i = 0; i < kSoloStores; ++i) solo_stores.push_back(prefix + "_solo" + std::to_string(i));
  for (const auto& s : solo_stores) MustExec(c, "SELECT livestore.create_store($1)", {s});
  MustExec(c, "SELECT livestore.create_store($1)", {race_store[0]});
  Listener notify_listener(Listener::kNotify), ring_listener(Listener::kRing);
  std::vector<Listener*> listeners{&notify_listener, &ring_listener};

  std::vector<WriterLog> race = RunWriters(race_store, kRaceWriters, kRaceAppends, true);
  long conflicts = 0, resends = 0, rollbacks = 0;
  for (const auto& log : race) {
    conflicts += log.conflicts;
    resends += log.resends;
    rollbacks += static_cast<long>(log.rolled_back.size());
  }
  Verify(c, race_store[0], race, listeners);
  std::printf("one store: %d writers x %d appends, head %d, %ld conflicts retried, %ld re-sends, %ld rollbacks\n",
              kRaceWriters, kRaceAppends, Head(c, race_store[0]), conflicts, resends, rollbacks);

  auto solo_started = std::chrono::steady_clock::now();
  std::vector<WriterLog> solo = RunWriters(solo_stores, kSoloStores, kSoloAppends, false);
  double solo_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - solo_started).count();
  for (int i = 0; i < kSoloStores; ++i) Verify(c, solo_stores[i], {solo[i]}, listeners);
  std::printf("%d stores in parallel: %d appends each in %.2f s\n", kSoloStores, kSoloAppends, solo_s);

  if (g_violations == 0)  // keep the logs of a failed run for inspection
    for (const auto& s : solo_stores) MustExec(c, "SELECT livestore.drop_store($1)", {s});
  if (g_violations == 0) MustExec(c, "SELECT livestore.drop_store($1)", {race_store[0]});
  double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("append_race: %s (%d violations, %.1f s)\n", g_violations ? "FAILED" : "ok", g_violations.load(),
              total_s);
  return g_violations ? 1 : 0;
}
