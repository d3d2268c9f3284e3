// Shared by the libFuzzer targets in this folder.
//
// A target lets through only the outcomes the code documents for bad input
// (gw::BadRequest, ls::Error with one of the expected SQLSTATEs). Everything
// else is a finding and must abort, so that libFuzzer saves the input as a
// crash-* artifact: a sanitizer report, another exception type, an
// unexpected SQLSTATE (XX000 means a RapidJSON assertion fired), or a broken
// invariant checked by the target itself.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>

#include "livestore/core/error.h"

namespace fuzz {

// Prints the finding and aborts (libFuzzer catches SIGABRT as a crash).
[[noreturn]] inline void Finding(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n==FUZZ FINDING== %s", what);
  if (!detail.empty()) {
    std::fprintf(stderr, ": ");
    for (char c : detail.substr(0, 400)) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u < 0x7f) std::fputc(c, stderr);
      else std::fprintf(stderr, "\\x%02x", u);
    }
    if (detail.size() > 400) std::fprintf(stderr, "... (%zu bytes)", detail.size());
  }
  std::fputc('\n', stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, detail)                                                  \
  do {                                                                            \
    if (!(cond)) ::fuzz::Finding("invariant failed: " #cond " at " __FILE__ ":" \
                                 FUZZ_STR(__LINE__), (detail));                   \
  } while (0)
#define FUZZ_STR(x) FUZZ_STR2(x)
#define FUZZ_STR2(x) #x

// An ls::Error is an expected outcome only with one of these SQLSTATEs.
inline void ExpectSqlstate(const ls::Error& e, std::initializer_list<const char*> allowed) {
  for (const char* code : allowed)
    if (std::strcmp(e.sqlstate(), code) == 0) return;
  Finding((std::string("ls::Error with unexpected SQLSTATE ") + e.sqlstate()).c_str(), e.what());
}

// Anything that is not one of the documented exceptions.
inline void UnexpectedException() {
  try {
    throw;
  } catch (const std::exception& e) {
    Finding("unexpected exception (std::exception)", e.what());
  } catch (...) {
    Finding("unexpected exception of unknown type");
  }
}

}  // namespace fuzz
