// One handler per route (gateway/src/routes/). Each is called once the
// request body is complete, and again after its connection is resumed.
#pragma once
#include "gw/pull_args.h"
#include "gw/server.h"

namespace gw {

MHD_Result HandlePing(Server& s, Request& r);
MHD_Result HandlePush(Server& s, Request& r);
MHD_Result HandlePull(Server& s, Request& r);         // built in or proxied
MHD_Result HandleBuiltinPull(Server& s, Request& r);
MHD_Result StartProxyPull(Server& s, Request& r, const PullArgs& args);
MHD_Result HandleProxyPull(Server& s, Request& r);     // after a resume
MHD_Result HandleShape(Server& s, Request& r);        // Electric-compatible /v1/shape
MHD_Result HandleHealth(Server& s, Request& r);
MHD_Result HandleMetrics(Server& s, Request& r);

}  // namespace gw
