// POST: append the batch through livestore.append(), with the writer's
// verified claims as livestore.claims in the same transaction. Every non-2xx
// makes the client retry the same batch later, so errors only need to be
// honest: 400 malformed, 409 behind the head (with the head), 422 refused by a
// hook (livestore.reject), 500 a hook failed, 503 database away.
#include <algorithm>
#include <cstring>

#include "gw/auth.h"
#include "gw/log.h"
#include "gw/push_payload.h"
#include "gw/push_reply.h"
#include "gw/routes.h"
#include "livestore/core/store_id.h"

namespace gw {
namespace {

// Wakes the live pulls of the store: this gateway's at once, other
// gateways' through the extension's wake-up ring (0.3.0+: the append's
// commit publishes it) or else through the announcer (after the reply,
// coalesced).
void Announce(Server& s, const std::string& store_id, int32_t head) {
  const std::string table = ls::TableName(store_id);
  s.waiters().Notify(table, head);
  if (!s.ring_wake()) s.announcer().Announce(store_id);
}

// Class 22 (bad data) and 54 (limits, e.g. nesting beyond Postgres's stack).
bool IsDataError(const std::string& state) { return state.rfind("22", 0) == 0 || state.rfind("54", 0) == 0; }

}  // namespace

MHD_Result HandlePush(Server& s, Request& r) {
  const char* type = MHD_lookup_connection_value(r.conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (type && std::strncmp(type, "application/json", 16) != 0 && std::strncmp(type, "text/plain", 10) != 0)
    return s.Reply(r, 415, PushErrorJson("content-type must be application/json", ""));

  PushPayload push;
  try {
    push = ParsePushPayload(r.body);
  } catch (const BadRequest& e) {
    return s.Reply(r, 400, PushErrorJson(e.what(), ""));
  } catch (const ls::Error& e) {
    return s.Reply(r, std::strcmp(e.sqlstate(), "54000") == 0 ? 413 : 400, PushErrorJson(e.what(), e.sqlstate()));
  }
  r.store_id = push.store_id;
  const Config& c = s.config();
  if (push.summary.count > static_cast<size_t>(c.max_batch_events))
    return s.Reply(r, 413, PushErrorJson("batch holds more than " + std::to_string(c.max_batch_events) + " events", "54000"));
  if (push.largest_event_bytes > c.max_event_bytes)
    return s.Reply(r, 413, PushErrorJson("an event is larger than " + std::to_string(c.max_event_bytes) + " bytes", "54000"));
  AuthResult auth = Authorize(s, r, Credentials{std::nullopt, QueryToken(c, r.conn)}, push.store_id, Access::kWrite);
  // 503 (keys still being fetched, the authorization function unreachable):
  // the client retries the same batch with backoff.
  if (!auth.ok)
    return s.Reply(r, auth.status, PushErrorJson(auth.message, ""),
                   auth.status == 503 ? Headers{{"Retry-After", "1"}} : Headers{});
  // The client retries a refused push with backoff, so 429 is safe here.
  double wait = s.push_store_limit().Take(push.store_id);
  if (s.push_ip_limit().enabled()) wait = std::max(wait, s.push_ip_limit().Take(Server::ClientAddress(r.conn)));
  if (wait > 0)
    return s.Reply(r, 429, PushErrorJson("too many pushes", ""), {{"Retry-After", std::to_string(static_cast<int>(wait) + 1)}});

  // A UTF-8 byte order mark is ignored, as the check above ignored it.
  const char* body = r.body.c_str();
  if (r.body.compare(0, 3, "\xEF\xBB\xBF") == 0) body += 3;
  const std::vector<const char*> params = {push.store_id.c_str(), body, auth.claims_json.c_str()};
  PgError err;
  bool created = false, retried = false;
  for (;;) {
    if (auto res = s.db().Exec(Stmt::kAppend, params, &err)) {
      s.metrics().PushEvents(push.summary.count);
      // The head includes what hooks emitted into this store; events they
      // emitted into other stores are NOTIFYed by the extension at commit.
      const std::string head = PQgetvalue(res->get(), 0, 0);
      Announce(s, push.store_id, std::atoi(head.c_str()));
      return s.Reply(r, 200, "{\"success\":true,\"head\":" + head + "}");
    }
    // A hook refused the batch (livestore.reject): final, nothing stored.
    // The stock client will still re-send it (doc section 7.3).
    if (err.sqlstate == "LS005") {
      s.metrics().PushRejected();
      LogInfo("push to store %s refused by a hook: %s%s%s", push.store_id.c_str(), err.message.c_str(),
              err.detail.empty() ? "" : " detail: ", err.detail.c_str());
      return s.Reply(r, 422, RejectedJson(err.message, err.detail));
    }
    // Anything else a hook raised is the server's fault, whatever its class
    // (a division by zero is not the client's bad data, an LS001 of another
    // store not its conflict). Only transient faults are retried first.
    if (err.raised_in_hook() && !err.connection_lost()) {
      if (!retried && (err.sqlstate == "40001" || err.sqlstate == "40P01")) {
        retried = true;
        continue;
      }
      s.metrics().PushHookError();
      LogError("push to store %s failed in a hook: %s %s%s%s (context: %s)", push.store_id.c_str(),
               err.sqlstate.c_str(), err.message.c_str(), err.detail.empty() ? "" : " detail: ", err.detail.c_str(),
               err.context.c_str());
      return s.Reply(r, 500, HookFailedJson(err.sqlstate));
    }
    if (err.sqlstate == "LS002" && !created) {  // first push to a new store
      created = true;
      const std::vector<const char*> id = {push.store_id.c_str()};
      PgError create_err;
      if (!s.db().Exec(Stmt::kCreateStore, id, &create_err)) err = create_err;
      else continue;
    }
    if (err.sqlstate == "LS001") {
      long head = -1;
      PgError head_err;
      const std::vector<const char*> id = {push.store_id.c_str()};
      if (auto h = s.db().Exec(Stmt::kHead, id, &head_err); h && !PQgetisnull(h->get(), 0, 0))
        head = std::strtol(PQgetvalue(h->get(), 0, 0), nullptr, 10);
      // A 409 always carries the head; if Postgres went away in between,
      // the client's retry later gets it.
      if (head < 0)
        return s.Reply(r, 503, PushErrorJson("database unavailable", head_err.sqlstate), {{"Retry-After", "1"}});
      return s.Reply(r, 409, PushErrorJson(err.message, err.sqlstate, head, err.detail));
    }
    if (IsDataError(err.sqlstate)) return s.Reply(r, 400, PushErrorJson(err.message, err.sqlstate));
    // A lost connection or a serialization failure: retry once. Retrying an
    // append that did commit is safe: an identical re-send succeeds.
    if (!retried && (err.connection_lost() || err.sqlstate == "40001" || err.sqlstate == "40P01")) {
      retried = true;
      continue;
    }
    break;
  }
  s.metrics().DatabaseError();
  LogError("push to store %s failed: %s %s", push.store_id.c_str(), err.sqlstate.c_str(), err.message.c_str());
  if (err.sqlstate == "57014") return s.Reply(r, 504, PushErrorJson("database statement timed out", err.sqlstate));
  if (err.sqlstate == "42501" || err.sqlstate.rfind("28", 0) == 0)
    return s.Reply(r, 403, PushErrorJson("the gateway's database role may not append", err.sqlstate));
  if (err.connection_lost() || err.sqlstate.rfind("53", 0) == 0 || err.sqlstate == "40001" ||
      err.sqlstate == "40P01")
    return s.Reply(r, 503, PushErrorJson("database unavailable", err.sqlstate), {{"Retry-After", "1"}});
  return s.Reply(r, 500, PushErrorJson("internal error", ""));
}

}  // namespace gw
