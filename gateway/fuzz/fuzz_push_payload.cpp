// libFuzzer target: the body of a LiveStore push (POST), as the push route
// hands it to gw::ParsePushPayload (src/push_payload.cpp), which checks the
// envelope and then the batch with the extension's own rules (ls::CheckBatch,
// extension/src/core/batch.cpp). The same bytes also go through
// ls::CheckBatchText and, as the extension's append() hands a batch over
// (views of its elements, numbers that are not plain int32s as text, see
// extension/src/pg/batch_fields.cpp), through ls::CheckBatchEvents, which must
// answer exactly as ls::CheckBatch does on the parsed value.
//
// Expected outcomes: success, gw::BadRequest, ls::Error 22023 / 22003 / 54000
// (and 22P02 from CheckBatchText). Anything else aborts (see fuzz_support.h).
//
// On success the target checks what the push route relies on: a valid store
// id with a table name, a consistent summary that the extension's own check
// agrees with, a body without NUL bytes (it goes to Postgres verbatim as a
// C string, where `($2::jsonb)->'batch'` parses it, numbers exactly), and an
// event size measured without recursion (findings 1-4 of the first fuzzing
// run came from re-serializing the batch, which the route no longer does).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.h"
#include "gw/pull_args.h"  // gw::BadRequest
#include "gw/push_payload.h"
#include "livestore/core/batch.h"
#include "livestore/core/store_id.h"

namespace {

using ls::sqlstate::kInvalidParameter;
using ls::sqlstate::kInvalidText;
using ls::sqlstate::kOutOfRange;
using ls::sqlstate::kProgramLimit;

bool SameSummary(const ls::BatchSummary& a, const ls::BatchSummary& b) {
  return a.count == b.count && a.first_seq == b.first_seq && a.first_parent == b.first_parent &&
         a.last_seq == b.last_seq;
}

// A check's answer, to compare two ways to the same rules.
template <typename F>
std::string Outcome(F&& check) {
  try {
    const ls::BatchSummary s = check();
    return "ok " + std::to_string(s.count) + " " + std::to_string(s.first_seq) + " " + std::to_string(s.last_seq);
  } catch (const ls::Error& e) {
    return std::string(e.sqlstate()) + " " + e.what();
  }
}

void CheckSummary(const ls::BatchSummary& s, std::string_view input) {
  FUZZ_CHECK(s.count >= 1 && s.count <= ls::kMaxBatchEvents, input);
  FUZZ_CHECK(s.first_seq >= 1, input);
  FUZZ_CHECK(static_cast<int64_t>(s.first_parent) == static_cast<int64_t>(s.first_seq) - 1, input);
  FUZZ_CHECK(static_cast<int64_t>(s.last_seq) - s.first_seq + 1 == static_cast<int64_t>(s.count), input);
}

void CheckPayload(const gw::PushPayload& p, std::string_view input) {
  // The store id is one the client accepts and has a table.
  try {
    ls::ValidateStoreId(p.store_id);
    std::string table = ls::TableName(p.store_id);
    FUZZ_CHECK(!table.empty() && table.size() <= 63, input);
  } catch (const ls::Error& e) {
    fuzz::Finding("accepted push has an invalid store id", e.what());
  }
  CheckSummary(p.summary, input);

  FUZZ_CHECK(input.find('\0') == std::string_view::npos, input);
  FUZZ_CHECK(p.largest_event_bytes >= 2, input);
  // The batch Postgres will take is the last "batch" member: the extension's
  // check, given that value as text, must agree with the gateway's.
  rapidjson::Document sent;
  sent.Parse<ls::kParseUntrusted>(input.data(), input.size());
  FUZZ_CHECK(!sent.HasParseError(), input);
  const rapidjson::Value* batch = nullptr;
  for (const auto& m : sent.GetObject())
    if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == "batch") batch = &m.value;
  FUZZ_CHECK(batch != nullptr, input);
  FUZZ_CHECK(SameSummary(ls::CheckBatch(*batch), p.summary), input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. The push route.
  try {
    gw::PushPayload p = gw::ParsePushPayload(input);
    CheckPayload(p, input);
  } catch (const gw::BadRequest&) {
  } catch (const ls::Error& e) {
    fuzz::ExpectSqlstate(e, {kInvalidParameter, kOutOfRange, kProgramLimit});
  } catch (...) {
    fuzz::UnexpectedException();
  }

  // 2. The core's check on the same bytes (a batch as text).
  try {
    ls::BatchSummary s = ls::CheckBatchText(input.data(), input.size());
    CheckSummary(s, input);
  } catch (const ls::Error& e) {
    fuzz::ExpectSqlstate(e, {kInvalidText, kInvalidParameter, kOutOfRange, kProgramLimit});
  } catch (...) {
    fuzz::UnexpectedException();
  }

  // 3. The extension's append() check: views, numbers as text.
  rapidjson::Document doc;
  ls::ParseUntrusted(doc, input.data(), input.size());
  if (!doc.HasParseError()) {
    const bool is_array = doc.IsArray();
    const size_t n = is_array ? doc.Size() : 0;
    std::vector<LsEventView> views;
    std::vector<std::string> texts;  // stable storage: reserved, never reallocated
    if (is_array && n <= ls::kMaxBatchEvents) {
      texts.reserve(5 * n);
      for (const rapidjson::Value& e : doc.GetArray()) {
        LsEventView v = ls::EventViewOf(e);
        if (v.is_object)
          for (auto [key, f] : {std::pair{"seqNum", &v.seq_num}, std::pair{"parentSeqNum", &v.parent_seq_num}}) {
            if (f->kind != LS_FIELD_INT32 && f->kind != LS_FIELD_WIDE_INT && f->kind != LS_FIELD_FRACTION) continue;
            const rapidjson::Value* last = nullptr;  // the value the view took: the last of duplicates
            for (const auto& m : e.GetObject())
              if (std::strcmp(m.name.GetString(), key) == 0) last = &m.value;
            rapidjson::StringBuffer out;
            rapidjson::Writer<rapidjson::StringBuffer> w(out);
            last->Accept(w);
            texts.emplace_back(out.GetString(), out.GetSize());
            *f = LsFieldView{LS_FIELD_NUMBER_TEXT, 0, texts.back().size(), texts.back().c_str()};
          }
        views.push_back(v);
      }
    }
    FUZZ_CHECK(Outcome([&] { return ls::CheckBatchEvents(is_array, n, views.data()); }) ==
                   Outcome([&] { return ls::CheckBatch(doc); }),
               input);
  }
  return 0;
}
