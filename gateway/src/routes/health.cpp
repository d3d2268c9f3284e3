// GET /healthz: ready only when Postgres answers. GET /metrics: Prometheus.
#include "gw/routes.h"
#include "gw/upstream.h"

namespace gw {

MHD_Result HandleHealth(Server& s, Request& r) {
  PgError err;
  if (!s.db().Exec(Stmt::kPing, {}, &err))
    return s.Reply(r, 503, "{\"status\":\"unavailable\",\"database\":\"down\"}", {{"Retry-After", "1"}});
  return s.Reply(r, 200, "{\"status\":\"ok\"}");
}

MHD_Result HandleMetrics(Server& s, Request& r) {
  size_t held = s.waiters().size() + (s.upstream() ? s.upstream()->waiting() : 0);
  size_t upstream_open = s.upstream() ? s.upstream()->open() : 0;
  return s.Reply(r, 200, s.metrics().Render(held, upstream_open), {}, "text/plain; version=0.0.4");
}

}  // namespace gw
