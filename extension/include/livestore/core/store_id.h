// Store ids and the table that holds each store's log, exactly as the stock
// client (@livestore/sync-electric 0.4.0, makeElectricUrl) names it, so that
// tables made by the reference JavaScript server and by us are the same.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "livestore/core/cpp_only.h"

namespace ls {

inline constexpr int kPersistenceFormatVersion = 6;
inline constexpr size_t kMaxStoreIdBytes = 256;  // generous: client ids are short

// Effect's Hash.string over the UTF-16 code units of `s` (given as UTF-8).
int32_t EffectStringHash(std::string_view utf8);

// "eventlog_6_<id with [^A-Za-z0-9_] -> _>", or "eventlog_6_hash_<h>" when that
// would exceed 63 characters. Throws ls::Error(22023) for an empty id or
// text that is not UTF-8.
std::string TableName(std::string_view store_id);

// The ids the client itself accepts: ^[a-zA-Z0-9_-]+$, at most
// kMaxStoreIdBytes. Throws ls::Error(22023 / 54000) otherwise.
void ValidateStoreId(std::string_view store_id);

}  // namespace ls
