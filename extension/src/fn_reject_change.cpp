// Trigger behind every event table: UPDATE, DELETE and TRUNCATE would change
// events that clients have already synced, which the protocol cannot express.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "commands/trigger.h"
#include "utils/rel.h"
}
#include "livestore/pg/raise.h"

extern "C" {

PG_FUNCTION_INFO_V1(ls_reject_change);
Datum ls_reject_change(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("livestore._reject_change() must be called as a trigger")));
  TriggerData* td = (TriggerData*)fcinfo->context;
  const char* op = TRIGGER_FIRED_BY_UPDATE(td->tg_event)   ? "UPDATE"
                   : TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE"
                                                            : "TRUNCATE";
  ereport(ERROR, (errcode(LS_ERRCODE_APPEND_ONLY),
                  errmsg("%s on LiveStore event log \"%s\" is not allowed", op,
                         RelationGetRelationName(td->tg_relation)),
                  errdetail("Event logs are append-only: clients have already synced these events."),
                  errhint("Use livestore.drop_store() to remove a store's whole log.")));
  PG_RETURN_NULL();
}

}  // extern "C"
