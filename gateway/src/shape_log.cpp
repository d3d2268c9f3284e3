#include "gw/shape_log.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <ctime>
#include <random>

#include "gw/answer_cache.h"
#include "gw/log.h"
#include "gw/offset.h"
#include "gw/page_cache.h"
#include "gw/page_read.h"
#include "gw/pull_cache.h"

namespace gw {
namespace {

constexpr const char* kUpToDate = "{\"headers\":{\"control\":\"up-to-date\"}}";
constexpr const char* kCommaUpToDate = ",{\"headers\":{\"control\":\"up-to-date\"}}";

// Pages are built in the gateway from the rows of livestore.events() (see
// gw/page_read.h) and shared between requests through gw::PageCache
// (gw/page_cache.h): full pages for good, head pages while no notification
// arrived, and one query for many identical requests at once. After a full
// page the next one is read ahead (gw/page_prefetch.h).

// A store's table, schema and handle never change while it exists: remember
// them (forgotten when a query says the store is gone; looked up again by a
// client's first pull, so that a store dropped and created again is seen).
class StoreCache {
 public:
  struct Entry {
    std::string table, schema, handle;
  };
  bool Get(const std::string& store, Entry* e) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(store);
    if (it == map_.end()) return false;
    *e = it->second;
    return true;
  }
  void Put(const std::string& store, Entry e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() > 100000) map_.clear();
    map_[store] = std::move(e);
  }
  void Forget(const std::string& store) {
    std::lock_guard<std::mutex> lock(mu_);
    map_.erase(store);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
};

StoreCache& Stores() {
  static StoreCache cache;
  return cache;
}

// Finds the store's table and handle, creating the store on first sight.
// A client's first pull asks the catalog (a cached page is keyed by the
// handle, so a stale handle would serve a dropped store's pages).
bool Resolve(Server& s, PullState& p, PgError* err) {
  StoreCache::Entry e;
  if (!p.initial && Stores().Get(p.store_id, &e)) {
    p.table = e.table, p.schema = e.schema, p.handle = e.handle;
    return p.resolved = true;
  }
  const std::vector<const char*> id = {p.store_id.c_str()};
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto res = s.db().Exec(Stmt::kStoreInfo, id, err);
    if (!res) return false;
    if (PQntuples(res->get()) == 1 && !PQgetisnull(res->get(), 0, 0)) {
      p.table = PQgetvalue(res->get(), 0, 0);
      p.schema = PQgetvalue(res->get(), 0, 1);
      p.handle = PQgetvalue(res->get(), 0, 3);
      p.resolved = true;
      Stores().Put(p.store_id, {p.table, p.schema, p.handle});
      return true;
    }
    if (!s.db().Exec(Stmt::kCreateStore, id, err)) return false;
  }
  *err = {"XX000", "store vanished while it was being created", "", ""};
  return false;
}

PageSource SourceOf(const PullState& p) { return {p.store_id, p.schema, p.table, p.handle}; }

// The page after p.after: from the page cache, from a concurrent identical
// request's (or a prefetch's) query, or read here.
std::shared_ptr<const Page> Query(Server& s, PullState& p, uint64_t seq, PgError* err) {
  const int page_events = s.config().page_events;
  const PageSource src = SourceOf(p);
  const std::string key = PageKey(src, p.after, page_events);
  PageCache& cache = PageCache::Shared();
  auto read = [&]() -> std::shared_ptr<Page> {
    s.metrics().PageQuery();
    auto page = std::make_shared<Page>();
    return ReadPage(s, src, p.after, page_events, page.get(), err) ? page : nullptr;
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    PageCache::Lookup got = cache.Find(key, seq);
    if (got.page) {
      s.metrics().PageCacheHit();
      return got.page;
    }
    if (!got.leader) {
      // Another request is building this page: wait for it (bounded), then
      // look again; if it failed or took too long, build it here.
      s.metrics().PageWait();
      if (got.flight->Wait(std::chrono::seconds(5))) continue;
      break;
    }
    std::shared_ptr<const Page> page = read();
    cache.Done(key, seq, got.flight, page, page && page->events >= page_events);
    return page;
  }
  return read();
}

// Electric's answer when the client's handle is not the shape's (the store
// was dropped and created again): start over from -1 with the new handle.
// With no handle when the store is gone (the client's -1 then gets 400).
MHD_Result MustRefetch(Server& s, Request& r) {
  Headers h;
  if (r.pull->handle.empty()) {
    h = {{"cache-control", "public, max-age=1, must-revalidate"}};
  } else {
    h = {{"electric-handle", r.pull->handle}, {"cache-control", "public, max-age=60, must-revalidate"}};
  }
  return s.Reply(r, 409, "[{\"headers\":{\"control\":\"must-refetch\"}}]", h, "application/json; charset=utf-8");
}

// After a held poll: is the store still the one the client's handle names?
// (Dropped and created again while the poll waited: Electric rotates the shape.)
bool SameStore(Server& s, PullState& p) {
  PgError err;
  auto res = s.db().Exec(Stmt::kStoreInfo, {p.store_id.c_str()}, &err);
  if (!res) return true;  // a transient fault: the page itself was just read
  const std::string now = PQgetisnull(res->get(), 0, 3) ? "" : PQgetvalue(res->get(), 0, 3);
  if (now == p.handle) return true;
  p.handle = now;
  Stores().Forget(p.store_id);
  return false;
}

// The key of r's answer in gw::AnswerCache, or "" when it is not shared: only
// live pulls of the LiveStore endpoint that are answered at once (their page
// has events, or their offset was flagged), never an expired poll's answer or
// one while the gateway stops. All the answer depends on besides the page is
// in the key.
std::string ShareKey(Server& s, Request& r) {
  const PullState& p = *r.pull;
  if (!p.flag_offsets || !p.live || p.initial || p.filter || p.electric_caching || p.refetch_on_new_handle ||
      p.waiter.expired || s.closing())
    return "";
  const char* origin = MHD_lookup_connection_value(r.conn, MHD_HEADER_KIND, "Origin");
  std::string key = PageKey(SourceOf(p), p.after, s.config().page_events);
  key += p.flagged_request ? "/f/" : "/w/";
  key += p.request_offset, key += p.private_credentials ? "/p/" : "/s/", key += p.cursor;
  if (origin != nullptr) key += "/o/", key += origin;
  return key;
}

// r's answer as another request built it (gw/answer_cache.h), if there is one.
bool QueueShared(Server& s, Request& r, const std::string& share, uint64_t seq, MHD_Result* ret) {
  if (share.empty()) return false;
  SharedResponse answer = AnswerCache::Shared().Find(share, seq);
  if (!answer) return false;
  s.metrics().AnswerShared();
  *ret = s.QueueComplete(r, 200, answer.get());
  return true;
}

// `share`: r's key in gw::AnswerCache ("" not shared), `seq` the notification
// count its page was read under.
MHD_Result Answer(Server& s, Request& r, std::shared_ptr<const Page> shared, bool transient_failure,
                  const std::string& share = "", uint64_t seq = 0) {
  PullState& p = *r.pull;
  const Page& page = *shared;
  const bool has_data = page.events > 0;  // offsets are log positions: filtered or not
  std::shared_ptr<const std::string> filtered;
  if (p.filter) filtered = std::make_shared<const std::string>(FilterShapeItems(*p.filter, page.items));
  const std::string& items = p.filter ? *filtered : page.items;
  std::string offset;
  if (transient_failure && p.initial) offset = "-1";  // the client simply starts again
  else if (p.flag_offsets && !has_data && p.live && !p.initial && !p.flagged_request && !s.closing())
    offset = CursorOffset(p.after, p.request_offset, s.config().long_poll_timeout_s, std::time(nullptr));
  else offset = FormatLogOffset(has_data ? page.last_seq : p.after);
  if (has_data && p.flag_offsets) offset = Flag(offset);
  const bool at_end = !has_data || page.events < s.config().page_events;
  const bool up_to_date = at_end && !p.initial;

  // The body is sent from the page itself (shared with the cache), no copy.
  std::string_view tail;
  if (up_to_date) tail = items.empty() ? std::string_view(kUpToDate) : std::string_view(kCommaUpToDate);

  const std::string handle = !p.handle.empty() ? p.handle : !p.request_handle.empty() ? p.request_handle : "pending";
  Headers h = {{"electric-handle", handle}, {"electric-offset", offset},
               {"electric-has-data", items.empty() ? "false" : "true"}};
  // Electric sends this header empty (only its presence matters: Electric's
  // client stops prefetching the next chunk on it); libmicrohttpd refuses
  // empty header values, so it carries "true".
  if (up_to_date) h.emplace_back("electric-up-to-date", "true");
  if (p.live) h.emplace_back("electric-cursor", NextCursor(s.config().long_poll_timeout_s, p.cursor, std::time(nullptr)));
  else h.emplace_back("electric-schema", ShapeSchemaHeader(p.filter ? p.filter->columns : kAllShapeColumns));
  if (p.electric_caching) {
    h.emplace_back("cache-control", p.initial ? "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746"
                                    : p.live  ? "public, max-age=5, stale-while-revalidate=5"
                                              : "public, max-age=60, stale-while-revalidate=300");
  } else {
    // LiveStore endpoint: see gw/pull_cache.h (the cursor rides in the offset).
    h.emplace_back("cache-control",
                   PullCacheControl({transient_failure || s.closing(), p.private_credentials, p.initial,
                                     page.events >= s.config().page_events, p.live}));
  }
  std::string etag = "\"" + handle + ":" + p.request_offset + ":" + offset;
  if (!has_data) etag += ":" + std::to_string(Clock::now().time_since_epoch().count());
  h.emplace_back("etag", etag + "\"");
  std::shared_ptr<const void> owner = p.filter ? std::shared_ptr<const void>(filtered) : std::move(shared);
  size_t bytes = 0;
  MHD_Response* resp =
      Server::BuildParts(std::move(owner), {"[", items, tail, "]"}, h, "application/json; charset=utf-8", &bytes);
  if (resp == nullptr) return MHD_NO;
  if (share.empty() || transient_failure) return s.Queue(r, 200, resp);
  s.Complete(r, resp);
  SharedResponse answer = ShareResponse(resp);
  AnswerCache::Shared().Put(share, seq, answer, bytes);
  s.metrics().AnswerBuilt();
  return s.QueueComplete(r, 200, answer.get());
}

}  // namespace

std::string NextCursor(int timeout_s, const std::string& previous, int64_t now_unix_s) {
  if (timeout_s <= 0) return "0";
  const int64_t epoch = 1728432000;  // 2024-10-09T00:00:00Z
  const int64_t d = now_unix_s - epoch;
  const int64_t next = (d + timeout_s - 1) / timeout_s * timeout_s;
  char* end = nullptr;
  long long prev = previous.empty() ? 0 : std::strtoll(previous.c_str(), &end, 10);
  if (!previous.empty() && (end == nullptr || *end != '\0')) prev = 0;
  if (next > prev) return std::to_string(next);
  thread_local std::mt19937 rng{std::random_device{}()};
  const int bump = std::uniform_int_distribution<int>(1, 3600)(rng);
  // prev may be as large as INT64_MAX (it comes from the client): add unsigned.
  if (prev >= 0) return std::to_string(static_cast<unsigned long long>(prev) + static_cast<unsigned>(bump));
  return std::to_string(prev + bump);
}

MHD_Result ServeShapeLog(Server& s, Request& r) {
  PullState& p = *r.pull;
  if (!p.rate_checked) {
    // Over the per-address pull rate: answer later, never refuse (a refused
    // pull ends the client's sync for the rest of its session).
    p.rate_checked = true;
    const double wait = s.pull_ip_limit().enabled() ? s.pull_ip_limit().Take(Server::ClientAddress(r.conn)) : 0;
    if (wait > 0) {
      p.slowed = true;
      p.waiter.conn = r.conn;
      p.waiter.table = "\x02slowed";
      p.waiter.deadline = Clock::now() + std::chrono::milliseconds(static_cast<int>(std::min(wait, 5.0) * 1000));
      if (s.waiters().Suspend(&p.waiter, s.waiters().Seq(p.waiter.table))) return MHD_YES;
    }
  }
  if (p.slowed) {
    p.slowed = false;
    p.waiter = Waiter{};
  }
  if (p.waiter.conn == nullptr) {
    p.waiter.conn = r.conn;
    p.waiter.deadline = r.start + std::chrono::seconds(s.config().long_poll_timeout_s);
  }
  for (;;) {
    // A pull is never answered with an error for a transient fault: the
    // client would stop syncing for the rest of its session. Hold it, retry
    // on every wake-up, and at the deadline answer an empty page at the
    // client's own position.
    PgError err;
    std::shared_ptr<const Page> page;
    uint64_t seq = 0;
    std::string share;
    MHD_Result shared;
    bool ok = p.resolved || Resolve(s, p, &err);
    if (ok) {
      if (p.refetch_on_new_handle && !p.initial && p.request_handle != p.handle) return MustRefetch(s, r);
      seq = s.waiters().Seq(p.table);  // before the query: see Waiters::Suspend
      share = ShareKey(s, r);
      if (QueueShared(s, r, share, seq, &shared)) return shared;
      ok = (page = Query(s, p, seq, &err)) != nullptr;
    }
    if (!ok) {
      s.metrics().DatabaseError();
      LogError("pull of store %s: %s %s", p.store_id.c_str(), err.sqlstate.c_str(), err.message.c_str());
      if (err.sqlstate == "LS002") {  // dropped meanwhile: recreate on retry
        p.resolved = false;
        Stores().Forget(p.store_id);
        if (p.refetch_on_new_handle) {  // /v1/shape: a read never creates a store
          p.handle.clear();
          return MustRefetch(s, r);
        }
      }
      if (p.waiter.expired || s.closing()) return Answer(s, r, std::make_shared<const Page>(), true);
      if (p.waiter.table.empty()) p.waiter.table = p.table.empty() ? "\x01unresolved" : p.table;
      // Woken by the deadline, or by the LISTEN thread once Postgres is back.
      if (s.waiters().Suspend(&p.waiter, s.waiters().Seq(p.waiter.table))) return MHD_YES;
      continue;
    }
    if (page->events > 0 && p.refetch_on_new_handle && p.held && !SameStore(s, p)) return MustRefetch(s, r);
    // A client catching up asks for the next page as soon as it has this
    // one: read it meanwhile (not for a poll that waited at the head).
    if (page->more && !p.held && page->events >= s.config().page_events && !s.closing())
      s.prefetcher().Request(SourceOf(p), page->last_seq, s.config().page_events);
    if (page->events > 0 || !p.live || p.initial || p.flagged_request || p.waiter.expired || s.closing()) {
      // Built meanwhile by a request that shared this one's page query?
      if (QueueShared(s, r, share, seq, &shared)) return shared;
      return Answer(s, r, std::move(page), false, share, seq);
    }
    p.waiter.table = p.table;
    p.waiter.after = p.after;
    p.held = true;
    if (s.waiters().Suspend(&p.waiter, seq)) return MHD_YES;
    // A notification arrived between the query and the suspend: query again.
  }
}

}  // namespace gw
