extern "C" {
#include "postgres.h"
}
#include "livestore/pg/raise.h"

void ls_raise(const LsErrorSlot* err) {
  const char* s = err->sqlstate;
  ereport(ERROR, (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])), errmsg("%s", err->message)));
  pg_unreachable();
}
