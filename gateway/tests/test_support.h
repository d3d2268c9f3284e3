// Small helpers shared by the gateway's unit tests (header only: the Makefile
// compiles every tests/*.cpp into one binary).
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "gw/config.h"
#include "livestore/core/error.h"

namespace gwtest {

// The gateway's flags as given on its command line (after the program name).
inline gw::Config ParseArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "livestore-gateway");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  bool help = false;
  return gw::ParseConfig(static_cast<int>(argv.size()), argv.data(), &help);
}

// EXPECT_TRUE(ThrowsSqlstate([&] { ... }, "22023")): f must throw ls::Error
// carrying exactly that SQLSTATE.
template <class F>
::testing::AssertionResult ThrowsSqlstate(F&& f, const char* want) {
  try {
    f();
  } catch (const ls::Error& e) {
    if (std::string(e.sqlstate()) == want) return ::testing::AssertionSuccess() << e.what();
    return ::testing::AssertionFailure() << "SQLSTATE " << e.sqlstate() << " (" << e.what() << "), want " << want;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-ls::Error: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw, want SQLSTATE " << want;
}

// A JSON object as (key, raw JSON value) pairs, in order, so a test can swap,
// drop or add any field, including with values of the wrong type.
using Fields = std::vector<std::pair<std::string, std::string>>;

inline std::string Quote(const std::string& s) { return "\"" + s + "\""; }

inline std::string ToJson(const Fields& fields) {
  std::string out = "{";
  for (const auto& [key, raw] : fields) {
    if (out.size() > 1) out += ',';
    out += Quote(key) + ":" + raw;
  }
  return out + "}";
}

// Replaces key's value (or appends the key when absent).
inline Fields With(Fields f, const std::string& key, const std::string& raw) {
  for (auto& kv : f)
    if (kv.first == key) {
      kv.second = raw;
      return f;
    }
  f.emplace_back(key, raw);
  return f;
}

inline Fields Without(Fields f, const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& kv : f)
    if (kv.first != key) out.push_back(std::move(kv));
  return out;
}

// A well-formed pushed event, in the client's key order.
inline Fields EventFields(long long seq) {
  return {{"name", Quote("v1.ItemAdded")},
          {"args", "{\"id\":\"a-" + std::to_string(seq) + "\"}"},
          {"seqNum", std::to_string(seq)},
          {"parentSeqNum", std::to_string(seq - 1)},
          {"clientId", Quote("client-a")},
          {"sessionId", Quote("client-a-1")}};
}

inline std::string JsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += item;
  }
  return out + "]";
}

// count well-formed, chained events starting at seqNum first.
inline std::string ChainBatch(long long first, size_t count) {
  std::vector<std::string> events;
  for (size_t i = 0; i < count; ++i) events.push_back(ToJson(EventFields(first + static_cast<long long>(i))));
  return JsonArray(events);
}

}  // namespace gwtest
