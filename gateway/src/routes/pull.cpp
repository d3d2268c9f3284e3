// GET ?args=: the LiveStore pull. Decodes args (once), checks the token, then
// serves the pull from Postgres or hands it to the upstream Electric proxy.
// A pull whose credentials cannot be decided now (signing keys still being
// fetched, the authorization function unreachable) is held and tried again,
// and at the long-poll deadline answered with an empty page at the client's
// own position: never a non-2xx for a transient fault.
#include <cstring>

#include "gw/auth.h"
#include "gw/offset.h"
#include "gw/pull_args.h"
#include "gw/routes.h"
#include "gw/shape_log.h"

namespace gw {
namespace {

// How often a held pull asks again when nothing wakes it (an outage of the
// authorization function's database).
constexpr auto kAuthRetry = std::chrono::seconds(1);

struct FindArgs {
  const char* args = nullptr;
};

// An endpoint configured with a query string (`/api/electric?token=T`) is
// pulled as `/api/electric?token=T?args=...` (the client appends `?args=`):
// the args are then the tail of another parameter's value.
MHD_Result ArgsInValue(void* cls, MHD_ValueKind, const char*, const char* value) {
  auto* f = static_cast<FindArgs*>(cls);
  if (value != nullptr) {
    if (const char* p = std::strstr(value, "?args=")) {
      f->args = p + 6;
      return MHD_NO;  // stop
    }
  }
  return MHD_YES;
}

const char* RawArgs(MHD_Connection* conn) {
  if (const char* raw = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "args")) return raw;
  FindArgs f;
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, &ArgsInValue, &f);
  return f.args;
}

MHD_Result EmptyPage(Server& s, Request& r, const PullArgs& args) {
  return s.Reply(r, 200, "[]",
                 {{"electric-handle", args.has_handle ? args.handle : "pending"},
                  {"electric-offset", args.has_handle ? std::string(Unflag(args.offset)) : "-1"},
                  {"electric-has-data", "false"},
                  {"cache-control", "no-store"}},
                 "application/json; charset=utf-8");
}

}  // namespace

MHD_Result HandlePull(Server& s, Request& r) {
  if (r.pull) return ServeShapeLog(s, r);      // resumed long poll
  if (r.proxy) return HandleProxyPull(s, r);   // resumed upstream transfer

  const char* raw = RawArgs(r.conn);
  if (raw == nullptr) return s.ReplyError(r, 400, "missing query parameter args");
  PullArgs args;
  try {
    args = ParsePullArgs(raw);
  } catch (const BadRequest& e) {
    return s.ReplyError(r, 400, e.what());
  }
  r.store_id = args.store_id;
  const Credentials creds{args.auth_token, QueryToken(s.config(), r.conn)};
  for (;;) {
    const uint64_t seq = s.waiters().Seq(kAuthWaitChannel);  // before deciding: see Waiters::Suspend
    AuthResult auth = Authorize(s, r, creds, args.store_id, Access::kRead);
    if (auth.ok) break;
    if (!auth.pending) return s.ReplyError(r, auth.status, auth.message);
    Waiter& w = r.auth_wait;
    const auto deadline = r.start + std::chrono::seconds(s.config().long_poll_timeout_s);
    if (Clock::now() >= deadline || s.closing()) return EmptyPage(s, r, args);
    w.conn = r.conn;
    w.table = kAuthWaitChannel;
    w.deadline = std::min(deadline, Clock::now() + kAuthRetry);
    w.expired = false;
    if (s.waiters().Suspend(&w, seq)) return MHD_YES;  // woken by new keys, the retry timer or shutdown
  }
  r.auth_wait = Waiter{};

  if (s.upstream()) return StartProxyPull(s, r, args);

  auto p = std::make_unique<PullState>();
  p->store_id = args.store_id;
  p->live = args.live;
  p->flag_offsets = true;
  p->request_offset = args.has_handle ? args.offset : "-1";
  p->private_credentials = CredentialsOutsideUrl(s, r.conn);
  if (!args.has_handle) {
    p->initial = true;
  } else {
    p->request_handle = args.handle;
    p->flagged_request = IsFlagged(args.offset);
    std::string_view plain = Unflag(args.offset);
    auto after = ParseLogOffset(plain);
    if (!after) return s.ReplyError(r, 400, "args: offset '" + args.offset + "' was not issued by this gateway");
    p->after = *after;
    p->initial = plain == "-1";
  }
  r.pull = std::move(p);
  return ServeShapeLog(s, r);
}

}  // namespace gw
