// Trigger on livestore.hooks: every backend re-reads its cached hooks when a
// change commits (a relcache invalidation of the table, see pg/hooks.cpp).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/rel.h"
}

extern "C" {

PG_FUNCTION_INFO_V1(ls_hooks_changed);
Datum ls_hooks_changed(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("livestore._hooks_changed() must be called as a trigger")));
  CacheInvalidateRelcacheByRelid(RelationGetRelid(((TriggerData*)fcinfo->context)->tg_relation));
  return PointerGetDatum(nullptr);  // a statement trigger's result is ignored, but must not be NULL

}

}  // extern "C"
