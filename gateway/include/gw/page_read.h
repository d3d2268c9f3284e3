// One page of a store's log read from Postgres (livestore.events()) and
// encoded as Electric insert messages (gw/shape_encode.h): what a pull builds
// when the page cache (gw/page_cache.h) has no copy, and what a prefetch
// (gw/page_prefetch.h) builds ahead. Both key the cache with PageKey.
#pragma once
#include <cstdint>
#include <string>

#include "gw/page_cache.h"
#include "gw/pg.h"

namespace gw {

class Server;

// Which store's log: the id for livestore.events(), the table and handle
// for the cache key (a store dropped and created again keeps its table but
// gets a new handle), the schema and table for the messages' relation.
struct PageSource {
  std::string store_id, schema, table, handle;
};

// The cache key of the page of `page_events` events after seqNum `after`.
std::string PageKey(const PageSource& src, int32_t after, int page_events);

// Reads the events after `after` on the calling thread's connection: at most
// `page_events`, plus one to learn whether the log goes on (page->more).
bool ReadPage(Server& s, const PageSource& src, int32_t after, int page_events, Page* page, PgError* err);

}  // namespace gw
