// Per-backend cache of the statements that name a store's table. The plans
// name the table by schema and name, which the plan cache resolves again
// after DDL; so when the table itself goes (drop_store, or a store created
// again elsewhere), the entry is marked stale and rebuilt from the catalog,
// which then also reports a dropped store as LS002.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/store_plans.h"

namespace {

HTAB* g_plans = nullptr;
SPIPlanPtr g_lookup = nullptr;  // ($1 table name) -> schema_name, head

// Relcache invalidation callback (InvalidOid: all relations). It must not
// fail, so it only marks entries; ls_plans_for rebuilds them.
void MarkPlansStale(Datum, Oid relid) {
  HASH_SEQ_STATUS it;
  hash_seq_init(&it, g_plans);
  for (StorePlans* p; (p = (StorePlans*)hash_seq_search(&it)) != nullptr;)
    if (relid == InvalidOid || p->relid == relid) p->stale = true;
}

const char* const kRecordColumns =
    "AS x(\"seqNum\" pg_catalog.int4, \"parentSeqNum\" pg_catalog.int4, name pg_catalog.text, "
    "args pg_catalog.jsonb, \"clientId\" pg_catalog.text, \"sessionId\" pg_catalog.text)";

}  // namespace

SPIPlanPtr ls_prepare_kept(const char* sql, int nargs, Oid* types) {
  // Always the generic plan: a custom plan per call would plan the append's
  // UPDATE + INSERT anew every time (the plan cache keeps choosing custom
  // plans when their estimated cost is no worse).
  SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
  if (plan == nullptr)
    elog(ERROR, "livestore: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0) elog(ERROR, "livestore: SPI_keepplan failed");
  return plan;
}

bool ls_lookup_store(const char* table_name, char* schema_out, int32* head_out) {
  if (g_lookup == nullptr) {
    Oid types[1] = {TEXTOID};
    g_lookup = ls_prepare_kept("SELECT s.schema_name, s.head FROM livestore.stores s "
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

void ls_raise_unknown_store(const char* store_id) {
  ereport(ERROR, (errcode(LS_ERRCODE_UNKNOWN_STORE), errmsg("store \"%s\" does not exist", store_id),
                  errhint("Create it first with livestore.create_store().")));
  pg_unreachable();
}

void ls_forget_plans(const char* table_name) {
  if (g_plans == nullptr) return;
  StorePlans* p = (StorePlans*)hash_search(g_plans, table_name, HASH_FIND, nullptr);
  if (p == nullptr) return;
  SPIPlanPtr append = p->append, same = p->same, stored = p->stored, emit = p->emit;
  hash_search(g_plans, table_name, HASH_REMOVE, nullptr);
  SPI_freeplan(append);
  SPI_freeplan(same);
  if (stored != nullptr) SPI_freeplan(stored);
  if (emit != nullptr) SPI_freeplan(emit);
}

StorePlans* ls_plans_for(const char* table_name, const char* store_id) {
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
  if (p != nullptr) ls_forget_plans(table_name);

  char schema[NAMEDATALEN];
  int32 head = 0;
  if (!ls_lookup_store(table_name, schema, &head)) ls_raise_unknown_store(store_id);

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
                   "FROM pg_catalog.jsonb_to_recordset($3) %s "
                   "WHERE EXISTS (SELECT 1 FROM h)",
                   qualified, kRecordColumns);
  Oid append_types[4] = {INT4OID, INT4OID, JSONBOID, TEXTOID};
  SPIPlanPtr append = ls_prepare_kept(sql.data, 4, append_types);

  resetStringInfo(&sql);
  appendStringInfo(&sql,
                   "SELECT pg_catalog.count(*)::pg_catalog.int4 "
                   "FROM pg_catalog.jsonb_to_recordset($1) %s "
                   "JOIN %s t ON t.\"seqNum\" OPERATOR(pg_catalog.=) x.\"seqNum\" "
                   "WHERE t.\"parentSeqNum\" IS NOT DISTINCT FROM x.\"parentSeqNum\" "
                   "AND t.name OPERATOR(pg_catalog.=) x.name "
                   "AND t.args OPERATOR(pg_catalog.=) COALESCE(x.args, 'null'::pg_catalog.jsonb) "
                   "AND t.\"clientId\" OPERATOR(pg_catalog.=) x.\"clientId\" "
                   "AND t.\"sessionId\" OPERATOR(pg_catalog.=) x.\"sessionId\"",
                   kRecordColumns, qualified);
  Oid same_types[1] = {JSONBOID};
  SPIPlanPtr same = ls_prepare_kept(sql.data, 1, same_types);

  Oid nsp = get_namespace_oid(schema, true);
  p = (StorePlans*)hash_search(g_plans, table_name, HASH_ENTER, &found);
  strlcpy(p->schema_name, schema, NAMEDATALEN);
  p->relid = OidIsValid(nsp) ? get_relname_relid(table_name, nsp) : InvalidOid;
  p->stale = false;
  p->append = append;
  p->same = same;
  p->stored = nullptr;
  p->emit = nullptr;
  return p;
}

uint64 ls_emit_rows(StorePlans* plans, const char* table_name, int32 head, int32 count, Datum events) {
  if (plans->emit == nullptr) {
    // Straight from the array's elements: no numbered copy of the batch is
    // built first (that cost more than the insert itself).
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(
        &sql,
        "WITH h AS (UPDATE livestore.stores s SET head = $2 "
        "WHERE s.table_name OPERATOR(pg_catalog.=) $4 AND s.head OPERATOR(pg_catalog.=) $1 RETURNING 1) "
        "INSERT INTO %s (\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\") "
        "SELECT $1 OPERATOR(pg_catalog.+) t.o::pg_catalog.int4, "
        "$1 OPERATOR(pg_catalog.+) t.o::pg_catalog.int4 OPERATOR(pg_catalog.-) 1, "
        "t.e OPERATOR(pg_catalog.->>) 'name', "
        "COALESCE(t.e OPERATOR(pg_catalog.->) 'args', 'null'::pg_catalog.jsonb), "
        "COALESCE(t.e OPERATOR(pg_catalog.->>) 'clientId', '" LS_SERVER_IDENTITY "'), "
        "COALESCE(t.e OPERATOR(pg_catalog.->>) 'sessionId', '" LS_SERVER_IDENTITY "') "
        "FROM pg_catalog.jsonb_array_elements($3) WITH ORDINALITY AS t(e, o) "
        "WHERE EXISTS (SELECT 1 FROM h)",
        quote_qualified_identifier(plans->schema_name, plans->table_name));
    Oid types[4] = {INT4OID, INT4OID, JSONBOID, TEXTOID};
    plans->emit = ls_prepare_kept(sql.data, 4, types);
  }
  Datum args[4] = {Int32GetDatum(head), Int32GetDatum(head + count), events, CStringGetTextDatum(table_name)};
  int rc = SPI_execute_plan(plans->emit, args, nullptr, false, 0);
  if (rc != SPI_OK_INSERT) elog(ERROR, "livestore: emit failed: %s", SPI_result_code_string(rc));
  return SPI_processed;
}

Datum ls_stored_events(StorePlans* plans, int32 first_seq, int32 last_seq) {
  if (plans->stored == nullptr) {
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql,
                     "SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e) ORDER BY e.\"seqNum\") FROM %s e "
                     "WHERE e.\"seqNum\" OPERATOR(pg_catalog.>=) $1 AND e.\"seqNum\" OPERATOR(pg_catalog.<=) $2",
                     quote_qualified_identifier(plans->schema_name, plans->table_name));
    Oid types[2] = {INT4OID, INT4OID};
    plans->stored = ls_prepare_kept(sql.data, 2, types);
  }
  Datum args[2] = {Int32GetDatum(first_seq), Int32GetDatum(last_seq)};
  int rc = SPI_execute_plan(plans->stored, args, nullptr, false, 1);
  if (rc != SPI_OK_SELECT || SPI_processed != 1)
    elog(ERROR, "livestore: reading the written batch failed: %s", SPI_result_code_string(rc));
  bool isnull = false;
  Datum events = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
  if (isnull) elog(ERROR, "livestore: the written batch %d..%d is not in the log", first_seq, last_seq);
  return datumCopy(events, false, -1);
}
