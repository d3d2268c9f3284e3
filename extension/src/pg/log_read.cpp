// events()'s read of a store's log: a forward scan of the log's "seqNum"
// primary key from `after`, under the calling statement's snapshot, each row
// put into the result's tuplestore as it comes (memory: the tuplestore,
// which spills past work_mem, plus one row), as it is on the page when the
// log's columns are the result's. No executor, no plan: the PL/pgSQL
// version (0.3.0) planned a SELECT at every call (RETURN QUERY EXECUTE) and
// formed every row anew; this one costs the backend 0.8-0.9x of it per
// 1,000-event page, text output included; a plain SELECT of the same rows
// costs about 0.8x of this one (the result's tuplestore is most of the
// difference: bench/sql/events_calls.sh).
// A log without such a key, whose columns were
// changed after it was adopted, or with row-level security enabled, is read
// with a plain SELECT instead.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "access/detoast.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}
#include "livestore/pg/log_read.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/store_plans.h"

namespace {

constexpr int kColumns = 6;
const char* const kNames[kColumns] = {"seqNum", "parentSeqNum", "name", "args", "clientId", "sessionId"};

// The log's table and primary key as cached for the store (made on first
// use, dropped when the table goes). A store whose log was dropped (and
// perhaps created again) since it was cached is looked up again once.
StorePlans* FindStore(const char* store_id, const char* table_name) {
  for (int attempt = 0;; ++attempt) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
    StorePlans* p = ls_plans_try(table_name);
    SPI_finish();
    // Not ls_raise_unknown_store: the message events() always had, no hint.
    if (p == nullptr)
      ereport(ERROR, (errcode(LS_ERRCODE_UNKNOWN_STORE), errmsg("store \"%s\" does not exist", store_id)));
    // The lock then keeps the log until the transaction ends.
    if (ls_lock_log(p, AccessShareLock)) return p;
    UnlockRelationOid(p->relid, AccessShareLock);
    ls_forget_plans(table_name);
    if (attempt > 0)
      ereport(ERROR, (errcode(LS_ERRCODE_UNKNOWN_STORE), errmsg("store \"%s\" does not exist", store_id)));
  }
}

// Where each result column is in the log's rows: the columns events()
// returns, by name and type, in the table's order (dropped columns aside),
// as create_store() checks them when it adopts a table. False otherwise.
bool MapColumns(TupleDesc table, TupleDesc result, AttrNumber* attnos) {
  int n = 0;
  for (int i = 0; i < table->natts; ++i) {
    Form_pg_attribute a = TupleDescAttr(table, i);
    if (a->attisdropped) continue;
    if (n == kColumns) return false;
    Form_pg_attribute r = TupleDescAttr(result, n);
    if (a->atttypid != r->atttypid || strcmp(NameStr(a->attname), kNames[n]) != 0) return false;
    attnos[n++] = a->attnum;
  }
  return n == kColumns && result->natts == kColumns;
}

// The scan itself. False (nothing read) when the key or the columns are not
// as expected: then the caller reads with SQL.
bool ScanKeyRange(StorePlans* p, int32 after, int32 max_events, Tuplestorestate* out, TupleDesc desc) {
  Relation idx = ls_open_seq_key(p);
  if (idx == nullptr) return false;
  Relation rel = table_open(p->relid, NoLock);  // FindStore holds it
  AttrNumber attnos[kColumns];
  // Row-level security on an adopted log: the SQL read applies its policies.
  if (rel->rd_rel->relrowsecurity || !MapColumns(RelationGetDescr(rel), desc, attnos)) {
    table_close(rel, NoLock);
    relation_close(idx, AccessShareLock);
    return false;
  }
  ScanKeyData key;
  ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT4GT, Int32GetDatum(after));
  IndexScanDesc scan = index_beginscan(rel, idx, GetActiveSnapshot(), 1, 0);
  index_rescan(scan, &key, 1, nullptr, 0);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  // Detoasted values live for one row only.
  MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "livestore events row", ALLOCSET_SMALL_SIZES);
  Datum values[kColumns];
  bool nulls[kColumns];
  // The log's rows have the result's layout when its columns are exactly
  // those six (none dropped): then a row is copied as it is on the page,
  // not taken apart and formed again.
  const bool same_layout = RelationGetDescr(rel)->natts == kColumns;
  for (int32 n = 0; n < max_events && index_getnext_slot(scan, ForwardScanDirection, slot); ++n) {
    CHECK_FOR_INTERRUPTS();
    if (same_layout) {
      bool should_free = false;
      HeapTuple tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
      // Not a row written before a column was added (fewer attributes), nor
      // one with values out of line (fetched below).
      if (HeapTupleHeaderGetNatts(tuple->t_data) == kColumns && !HeapTupleHasExternal(tuple)) {
        tuplestore_puttuple(out, tuple);
        if (should_free) heap_freetuple(tuple);
        continue;
      }
      if (should_free) heap_freetuple(tuple);
    }
    slot_getallattrs(slot);
    MemoryContext caller = MemoryContextSwitchTo(row_cxt);
    for (int c = 0; c < kColumns; ++c) {
      values[c] = slot->tts_values[attnos[c] - 1];
      nulls[c] = slot->tts_isnull[attnos[c] - 1];
      // A value kept out of line (a large "args") is fetched now, under this
      // snapshot, not left as a pointer into the TOAST table.
      if (!nulls[c] && TupleDescAttr(desc, c)->attlen == -1 && VARATT_IS_EXTERNAL(DatumGetPointer(values[c])))
        values[c] = PointerGetDatum(detoast_external_attr((struct varlena*)DatumGetPointer(values[c])));
    }
    MemoryContextSwitchTo(caller);
    tuplestore_putvalues(out, desc, values, nulls);
    MemoryContextReset(row_cxt);
  }
  MemoryContextDelete(row_cxt);
  ExecDropSingleTupleTableSlot(slot);
  index_endscan(scan);
  table_close(rel, NoLock);
  index_close(idx, NoLock);
  return true;
}

// The same rows through SQL, for a log the scan does not read.
void SelectRange(StorePlans* p, int32 after, int32 max_events, Tuplestorestate* out, TupleDesc desc) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   "SELECT e.\"seqNum\", e.\"parentSeqNum\", e.name, e.args, e.\"clientId\", e.\"sessionId\" "
                   "FROM %s e WHERE e.\"seqNum\" OPERATOR(pg_catalog.>) $1 ORDER BY e.\"seqNum\" LIMIT $2",
                   quote_qualified_identifier(p->schema_name, p->table_name));
  Oid types[2] = {INT4OID, INT4OID};
  Datum args[2] = {Int32GetDatum(after), Int32GetDatum(max_events)};
  int rc = SPI_execute_with_args(sql.data, 2, types, args, nullptr, true, 0);
  if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: reading the log failed: %s", SPI_result_code_string(rc));
  Datum values[kColumns];
  bool nulls[kColumns];
  for (uint64 r = 0; r < SPI_processed; ++r) {
    heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, values, nulls);
    tuplestore_putvalues(out, desc, values, nulls);
  }
  SPI_finish();
}

}  // namespace

void ls_read_events(const char* store_id, const char* table_name, int32 after, int32 max_events,
                    Tuplestorestate* out, TupleDesc desc) {
  StorePlans* p = FindStore(store_id, table_name);
  // As the owner of this SECURITY DEFINER function (the extension's owner,
  // who owns every log it made or adopted) may.
  AclResult acl = pg_class_aclcheck(p->relid, GetUserId(), ACL_SELECT);
  if (acl != ACLCHECK_OK) aclcheck_error(acl, OBJECT_TABLE, p->table_name);
  if (max_events == 0) return;
  if (!ScanKeyRange(p, after, max_events, out, desc)) SelectRange(p, after, max_events, out, desc);
}
