// libFuzzer target: the `args` of a LiveStore pull (GET ?args=), as the pull
// route hands it to gw::ParsePullArgs (src/pull_args.cpp): the JSON text
// after libmicrohttpd's single percent-decoding. The route then reads the
// offset with gw::IsFlagged / Unflag / ParseLogOffset (src/routes/pull.cpp),
// so the target does that too.
//
// Expected outcomes: success or gw::BadRequest (ls::Error from the store id
// check is wrapped into BadRequest). Anything else aborts (fuzz_support.h).
//
// The input is taken as bytes with an explicit length, NULs included: the
// HTTP layer hands over a C string, so that is stricter than production.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "gw/offset.h"
#include "gw/pull_args.h"
#include "livestore/core/store_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    gw::PullArgs a = gw::ParsePullArgs(input);
    try {
      ls::ValidateStoreId(a.store_id);
      std::string table = ls::TableName(a.store_id);
      FUZZ_CHECK(!table.empty() && table.size() <= 63, input);
    } catch (const ls::Error& e) {
      fuzz::Finding("accepted pull has an invalid store id", e.what());
    }
    if (!a.has_handle) {
      FUZZ_CHECK(a.offset.empty() && a.handle.empty(), input);
    } else {
      // What src/routes/pull.cpp does next with the offset.
      const bool flagged = gw::IsFlagged(a.offset);
      std::string_view plain = gw::Unflag(a.offset);
      FUZZ_CHECK(plain.size() + (flagged ? 1 : 0) == a.offset.size(), a.offset);
      if (auto after = gw::ParseLogOffset(plain)) FUZZ_CHECK(*after >= 0, a.offset);
    }
  } catch (const gw::BadRequest&) {
  } catch (...) {
    fuzz::UnexpectedException();
  }
  return 0;
}
