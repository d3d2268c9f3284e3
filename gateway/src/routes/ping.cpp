// HEAD: the client stops pinging (and pushing) for good after one failed
// ping, so this answers 200 whenever the process is alive, without asking
// Postgres or Electric.
#include "gw/routes.h"

namespace gw {

MHD_Result HandlePing(Server& s, Request& r) { return s.Reply(r, 200, ""); }

}  // namespace gw
