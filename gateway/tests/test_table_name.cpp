// ls::TableName, ls::EffectStringHash, ls::ValidateStoreId: the client's
// table naming (livestore-sync-protocol.md section 5.2). Expected hashes were
// produced by effect's Hash.string and the client's toTableName.
#include <string>

#include "livestore/core/store_id.h"
#include "test_support.h"

namespace {

using gwtest::ThrowsSqlstate;

const std::string kSmile = "\xF0\x9F\x98\x80";  // U+1F600: a surrogate pair in UTF-16

TEST(TableName, PlainStoreId) {
  EXPECT_EQ(ls::TableName("demo_store"), "eventlog_6_demo_store");
}

TEST(TableName, DashBecomesUnderscoreAndCaseIsKept) {
  EXPECT_EQ(ls::TableName("Demo-Store"), "eventlog_6_Demo_Store");
  EXPECT_EQ(ls::TableName("a-b"), ls::TableName("a_b"));
}

TEST(TableName, DocVector52CharsIsNotHashed) {
  const std::string name = ls::TableName(std::string(52, 'x'));
  EXPECT_EQ(name, "eventlog_6_" + std::string(52, 'x'));
  EXPECT_EQ(name.size(), 63u);
}

TEST(TableName, DocVector53CharsIsHashed) {
  EXPECT_EQ(ls::TableName(std::string(53, 'x')), "eventlog_6_hash_-914092579");
}

TEST(TableName, DocVector60CharsIsHashed) {
  EXPECT_EQ(ls::TableName(std::string(60, 'a')), "eventlog_6_hash_127002309");
}

TEST(TableName, HashUsesTheOriginalUnescapedId) {
  const std::string dashed = std::string(52, 'x') + "-";
  EXPECT_EQ(ls::TableName(dashed), "eventlog_6_hash_" + std::to_string(ls::EffectStringHash(dashed)));
  EXPECT_NE(ls::TableName(dashed), ls::TableName(std::string(52, 'x') + "_"));
}

TEST(TableName, NonAsciiReplacedPerUtf16CodeUnit) {
  EXPECT_EQ(ls::TableName("\xC3\xA9"), "eventlog_6__");             // é: one unit
  EXPECT_EQ(ls::TableName("\xE6\x97\xA5\xE6\x9C\xAC"), "eventlog_6___");  // 日本: two units
  EXPECT_EQ(ls::TableName(kSmile), "eventlog_6___");                // one code point, two units
  EXPECT_EQ(ls::TableName("a" + kSmile + "b"), "eventlog_6_a__b");
}

TEST(TableName, LengthLimitCountsUtf16CodeUnitsNotBytes) {
  // 51 + 1 units = 52 (53 bytes): fits in 63 characters.
  EXPECT_EQ(ls::TableName(std::string(51, 'x') + "\xC3\xA9"), "eventlog_6_" + std::string(51, 'x') + "_");
  // 51 + 2 units = 53: hashed over the code units.
  EXPECT_EQ(ls::TableName(std::string(51, 'x') + kSmile), "eventlog_6_hash_-748388864");
}

TEST(TableName, EmptyIsRejected) {
  EXPECT_TRUE(ThrowsSqlstate([] { ls::TableName(""); }, "22023"));
}

// Not UTF-8: truncated, stray or bad continuation bytes, bytes that never
// occur, overlong forms, encoded surrogates, code points past U+10FFFF.
const char* const kInvalidUtf8[] = {
    "\xC3",         "\xE6\x97",     "\x80",         "a\xBF",         "\xC3\x28",
    "\xFF",         "\xFE",         "\xC0\xAF",     "\xE0\x80\xAF",  "\xF0\x80\x80\xAF",
    "\xED\xA0\x80", "\xED\xBF\xBF", "\xF4\x90\x80\x80", "\xF7\xBF\xBF\xBF", "\xF8\x88\x80\x80\x80",
};

TEST(TableName, InvalidUtf8IsRejected) {
  for (const char* s : kInvalidUtf8) {
    SCOPED_TRACE(testing::PrintToString(std::string(s)));
    EXPECT_TRUE(ThrowsSqlstate([&] { ls::TableName(s); }, "22023"));
    EXPECT_TRUE(ThrowsSqlstate([&] { ls::EffectStringHash(s); }, "22023"));
  }
}

TEST(TableName, LargestValidCodePointsAreAccepted) {
  EXPECT_EQ(ls::TableName("\xF4\x8F\xBF\xBF"), "eventlog_6___");  // U+10FFFF
  EXPECT_EQ(ls::TableName("\xEF\xBF\xBF"), "eventlog_6__");       // U+FFFF
  EXPECT_EQ(ls::TableName("\xEE\x80\x80"), "eventlog_6__");       // U+E000, just past the surrogates
}

TEST(EffectStringHash, MatchesEffect) {
  EXPECT_EQ(ls::EffectStringHash(""), 5381);
  EXPECT_EQ(ls::EffectStringHash("a"), 177604);
  EXPECT_EQ(ls::EffectStringHash("Demo-Store"), -36578828);
  EXPECT_EQ(ls::EffectStringHash(std::string(53, 'x')), -914092579);
  EXPECT_EQ(ls::EffectStringHash(std::string(60, 'a')), 127002309);
}

TEST(EffectStringHash, WorksOnUtf16CodeUnits) {
  EXPECT_EQ(ls::EffectStringHash("\xC3\xA9"), 177484);
  EXPECT_EQ(ls::EffectStringHash("\xE6\x97\xA5\xE6\x9C\xAC"), 6112844);
  EXPECT_EQ(ls::EffectStringHash(kSmile), 5191800);
}

TEST(ValidateStoreId, AcceptsTheClientAlphabet) {
  for (const char* id : {"demo_store", "a", "A-z_09", "-", "_", "Demo-Store-1"}) {
    SCOPED_TRACE(id);
    EXPECT_NO_THROW(ls::ValidateStoreId(id));
  }
  EXPECT_NO_THROW(ls::ValidateStoreId(std::string(ls::kMaxStoreIdBytes, 'x')));
}

TEST(ValidateStoreId, EmptyIsRejected) {
  EXPECT_TRUE(ThrowsSqlstate([] { ls::ValidateStoreId(""); }, "22023"));
}

TEST(ValidateStoreId, TooLongIsAProgramLimit) {
  EXPECT_TRUE(ThrowsSqlstate([] { ls::ValidateStoreId(std::string(ls::kMaxStoreIdBytes + 1, 'x')); }, "54000"));
}

TEST(ValidateStoreId, RejectsAnythingOutsideTheAlphabet) {
  const std::string bad[] = {"x'; DROP TABLE livestore.stores; --", "a\"b", "a b", "a.b", "a/b", "a%20b",
                             "a+b", "eventlog_6_x;", "\xC3\xA9", kSmile, std::string("a\0b", 3), "a\n"};
  for (const std::string& id : bad) {
    SCOPED_TRACE(testing::PrintToString(id));
    EXPECT_TRUE(ThrowsSqlstate([&] { ls::ValidateStoreId(id); }, "22023"));
  }
}

}  // namespace
