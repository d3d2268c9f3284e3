// libFuzzer target: offsets and store ids, the small parsers every pull goes
// through.
//  - gw::IsFlagged / Unflag / Flag / ParseLogOffset / FormatLogOffset
//    (include/gw/offset.h, src/offset.cpp), checked against an independent
//    reading of the documented grammar: "-1", or "<n>_<k>" with n a decimal
//    int32 >= 0 and k decimal digits or "inf".
//  - ls::ValidateStoreId / ls::TableName / ls::EffectStringHash
//    (livestore/core/store_id.h, extension/src/core/store_id.cpp): TableName
//    also serves the SQL function livestore.table_name(text), so it sees any
//    text, not only valid ids.
//
// Expected outcomes: std::nullopt from ParseLogOffset; ls::Error 22023 or
// 54000 from the store id functions. Anything else aborts (fuzz_support.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "gw/offset.h"
#include "livestore/core/store_id.h"

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWord(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}

// The grammar, read independently of src/offset.cpp. A leading '-' is
// tolerated on an all-zero n ("-0_0"): std::from_chars accepts it and it
// means 0, which is harmless (noted in fuzz/README.md).
std::optional<int32_t> OracleOffset(std::string_view s) {
  if (s == "-1") return 0;
  size_t us = s.find('_');
  if (us == std::string_view::npos) return std::nullopt;
  std::string_view tx = s.substr(0, us), op = s.substr(us + 1);
  bool negative = false;
  if (!tx.empty() && tx[0] == '-') {
    negative = true;
    tx.remove_prefix(1);
  }
  if (tx.empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : tx) {
    if (!IsDigit(c)) return std::nullopt;
    n = n * 10 + (c - '0');
    if (n > INT32_MAX) return std::nullopt;
  }
  if (negative && n != 0) return std::nullopt;
  if (op != "inf") {
    if (op.empty()) return std::nullopt;
    for (char c : op)
      if (!IsDigit(c)) return std::nullopt;
  }
  return static_cast<int32_t>(n);
}

void CheckOffset(std::string_view s) {
  // The flag.
  const bool flagged = gw::IsFlagged(s);
  FUZZ_CHECK(flagged == (!s.empty() && s.back() == '~'), s);
  std::string_view plain = gw::Unflag(s);
  FUZZ_CHECK(plain.size() == s.size() - (flagged ? 1 : 0) && s.substr(0, plain.size()) == plain, s);
  if (flagged) FUZZ_CHECK(gw::Flag(plain) == s, s);
  FUZZ_CHECK(gw::IsFlagged(gw::Flag(s)) && gw::Unflag(gw::Flag(s)) == s, s);

  // The offset, plain and as the route sees it.
  for (std::string_view o : {s, plain}) {
    std::optional<int32_t> got = gw::ParseLogOffset(o), want = OracleOffset(o);
    FUZZ_CHECK(got == want, o);
    if (got) {
      FUZZ_CHECK(*got >= 0, o);
      // What the gateway hands out for that position parses back to it.
      std::string formatted = gw::FormatLogOffset(*got);
      FUZZ_CHECK(gw::ParseLogOffset(formatted) == got, formatted);
      FUZZ_CHECK(gw::ParseLogOffset(gw::Unflag(gw::Flag(formatted))) == got, formatted);
    }
  }
}

void CheckStoreId(std::string_view s) {
  bool valid = false;
  try {
    ls::ValidateStoreId(s);
    valid = true;
    FUZZ_CHECK(!s.empty() && s.size() <= ls::kMaxStoreIdBytes, s);
    for (char c : s) FUZZ_CHECK(IsWord(c) || c == '-', s);
  } catch (const ls::Error& e) {
    fuzz::ExpectSqlstate(e, {ls::sqlstate::kInvalidParameter, ls::sqlstate::kProgramLimit});
  }

  try {
    std::string table = ls::TableName(s);
    FUZZ_CHECK(table.size() <= 63, table);  // NAMEDATALEN - 1
    FUZZ_CHECK(table.compare(0, 11, "eventlog_6_") == 0, table);
    for (char c : table) FUZZ_CHECK(IsWord(c) || c == '-', table);
    // UTF-16 length as JavaScript sees it (TableName succeeded, so the bytes
    // are well-formed sequences): one unit per lead byte, two for 4-byte ones.
    size_t units = 0;
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u & 0xC0) != 0x80) units += (u & 0xF8) == 0xF0 ? 2 : 1;
    }
    if (11 + units > 63) {
      FUZZ_CHECK(table == "eventlog_6_hash_" + std::to_string(ls::EffectStringHash(s)), s);
    } else {
      FUZZ_CHECK(table.size() == 11 + units, s);
      for (char c : table) FUZZ_CHECK(IsWord(c), table);
    }
    if (valid && 11 + s.size() <= 63) {
      // Short valid ids map character by character ('-' -> '_').
      std::string want = "eventlog_6_";
      for (char c : s) want.push_back(c == '-' ? '_' : c);
      FUZZ_CHECK(table == want, s);
    }
    // Deterministic.
    FUZZ_CHECK(ls::TableName(s) == table, s);
  } catch (const ls::Error& e) {
    fuzz::ExpectSqlstate(e, {ls::sqlstate::kInvalidParameter});
    if (valid) fuzz::Finding("TableName refuses an id that ValidateStoreId accepts", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    CheckOffset(input);
    CheckStoreId(input);
  } catch (...) {
    fuzz::UnexpectedException();
  }
  return 0;
}
