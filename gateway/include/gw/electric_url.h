// The upstream shape URL, exactly as the reference proxy's makeElectricUrl
// builds it (livestore-sync-protocol.md section 5.3).
#pragma once
#include <string>

#include "gw/pull_args.h"

namespace gw {

struct ElectricTarget {
  std::string base_url;  // e.g. http://electric:3000 (no trailing /v1/shape)
  std::string secret;    // sent as api_secret, never taken from the client
  std::string source_id, source_secret;  // Electric Cloud, optional
};

std::string PercentEncode(std::string_view in);

// The shape URL without its position (table, credentials): what every request
// for this store's shape shares; ShapePosition appends the rest.
std::string ShapeBaseUrl(const ElectricTarget& target, const std::string& table);
// "-1" (or no handle): a fresh request (no handle, no live).
std::string ShapePosition(bool has_handle, const std::string& handle, std::string_view offset, bool live);

// `offset` is the client's offset with any LiveStore flag already removed.
// A "-1" offset is sent as a fresh request (no handle, no live), as Electric
// rejects live=true at -1.
std::string MakeElectricUrl(const ElectricTarget& target, const std::string& table,
                            const PullArgs& args, std::string_view offset);

}  // namespace gw
