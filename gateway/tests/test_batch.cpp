// ls::CheckBatch / ls::CheckBatchText / ls::CheckBatchEvents: the batch rules
// shared by append() (which hands them views of its jsonb) and the push route
// (RapidJSON), each with its SQLSTATE.
#include <cstring>
#include <functional>
#include <string>

#include "livestore/core/batch.h"
#include "test_support.h"

namespace {

using gwtest::ChainBatch;
using gwtest::EventFields;
using gwtest::Fields;
using gwtest::JsonArray;
using gwtest::ThrowsSqlstate;
using gwtest::ToJson;
using gwtest::With;
using gwtest::Without;

ls::BatchSummary Check(const std::string& json) { return ls::CheckBatchText(json.data(), json.size()); }

// A one-event batch whose event is `fields`.
::testing::AssertionResult Rejects(const Fields& fields, const char* sqlstate) {
  const std::string json = JsonArray({ToJson(fields)});
  return ThrowsSqlstate([&] { Check(json); }, sqlstate) << " for " << json;
}

::testing::AssertionResult RejectsText(const std::string& json, const char* sqlstate) {
  return ThrowsSqlstate([&] { Check(json); }, sqlstate) << " for " << json;
}

void ExpectSummary(const ls::BatchSummary& s, size_t count, int32_t first_seq, int32_t first_parent,
                   int32_t last_seq) {
  EXPECT_EQ(s.count, count);
  EXPECT_EQ(s.first_seq, first_seq);
  EXPECT_EQ(s.first_parent, first_parent);
  EXPECT_EQ(s.last_seq, last_seq);
}

TEST(CheckBatch, SummaryOfAValidChain) { ExpectSummary(Check(ChainBatch(4, 3)), 3, 4, 3, 6); }

TEST(CheckBatch, FirstEventOfAStore) { ExpectSummary(Check(ChainBatch(1, 1)), 1, 1, 0, 1); }

TEST(CheckBatch, CheckBatchTakesAParsedValue) {
  rapidjson::Document doc;
  doc.Parse(ChainBatch(1, 2).c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(ls::CheckBatch(doc).last_seq, 2);
}

TEST(CheckBatch, NotAnArray) {
  for (const char* json : {"{}", "null", "1", "\"[]\"", "true"}) EXPECT_TRUE(RejectsText(json, "22023"));
}

TEST(CheckBatch, MalformedJson) {
  for (const char* json : {"", "[", "[{]", "[1,]", "[\"\xC3\"]"}) EXPECT_TRUE(RejectsText(json, "22P02"));
}

TEST(CheckBatch, Empty) { EXPECT_TRUE(RejectsText("[]", "22023")); }

TEST(CheckBatch, AtMostMaxBatchEvents) {
  EXPECT_EQ(Check(ChainBatch(1, ls::kMaxBatchEvents)).count, ls::kMaxBatchEvents);
  EXPECT_TRUE(RejectsText(ChainBatch(1, ls::kMaxBatchEvents + 1), "54000"));
}

TEST(CheckBatch, EventNotAnObject) {
  for (const char* item : {"1", "null", "[]", "\"event\""}) {
    EXPECT_TRUE(RejectsText(JsonArray({item}), "22023"));
    EXPECT_TRUE(RejectsText(JsonArray({ToJson(EventFields(1)), item}), "22023"));
  }
}

TEST(CheckBatch, StringFieldsMustBeNonEmptyStrings) {
  for (const char* field : {"name", "clientId", "sessionId"}) {
    SCOPED_TRACE(field);
    EXPECT_TRUE(Rejects(Without(EventFields(1), field), "22023"));
    for (const char* raw : {"\"\"", "null", "1", "{}", "[\"x\"]", "true"})
      EXPECT_TRUE(Rejects(With(EventFields(1), field, raw), "22023"));
  }
}

TEST(CheckBatch, IntegerFieldsMustBePresentIntegers) {
  for (const char* field : {"seqNum", "parentSeqNum"}) {
    SCOPED_TRACE(field);
    EXPECT_TRUE(Rejects(Without(EventFields(1), field), "22023"));
    for (const char* raw : {"\"1\"", "null", "true", "[1]", "{}"})
      EXPECT_TRUE(Rejects(With(EventFields(1), field, raw), "22023"));
  }
}

TEST(CheckBatch, FloatsAreRejectedEvenWhenWhole) {
  for (const char* raw : {"1.5", "1.0", "1e0", "-0.5"}) {
    EXPECT_TRUE(Rejects(With(EventFields(1), "seqNum", raw), "22023"));
    EXPECT_TRUE(Rejects(With(EventFields(2), "parentSeqNum", raw), "22023"));
  }
}

TEST(CheckBatch, OutOfInt32Range) {
  // Integers beyond int32 (uint32, int64, uint64), past uint64, and floats
  // too large for int32 are all 22003.
  for (const char* raw : {"2147483648", "4294967296", "-2147483649", "9223372036854775808",
                          "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
                          "3e9", "-1e30"}) {
    SCOPED_TRACE(raw);
    EXPECT_TRUE(Rejects(With(EventFields(1), "seqNum", raw), "22003"));
    EXPECT_TRUE(Rejects(With(EventFields(1), "parentSeqNum", raw), "22003"));
  }
}

TEST(CheckBatch, Int32BoundaryIsAccepted) {
  ExpectSummary(Check(ChainBatch(2147483646, 2)), 2, 2147483646, 2147483645, 2147483647);
}

TEST(CheckBatch, SeqNumMustBePositive) {
  EXPECT_TRUE(Rejects(EventFields(0), "22023"));   // 0 after -1
  EXPECT_TRUE(Rejects(EventFields(-3), "22023"));  // -3 after -4
  EXPECT_TRUE(Rejects(With(EventFields(0), "parentSeqNum", "-2147483648"), "22023"));
}

TEST(CheckBatch, ParentMustBeSeqMinusOne) {
  EXPECT_TRUE(Rejects(With(EventFields(5), "parentSeqNum", "3"), "22023"));
  EXPECT_TRUE(Rejects(With(EventFields(5), "parentSeqNum", "5"), "22023"));
  EXPECT_TRUE(Rejects(With(EventFields(1), "parentSeqNum", "-2147483648"), "22023"));
}

TEST(CheckBatch, SeqNumsMustBeConsecutive) {
  const std::string e1 = ToJson(EventFields(1)), e3 = ToJson(EventFields(3));
  EXPECT_TRUE(RejectsText(JsonArray({e1, e3}), "22023"));                     // gap
  EXPECT_TRUE(RejectsText(JsonArray({e3, e1}), "22023"));                     // descending
  EXPECT_TRUE(RejectsText(JsonArray({e1, e1}), "22023"));                     // repeated
  EXPECT_TRUE(RejectsText(JsonArray({ToJson(EventFields(1)), ToJson(EventFields(2)), e1}), "22023"));
}

TEST(CheckBatch, ArgsMayBeAbsentOrAnyJson) {
  EXPECT_EQ(Check(JsonArray({ToJson(Without(EventFields(1), "args"))})).count, 1u);
  for (const char* raw : {"null", "\"text\"", "0", "[1,{\"a\":[]}]", "{}", "false"})
    EXPECT_EQ(Check(JsonArray({ToJson(With(EventFields(1), "args", raw))})).count, 1u) << raw;
}

TEST(CheckBatch, ExtraFieldsAndKeyOrderDoNotMatter) {
  Fields f = EventFields(1);
  Fields reversed(f.rbegin(), f.rend());
  EXPECT_EQ(Check(JsonArray({ToJson(With(reversed, "extra", "[1]"))})).last_seq, 1);
}

TEST(CheckBatch, ErrorsNameTheEventAndField) {
  const std::string json = JsonArray({ToJson(EventFields(1)), ToJson(Without(EventFields(2), "clientId"))});
  try {
    Check(json);
    FAIL() << "accepted " << json;
  } catch (const ls::Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch[1].clientId"), std::string::npos) << e.what();
  }
}

// The extension's side: views built as pg/batch_fields.cpp builds them.
LsFieldView Str(const char* s) { return LsFieldView{LS_FIELD_STRING, 0, std::strlen(s), s}; }
LsFieldView Int(int32_t v) { return LsFieldView{LS_FIELD_INT32, v, 0, nullptr}; }
LsFieldView NumberText(const char* text) { return LsFieldView{LS_FIELD_NUMBER_TEXT, 0, std::strlen(text), text}; }
LsEventView View(int32_t seq) {
  return LsEventView{true, Str("v1.X"), Str("c"), Str("s"), Int(seq), Int(seq - 1)};
}

std::string MessageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ls::Error& e) {
    return std::string(e.sqlstate()) + " " + e.what();
  }
  return "accepted";
}

TEST(CheckBatchEvents, SummaryOfViews) {
  const LsEventView views[] = {View(7), View(8), View(9)};
  ExpectSummary(ls::CheckBatchEvents(true, 3, views), 3, 7, 6, 9);
}

TEST(CheckBatchEvents, ListChecksComeBeforeTheViews) {
  EXPECT_TRUE(ThrowsSqlstate([] { ls::CheckBatchEvents(false, 0, nullptr); }, "22023"));
  EXPECT_TRUE(ThrowsSqlstate([] { ls::CheckBatchEvents(true, 0, nullptr); }, "22023"));
  EXPECT_TRUE(ThrowsSqlstate([] { ls::CheckBatchEvents(true, ls::kMaxBatchEvents + 1, nullptr); }, "54000"));
  EXPECT_TRUE(ThrowsSqlstate([] { ls::CheckEmitEvents(true, ls::kMaxBatchEvents + 1, nullptr); }, "54000"));
}

// Numbers the extension hands over as text get the answer and message the
// same number gets in a pushed body.
TEST(CheckBatchEvents, NumberTextIsReadAsInABody) {
  for (const char* number : {"11", "11.0", "11.5", "0.0", "2147483647", "2147483648", "-2147483649", "2147483647.5",
                             "-2147483648.0", "1e300", "-1e300", "18446744073709551616", "1.5e1"}) {
    LsEventView v = View(11);
    v.seq_num = NumberText(number);
    const std::string body = "[{\"name\":\"v1.X\",\"clientId\":\"c\",\"sessionId\":\"s\",\"seqNum\":" +
                             std::string(number) + ",\"parentSeqNum\":10}]";
    EXPECT_EQ(MessageOf([&] { ls::CheckBatchEvents(true, 1, &v); }), MessageOf([&] { Check(body); })) << number;
  }
}

TEST(CheckBatchEvents, EveryKindHasItsMessage) {
  struct Case {
    LsFieldView seq;
    const char* expected;
  } cases[] = {
      {LsFieldView{LS_FIELD_MISSING, 0, 0, nullptr}, "22023 batch[0].seqNum is missing"},
      {LsFieldView{LS_FIELD_WIDE_INT, 0, 0, nullptr}, "22003 batch[0].seqNum is out of range for type integer"},
      {LsFieldView{LS_FIELD_FRACTION, 0, 0, nullptr}, "22023 batch[0].seqNum must be an integer, not a float"},
      {LsFieldView{LS_FIELD_OTHER, 0, 0, nullptr}, "22023 batch[0].seqNum must be an integer"},
      {Str("1"), "22023 batch[0].seqNum must be an integer"},
  };
  for (const Case& c : cases) {
    LsEventView v = View(1);
    v.seq_num = c.seq;
    EXPECT_EQ(MessageOf([&] { ls::CheckBatchEvents(true, 1, &v); }), c.expected);
  }
  LsEventView not_object = View(1);
  not_object.is_object = false;
  EXPECT_EQ(MessageOf([&] { ls::CheckBatchEvents(true, 1, &not_object); }), "22023 batch[0] must be an object");
}

// Postgres's jsonb keeps the last of duplicate keys, and so does the check
// of a pushed body, so that the gateway answers what append() would.
TEST(CheckBatch, LastOfDuplicateKeysCounts) {
  EXPECT_TRUE(RejectsText(R"([{"name":"v1.X","seqNum":11,"parentSeqNum":10,"clientId":"c","sessionId":"s","seqNum":12}])",
                          "22023"));
  EXPECT_EQ(Check(R"([{"name":"v1.X","seqNum":12,"parentSeqNum":10,"clientId":"c","sessionId":"s","seqNum":11}])").last_seq,
            11);
  EXPECT_TRUE(RejectsText(R"([{"name":"v1.X","seqNum":11,"parentSeqNum":10,"clientId":"c","sessionId":"s","name":""}])",
                          "22023"));
}

}  // namespace
