// The only header that includes RapidJSON. Its default assert is assert(),
// which is live under PGXS (no NDEBUG) and would abort a whole backend; make
// it throw instead, identically in every translation unit.
#pragma once
#include "livestore/core/error.h"

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) \
  do { if (!(x)) throw ::ls::Error(::ls::sqlstate::kInternal, "internal JSON assertion: " #x); } while (0)
#endif
#define RAPIDJSON_HAS_STDSTRING 1
// Not RAPIDJSON_SSE2: the SIMD string scans of Debian 12's RapidJSON treat
// only bytes below 0x1A as control characters, so the writer leaves 0x1A-0x1F
// unescaped (invalid JSON; gateway/tests/test_shape_encode.cpp catches it).
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "livestore/core/cpp_only.h"

namespace ls {
// Untrusted input: iterative (no stack overflow on deep nesting), UTF-8 checked.
inline constexpr unsigned kParseUntrusted =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
}  // namespace ls
