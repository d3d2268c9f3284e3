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

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ls {
// Untrusted input: iterative (no stack overflow on deep nesting), UTF-8 checked.
inline constexpr unsigned kParseUntrusted =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// True when no byte has its high bit set: such text is valid UTF-8 whatever
// it holds (escapes such as \uD800 are checked by the parser either way).
inline bool IsAscii(const char* data, size_t len) {
  uint64_t any = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    any |= w;
  }
  for (; i < len; ++i) any |= static_cast<unsigned char>(data[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

// Parses untrusted JSON as kParseUntrusted says. RapidJSON checks the
// encoding one character at a time through a call per character (a third
// of the time of a 50-event push body: 34 against 24 µs per parse); text
// that is all ASCII needs no check, so only text with other bytes pays it.
template <typename Document>
void ParseUntrusted(Document& doc, const char* data, size_t len) {
  if (IsAscii(data, len))
    doc.template Parse<rapidjson::kParseIterativeFlag>(data, len);
  else
    doc.template Parse<kParseUntrusted>(data, len);
}
}  // namespace ls
