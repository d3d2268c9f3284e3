// livestore.append(store_id text, batch jsonb) returns integer.
//
// The batch is checked in the core zone first (shape, types, chain), then one
// statement advances the store's head row from the batch's parent to its last
// seqNum and inserts the rows. The head row's lock serializes appends to one
// store (READ COMMITTED re-checks "head = parent" after waiting), so there is
// exactly one winner per parent and no gap; other stores are not touched.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/batch_fields.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/settings.h"

#define LS_NOTIFY_CHANNEL "livestore_events"

namespace {

// Per-backend cache of the two statements that name a store's table. The
// plans name the table by schema and name, which the plan cache resolves
// again after DDL; so when the table itself goes (drop_store, or a store
// created again elsewhere), the entry is marked stale and rebuilt from the
// catalog, which then also reports a dropped store as LS002.
struct StorePlans {
  char table_name[64];  // hash key
  char schema_name[NAMEDATALEN];
  Oid relid;            // the log table when the plans were made
  bool stale;           // set by the relcache callback
  SPIPlanPtr append;    // ($1 parent, $2 last seq, $3 batch, $4 table name) -> rows inserted
  SPIPlanPtr same;      // ($1 batch) -> how many batch events are stored identically
};

HTAB* g_plans = nullptr;
SPIPlanPtr g_lookup = nullptr;  // ($1 table name) -> schema_name, head

// Relcache invalidation callback (InvalidOid: all relations). It must not
// fail, so it only marks entries; PlansFor rebuilds them.
void MarkPlansStale(Datum, Oid relid) {
  HASH_SEQ_STATUS it;
  hash_seq_init(&it, g_plans);
  for (StorePlans* p; (p = (StorePlans*)hash_seq_search(&it)) != nullptr;)
    if (relid == InvalidOid || p->relid == relid) p->stale = true;
}

SPIPlanPtr Prepare(const char* sql, int nargs, Oid* types) {
  // Always the generic plan: a custom plan per call would plan the append's
  // UPDATE + INSERT anew every time (the plan cache keeps choosing custom
  // plans when their estimated cost is no worse).
  SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
  if (plan == nullptr)
    elog(ERROR, "livestore: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0) elog(ERROR, "livestore: SPI_keepplan failed");
  return plan;
}

// Looks the store up in livestore.stores; false when it does not exist.
bool LookupStore(const char* table_name, char* schema_out, int32* head_out) {
  if (g_lookup == nullptr) {
    Oid types[1] = {TEXTOID};
    g_lookup = Prepare("SELECT s.schema_name, s.head FROM livestore.stores s "
                       "WHERE s.table_name OPERATOR(pg_catalog.=) $1",
                       1, types);
  }
  Datum args[1] = {CStringGetTextDatum(table_name)};
  int rc = SPI_execute_plan(g_lookup, args, nullptr, false, 1);
  if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: store lookup failed: %s", SPI_result_code_string(rc));
  if (SPI_processed == 0) return false;
  bool isnull = false;
  char* schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  strlcpy(schema_out, schema, NAMEDATALEN);
  *head_out = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
  return true;
}

pg_attribute_noreturn() void RaiseUnknownStore(const char* store_id) {
  ereport(ERROR, (errcode(LS_ERRCODE_UNKNOWN_STORE), errmsg("store \"%s\" does not exist", store_id),
                  errhint("Create it first with livestore.create_store().")));
  pg_unreachable();
}

void ForgetPlans(const char* table_name) {
  if (g_plans == nullptr) return;
  StorePlans* p = (StorePlans*)hash_search(g_plans, table_name, HASH_FIND, nullptr);
  if (p == nullptr) return;
  SPIPlanPtr append = p->append, same = p->same;
  hash_search(g_plans, table_name, HASH_REMOVE, nullptr);
  SPI_freeplan(append);
  SPI_freeplan(same);
}

StorePlans* PlansFor(const char* table_name, const char* store_id) {
  if (g_plans == nullptr) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = 64;
    ctl.entrysize = sizeof(StorePlans);
    ctl.hcxt = TopMemoryContext;
    g_plans = hash_create("livestore append plans", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
    CacheRegisterRelcacheCallback(MarkPlansStale, (Datum)0);
  }
  AcceptInvalidationMessages();  // a drop committed since this transaction began
  bool found = false;
  StorePlans* p = (StorePlans*)hash_search(g_plans, table_name, HASH_FIND, &found);
  if (p != nullptr && !p->stale) return p;
  if (p != nullptr) ForgetPlans(table_name);

  char schema[NAMEDATALEN];
  int32 head = 0;
  if (!LookupStore(table_name, schema, &head)) RaiseUnknownStore(store_id);

  const char* qualified = quote_qualified_identifier(schema, table_name);
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   "WITH h AS (UPDATE livestore.stores s SET head = $2 "
                   "WHERE s.table_name OPERATOR(pg_catalog.=) $4 AND s.head OPERATOR(pg_catalog.=) $1 "
                   "RETURNING 1) "
                   "INSERT INTO %s (\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\") "
                   "SELECT x.\"seqNum\", x.\"parentSeqNum\", x.name, "
                   "COALESCE(x.args, 'null'::pg_catalog.jsonb), x.\"clientId\", x.\"sessionId\" "
                   "FROM pg_catalog.jsonb_to_recordset($3) AS x(\"seqNum\" pg_catalog.int4, "
                   "\"parentSeqNum\" pg_catalog.int4, name pg_catalog.text, args pg_catalog.jsonb, "
                   "\"clientId\" pg_catalog.text, \"sessionId\" pg_catalog.text) "
                   "WHERE EXISTS (SELECT 1 FROM h)",
                   qualified);
  Oid append_types[4] = {INT4OID, INT4OID, JSONBOID, TEXTOID};
  SPIPlanPtr append = Prepare(sql.data, 4, append_types);

  resetStringInfo(&sql);
  appendStringInfo(&sql,
                   "SELECT pg_catalog.count(*)::pg_catalog.int4 "
                   "FROM pg_catalog.jsonb_to_recordset($1) AS x(\"seqNum\" pg_catalog.int4, "
                   "\"parentSeqNum\" pg_catalog.int4, name pg_catalog.text, args pg_catalog.jsonb, "
                   "\"clientId\" pg_catalog.text, \"sessionId\" pg_catalog.text) "
                   "JOIN %s t ON t.\"seqNum\" OPERATOR(pg_catalog.=) x.\"seqNum\" "
                   "WHERE t.\"parentSeqNum\" IS NOT DISTINCT FROM x.\"parentSeqNum\" "
                   "AND t.name OPERATOR(pg_catalog.=) x.name "
                   "AND t.args OPERATOR(pg_catalog.=) COALESCE(x.args, 'null'::pg_catalog.jsonb) "
                   "AND t.\"clientId\" OPERATOR(pg_catalog.=) x.\"clientId\" "
                   "AND t.\"sessionId\" OPERATOR(pg_catalog.=) x.\"sessionId\"",
                   qualified);
  Oid same_types[1] = {JSONBOID};
  SPIPlanPtr same = Prepare(sql.data, 1, same_types);

  Oid nsp = get_namespace_oid(schema, true);
  p = (StorePlans*)hash_search(g_plans, table_name, HASH_ENTER, &found);
  strlcpy(p->schema_name, schema, NAMEDATALEN);
  p->relid = OidIsValid(nsp) ? get_relname_relid(table_name, nsp) : InvalidOid;
  p->stale = false;
  p->append = append;
  p->same = same;
  return p;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(ls_append);
Datum ls_append(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store id must not be NULL")));
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("batch must not be NULL")));

  text* id = PG_GETARG_TEXT_PP(0);
  Jsonb* batch = PG_GETARG_JSONB_P(1);
  char* store_id = text_to_cstring(id);
  LsErrorSlot err;
  char table_name[64];
  if (!ls_core_check_store_id(store_id, strlen(store_id), &err)) ls_raise(&err);
  if (!ls_core_table_name(store_id, strlen(store_id), table_name, &err)) ls_raise(&err);

  char* json = ls_batch_fields_json(batch);
  LsBatchInfo info;
  if (!ls_core_check_batch(json, strlen(json), &info, &err)) ls_raise(&err);
  pfree(json);

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
  StorePlans* plans = PlansFor(table_name, store_id);

  Datum args[4] = {Int32GetDatum(info.first_parent), Int32GetDatum(info.last_seq),
                   JsonbPGetDatum(batch), CStringGetTextDatum(table_name)};
  int rc = SPI_execute_plan(plans->append, args, nullptr, false, 0);
  if (rc != SPI_OK_INSERT) elog(ERROR, "livestore: append failed: %s", SPI_result_code_string(rc));

  int32 head = info.last_seq;
  if (SPI_processed == 0) {
    // The head was not the batch's parent. Either the client re-sent a batch
    // that is already stored (its acknowledgement was lost), or it is behind
    // (or ahead) and must pull first.
    char schema[NAMEDATALEN];
    if (!LookupStore(table_name, schema, &head)) {
      ForgetPlans(table_name);
      RaiseUnknownStore(store_id);
    }
    bool resent = false;
    if (info.last_seq <= head) {
      Datum same_args[1] = {JsonbPGetDatum(batch)};
      // read_only = false: a fresh snapshot, so that a batch committed by the
      // transaction this append waited for counts as stored.
      rc = SPI_execute_plan(plans->same, same_args, nullptr, false, 1);
      if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: re-send check failed: %s", SPI_result_code_string(rc));
      bool isnull = false;
      int32 same = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
      resent = (same == info.count);
    }
    if (!resent)
      ereport(ERROR,
              (errcode(LS_ERRCODE_STALE_HEAD),
               errmsg("batch does not extend the head of store \"%s\"", store_id),
               errdetail("The store's head is %d; the batch's first parentSeqNum is %d.", head,
                         info.first_parent),
               errhint("Pull the events after %d, then rebase the batch onto them.", head)));
  } else if (SPI_processed != (uint64)info.count) {
    elog(ERROR, "livestore: appended " UINT64_FORMAT " rows of a %d-event batch", SPI_processed, info.count);
  } else if (ls_notify_on_append) {
    // Delivered at commit, folded with identical payloads of the same transaction.
    char payload[512];  // table <= 63, store id <= 256 bytes
    snprintf(payload, sizeof payload, "{\"table\":\"%s\",\"store\":\"%s\",\"head\":%d}", table_name,
             store_id, head);
    Async_Notify(LS_NOTIFY_CHANNEL, payload);
  }
  SPI_finish();
  PG_RETURN_INT32(head);
}

}  // extern "C"
