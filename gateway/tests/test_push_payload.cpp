// gw::ParsePushPayload: the body of a LiveStore push (livestore-sync-protocol.md
// section 7.1). Envelope faults are gw::BadRequest; batch faults are the
// shared batch rules' ls::Error with its SQLSTATE.
#include <string>

#include "gw/pull_args.h"
#include "gw/push_payload.h"
#include "livestore/core/store_id.h"
#include "test_support.h"

namespace {

using gwtest::ChainBatch;
using gwtest::Fields;
using gwtest::Quote;
using gwtest::ThrowsSqlstate;
using gwtest::ToJson;
using gwtest::With;
using gwtest::Without;

// The example body of section 7.1.
const char* const kDocBatch =
    "[{\"name\":\"v1.ItemAdded\",\"args\":{\"id\":\"a-0\",\"text\":\"hello\"},\"seqNum\":1,\"parentSeqNum\":0,"
    "\"clientId\":\"client-a\",\"sessionId\":\"client-a-1\"},"
    "{\"name\":\"v1.ItemAdded\",\"args\":{\"id\":\"a-1\",\"text\":\"hi\"},\"seqNum\":2,\"parentSeqNum\":1,"
    "\"clientId\":\"client-a\",\"sessionId\":\"client-a-1\"}]";

Fields PushFields(const std::string& batch) {
  return {{"_tag", Quote("@livestore/sync-electric.Push")}, {"storeId", Quote("demo_store")}, {"batch", batch}};
}

gw::PushPayload Parse(const Fields& f) { return gw::ParsePushPayload(ToJson(f)); }

TEST(ParsePushPayload, DocExample) {
  const std::string body = std::string("{\"_tag\":\"@livestore/sync-electric.Push\",\"storeId\":\"demo_store\",\"batch\":[\n ") +
                           (kDocBatch + 1) + "}";  // as printed: a newline after '['
  const gw::PushPayload p = gw::ParsePushPayload(body);
  EXPECT_EQ(p.store_id, "demo_store");
  EXPECT_EQ(p.summary.count, 2u);
  EXPECT_EQ(p.summary.first_seq, 1);
  EXPECT_EQ(p.summary.first_parent, 0);
  EXPECT_EQ(p.summary.last_seq, 2);
}

TEST(ParsePushPayload, LargestEventIsMeasuredWithoutRecursion) {
  const std::string small = ChainBatch(1, 3);
  EXPECT_GT(Parse(PushFields(small)).largest_event_bytes, 60u);
  // args nested 100,000 deep: measured (and parsed) without using the C++ stack.
  const std::string deep = "[{\"name\":\"n\",\"args\":" + std::string(100000, '[') + std::string(100000, ']') +
                           ",\"seqNum\":1,\"parentSeqNum\":0,\"clientId\":\"c\",\"sessionId\":\"s\"}]";
  EXPECT_GT(Parse(PushFields(deep)).largest_event_bytes, 200000u);
}

TEST(ParsePushPayload, CompactJsonBytesMatchesTheWriterForStringsAndStructure) {
  const char* json = "{\"a\":[\"xy\",{\"b\":null,\"c\":true}],\"d\":false}";
  rapidjson::Document d;
  d.Parse(json);
  EXPECT_EQ(gw::CompactJsonBytes(d), std::string(json).size());
}

TEST(ParsePushPayload, NulBytesAreRefused) {
  std::string body = ToJson(PushFields(ChainBatch(1, 1)));
  body.insert(body.size() - 1, std::string("\0", 1));
  EXPECT_THROW(gw::ParsePushPayload(body), gw::BadRequest);
}

TEST(ParsePushPayload, EnvelopeErrorsAreBadRequests) {
  const Fields ok = PushFields(ChainBatch(1, 1));
  const std::string bad[] = {
      "", "not json", "{", "[]", "null", "\"x\"",
      ToJson(Without(ok, "_tag")),
      ToJson(With(ok, "_tag", Quote("@livestore/sync-electric.Pull"))),
      ToJson(With(ok, "_tag", "1")),
      ToJson(Without(ok, "storeId")),
      ToJson(With(ok, "storeId", "7")),
      ToJson(With(ok, "storeId", "null")),
      ToJson(Without(ok, "batch")),
      ToJson(With(ok, "storeId", Quote("s\xC3"))),  // invalid UTF-8
  };
  for (const std::string& body : bad) EXPECT_THROW(gw::ParsePushPayload(body), gw::BadRequest) << body;
}

TEST(ParsePushPayload, InvalidStoreIdIsABadRequest) {
  for (const std::string& id : {std::string(""), std::string("a b"), std::string("x'; drop table t; --"),
                                std::string(ls::kMaxStoreIdBytes + 1, 'x')})
    EXPECT_THROW(Parse(With(PushFields(ChainBatch(1, 1)), "storeId", Quote(id))), gw::BadRequest) << id;
}

TEST(ParsePushPayload, BatchErrorsCarryTheirSqlstate) {
  const struct {
    std::string batch;
    const char* sqlstate;
  } cases[] = {
      {"{}", "22023"},
      {"null", "22023"},
      {"[]", "22023"},
      {"[1]", "22023"},
      {"[" + ToJson(With(gwtest::EventFields(1), "seqNum", "1.5")) + "]", "22023"},
      {"[" + ToJson(With(gwtest::EventFields(1), "seqNum", "2147483648")) + "]", "22003"},
      {"[" + ToJson(With(gwtest::EventFields(1), "parentSeqNum", "5")) + "]", "22023"},
      {ChainBatch(1, ls::kMaxBatchEvents + 1), "54000"},
  };
  for (const auto& c : cases) {
    const std::string body = ToJson(PushFields(c.batch));
    EXPECT_TRUE(ThrowsSqlstate([&] { gw::ParsePushPayload(body); }, c.sqlstate)) << body.substr(0, 200);
  }
}

}  // namespace
