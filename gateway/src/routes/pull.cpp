// GET ?args=: the LiveStore pull. Decodes args (once), checks the token, then
// serves the pull from Postgres or hands it to the upstream Electric proxy.
#include "gw/auth.h"
#include "gw/offset.h"
#include "gw/pull_args.h"
#include "gw/routes.h"
#include "gw/shape_log.h"

namespace gw {

MHD_Result HandlePull(Server& s, Request& r) {
  if (r.pull) return ServeShapeLog(s, r);      // resumed long poll
  if (r.proxy) return HandleProxyPull(s, r);   // resumed upstream transfer

  const char* raw = MHD_lookup_connection_value(r.conn, MHD_GET_ARGUMENT_KIND, "args");
  if (raw == nullptr) return s.ReplyError(r, 400, "missing query parameter args");
  PullArgs args;
  try {
    args = ParsePullArgs(raw);
  } catch (const BadRequest& e) {
    return s.ReplyError(r, 400, e.what());
  }
  r.store_id = args.store_id;
  if (AuthResult auth = Authorize(s.config(), r, args.auth_token, args.store_id, Access::kRead); !auth.ok)
    return s.ReplyError(r, auth.status, auth.message);

  if (s.upstream()) return StartProxyPull(s, r, args);

  auto p = std::make_unique<PullState>();
  p->store_id = args.store_id;
  p->live = args.live;
  p->flag_offsets = true;
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
