// The built-in pull: a store's event log served as an Electric shape log,
// straight from Postgres (livestore.shape_page). One reader behind both
// front-ends: the LiveStore endpoint (GET ?args=, flagged offsets) and the
// Electric-compatible GET /v1/shape.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "gw/server.h"
#include "gw/shape_filter.h"
#include "gw/waiters.h"

namespace gw {

struct PullState {
  std::string store_id;
  std::string table, schema, handle;  // from the catalog once resolved
  std::string request_handle; // what the client sent, for fallbacks
  int32_t after = 0;          // serve events with seqNum > after
  bool initial = false;       // offset -1 / handle None: answer at once
  bool live = false;
  bool flagged_request = false;  // offset carried the flag: answer at once
  bool flag_offsets = false;     // LiveStore endpoint: flag offsets after events
  bool electric_caching = false; // /v1/shape: Electric's cache-control and etag
  std::string cursor;            // /v1/shape: the request's cursor
  std::string request_offset;    // as sent: for the etag (and the LiveStore endpoint's cursor)
  bool private_credentials = false;  // LiveStore endpoint: header/cookie credentials, never cached
  std::optional<ShapeFilter> filter;  // /v1/shape: `columns` and `where`
  bool refetch_on_new_handle = false; // /v1/shape: 409 when the client's handle is not the store's
  bool held = false;                  // waited for an append at least once
  Waiter waiter;
  bool resolved = false;
  bool rate_checked = false;     // --pull-rate-per-ip: slowed once at most
  bool slowed = false;
};

// Answers (or suspends) r, whose r.pull is filled in by the front-end.
MHD_Result ServeShapeLog(Server& s, Request& r);

// Electric's long-poll cursor (electric-shape-api.md section 9.2).
std::string NextCursor(int timeout_s, const std::string& previous, int64_t now_unix_s);

}  // namespace gw
