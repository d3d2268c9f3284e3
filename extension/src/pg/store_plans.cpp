// Per-backend cache of the statements that name a store's table. The plans
// name the table by schema and name, which the plan cache resolves again
// after DDL; so when the table itself goes (drop_store, or a store created
// again elsewhere), the entry is marked stale and rebuilt from the catalog,
// which then also reports a dropped store as LS002.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "executor/tuptable.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/batch_rows.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/store_plans.h"

namespace {

HTAB* g_plans = nullptr;
SPIPlanPtr g_lookup = nullptr;  // ($1 table name) -> schema_name

// The fourth field of the stores' write locks (advisory lock tags): the SQL
// advisory lock functions use 1 and 2 there, so these never collide with an
// application's advisory locks. pg_locks shows them as locktype advisory,
// classid 0, objid = the log table's OID, objsubid = 19539 ("LS").
constexpr uint16 kStoreLockField4 = 0x4c53;

// Extension SQL older than 0.3.0 keeps each store's head in livestore.stores
// (and reads it there): while this library serves such a database, writes
// keep that column current. -1: not looked up since the last invalidation.
int g_catalog_head = -1;
SPIPlanPtr g_set_head = nullptr;  // ($1 table name, $2 head)

// Relcache invalidation callback (InvalidOid: all relations). It must not
// fail, so it only marks entries; ls_plans_for rebuilds them.
void MarkPlansStale(Datum, Oid relid) {
  HASH_SEQ_STATUS it;
  hash_seq_init(&it, g_plans);
  for (StorePlans* p; (p = (StorePlans*)hash_seq_search(&it)) != nullptr;)
    if (relid == InvalidOid || p->relid == relid) p->stale = true;
  g_catalog_head = -1;
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

bool ls_lookup_store(const char* table_name, char* schema_out) {
  if (g_lookup == nullptr) {
    Oid types[1] = {TEXTOID};
    g_lookup = ls_prepare_kept("SELECT s.schema_name FROM livestore.stores s "
                               "WHERE s.table_name OPERATOR(pg_catalog.=) $1",
                               1, types);
  }
  Datum args[1] = {CStringGetTextDatum(table_name)};
  int rc = SPI_execute_plan(g_lookup, args, nullptr, false, 1);
  if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: store lookup failed: %s", SPI_result_code_string(rc));
  if (SPI_processed == 0) return false;
  char* schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  strlcpy(schema_out, schema, NAMEDATALEN);
  return true;
}

bool ls_lock_log(StorePlans* p, LOCKMODE mode) {
  LockRelationOid(p->relid, mode);
  return !p->stale || SearchSysCacheExists1(RELOID, ObjectIdGetDatum(p->relid));
}

Relation ls_open_seq_key(StorePlans* p) {
  if (!OidIsValid(p->pkey)) return nullptr;
  // Gone (or swapped) under a concurrent DDL: the SQL way says what is there.
  Relation idx = try_relation_open(p->pkey, AccessShareLock);
  if (idx == nullptr) return nullptr;
  if (idx->rd_rel->relkind != RELKIND_INDEX || idx->rd_index->indrelid != p->relid) {
    relation_close(idx, AccessShareLock);
    return nullptr;
  }
  return idx;
}

namespace {
// The log's primary key when it is the single "seqNum" int4 btree column that
// create_store() and adopt make (ls_head_is probes it), else InvalidOid.
void FindSeqKey(Oid relid, Oid* pkey, AttrNumber* seq_attno) {
  *pkey = InvalidOid;
  *seq_attno = InvalidAttrNumber;
  Relation rel = table_open(relid, AccessShareLock);
  Oid pk = RelationGetPrimaryKeyIndex(rel);
  if (OidIsValid(pk)) {
    Relation idx = index_open(pk, AccessShareLock);
    const AttrNumber col = idx->rd_index->indnkeyatts == 1 ? idx->rd_index->indkey.values[0] : InvalidAttrNumber;
    if (idx->rd_rel->relam == BTREE_AM_OID && col > 0 && idx->rd_opfamily[0] == INTEGER_BTREE_FAM_OID &&
        idx->rd_opcintype[0] == INT4OID && TupleDescAttr(RelationGetDescr(rel), col - 1)->atttypid == INT4OID &&
        strcmp(NameStr(TupleDescAttr(RelationGetDescr(rel), col - 1)->attname), "seqNum") == 0) {
      *pkey = pk;
      *seq_attno = col;
    }
    index_close(idx, AccessShareLock);
  }
  table_close(rel, AccessShareLock);
}

}  // namespace

bool ls_head_is(StorePlans* p, int32 parent) {
  Relation idx = ls_open_seq_key(p);
  if (idx == nullptr) return false;
  Relation rel = table_open(p->relid, NoLock);  // ls_lock_store holds it
  // As committed now, like ls_log_head(plans, true), this transaction's
  // earlier writes included (SPI would count the command up, too).
  CommandCounterIncrement();
  Snapshot snap = RegisterSnapshot(GetLatestSnapshot());
  ScanKeyData key;
  ScanKeyInit(&key, 1, BTGreaterEqualStrategyNumber, F_INT4GE, Int32GetDatum(parent));
  IndexScanDesc scan = index_beginscan(rel, idx, snap, 1, 0);
  index_rescan(scan, &key, 1, nullptr, 0);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  // The rows from `parent` on, in order: the head is `parent` when the first
  // one is `parent` itself and none follows it (no row at all for 0: seqNums
  // start at 1). Any other answer goes to ls_log_head for the head itself.
  int seen = 0;
  bool fits = true;
  while (fits && index_getnext_slot(scan, ForwardScanDirection, slot)) {
    bool isnull = false;
    fits = seen == 0 && DatumGetInt32(slot_getattr(slot, p->seq_attno, &isnull)) == parent;
    ++seen;
  }
  const bool is_head = fits && seen == (parent > 0 ? 1 : 0);
  ExecDropSingleTupleTableSlot(slot);
  index_endscan(scan);
  UnregisterSnapshot(snap);
  table_close(rel, NoLock);
  index_close(idx, NoLock);
  return is_head;
}

StorePlans* ls_lock_store(const char* table_name, const char* store_id, int32 parent, int32* head, bool* locked) {
  for (int attempt = 0;; ++attempt) {
    StorePlans* p = ls_plans_for(table_name, store_id);
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0, p->relid, kStoreLockField4);
    // emit (parent < 0) queues for the store's lock; an append only tries it.
    bool got = LockAcquire(&tag, ExclusiveLock, false, parent >= 0) != LOCKACQUIRE_NOT_AVAIL;
    // Once held, the log's lock also keeps drop_store() out until this
    // transaction ends.
    const bool alive = ls_lock_log(p, RowExclusiveLock);  // the insert takes it anyway
    while (alive && !got) {
      // Another writer holds the store. A batch whose parent is not the head
      // as committed now is a re-send or behind (or chained onto events
      // nobody has seen yet): it is answered at once.
      *head = ls_log_head(p, true);
      if (*head != parent) {
        *locked = false;
        return p;
      }
      // It extends the head the holder may be extending too: wait until the
      // holder's transaction ends (a shared wait: every such writer wakes at
      // once, as on a row lock, instead of taking turns), then look again.
      // Only if the head is still the parent (the holder rolled back, or
      // wrote nothing) does it queue for the lock itself (never retrying in
      // a loop against other writers' brief shared waits).
      (void)LockAcquire(&tag, ShareLock, false, false);
      LockRelease(&tag, ShareLock, false);
      *head = ls_log_head(p, true);
      if (*head != parent) {
        *locked = false;
        return p;
      }
      (void)LockAcquire(&tag, ExclusiveLock, false, false);
      got = true;
    }
    if (alive) {
      *head = parent >= 0 && ls_head_is(p, parent) ? parent : ls_log_head(p, true);
      *locked = parent < 0 || *head == parent;
      // A batch that cannot be written lets the next writer in at once
      // instead of holding the store until its own transaction ends.
      if (!*locked) LockRelease(&tag, ExclusiveLock, false);
      return p;
    }
    ls_forget_plans(table_name);  // dropped meanwhile (perhaps created again)
    if (attempt > 0) ls_raise_unknown_store(store_id);
  }
}

void ls_note_head(const char* table_name, int32 head) {
  if (g_catalog_head < 0) {
    Oid nsp = get_namespace_oid("livestore", true);
    Oid stores = OidIsValid(nsp) ? get_relname_relid("stores", nsp) : InvalidOid;
    g_catalog_head = OidIsValid(stores) && get_attnum(stores, "head") != InvalidAttrNumber ? 1 : 0;
  }
  if (g_catalog_head == 0) return;
  if (g_set_head == nullptr) {
    Oid types[2] = {TEXTOID, INT4OID};
    g_set_head = ls_prepare_kept("UPDATE livestore.stores s SET head = $2 WHERE s.table_name OPERATOR(pg_catalog.=) $1",
                                 2, types);
  }
  Datum args[2] = {CStringGetTextDatum(table_name), Int32GetDatum(head)};
  int rc = SPI_execute_plan(g_set_head, args, nullptr, false, 0);
  if (rc != SPI_OK_UPDATE) elog(ERROR, "livestore: updating the head failed: %s", SPI_result_code_string(rc));
}

int32 ls_log_head(StorePlans* plans, bool latest) {
  int rc = latest ? SPI_execute_snapshot(plans->head, nullptr, nullptr, GetLatestSnapshot(), InvalidSnapshot, false,
                                         false, 1)
                  : SPI_execute_plan(plans->head, nullptr, nullptr, true, 1);
  if (rc != SPI_OK_SELECT || SPI_processed != 1)
    elog(ERROR, "livestore: reading the head failed: %s", SPI_result_code_string(rc));
  bool isnull = false;
  return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
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
  SPIPlanPtr head = p->head, append = p->append, append_one = p->append_one, same = p->same, stored = p->stored,
             emit = p->emit;
  hash_search(g_plans, table_name, HASH_REMOVE, nullptr);
  SPI_freeplan(head);
  SPI_freeplan(append);
  SPI_freeplan(append_one);
  SPI_freeplan(same);
  if (stored != nullptr) SPI_freeplan(stored);
  if (emit != nullptr) SPI_freeplan(emit);
}

StorePlans* ls_plans_for(const char* table_name, const char* store_id) {
  StorePlans* p = ls_plans_try(table_name);
  if (p == nullptr) ls_raise_unknown_store(store_id);
  return p;
}

StorePlans* ls_plans_try(const char* table_name) {
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
  if (!ls_lookup_store(table_name, schema)) return nullptr;
  Oid nsp = get_namespace_oid(schema, true);
  Oid relid = OidIsValid(nsp) ? get_relname_relid(table_name, nsp) : InvalidOid;
  if (!OidIsValid(relid)) return nullptr;

  const char* qualified = quote_qualified_identifier(schema, table_name);
  StringInfoData sql;
  initStringInfo(&sql);
  // The primary key's last entry (one index probe, backwards).
  appendStringInfo(&sql, "SELECT COALESCE(pg_catalog.max(t.\"seqNum\"), 0) FROM %s t", qualified);
  SPIPlanPtr head = ls_prepare_kept(sql.data, 0, nullptr);

  // One event: its columns as read in C (pg/batch_rows.cpp), the values of
  // a single-row insert. More: the batch through jsonb_to_recordset (arrays
  // per column measured slower at 50 events).
  // The log's columns in its order, as both inserts name them.
  const char* const columns = "(\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\")";
  resetStringInfo(&sql);
  appendStringInfo(&sql, "INSERT INTO %s %s VALUES ($1, $2, $3, $4, $5, $6)", qualified, columns);
  Oid one_types[6] = {INT4OID, INT4OID, TEXTOID, JSONBOID, TEXTOID, TEXTOID};
  SPIPlanPtr append_one = ls_prepare_kept(sql.data, 6, one_types);

  resetStringInfo(&sql);
  appendStringInfo(&sql,
                   "INSERT INTO %s %s SELECT x.\"seqNum\", x.\"parentSeqNum\", x.name, "
                   "COALESCE(x.args, 'null'::pg_catalog.jsonb), x.\"clientId\", x.\"sessionId\" "
                   "FROM pg_catalog.jsonb_to_recordset($1) %s",
                   qualified, columns, kRecordColumns);
  Oid append_types[1] = {JSONBOID};
  SPIPlanPtr append = ls_prepare_kept(sql.data, 1, append_types);

  resetStringInfo(&sql);
  appendStringInfo(&sql,
                   "SELECT pg_catalog.count(*)::pg_catalog.int4 "
                   "FROM pg_catalog.jsonb_to_recordset($1) %s "
                   "JOIN %s t ON t.\"seqNum\" OPERATOR(pg_catalog.=) x.\"seqNum\" "
                   "WHERE (t.\"parentSeqNum\" OPERATOR(pg_catalog.=) x.\"parentSeqNum\" "
                   "OR (t.\"parentSeqNum\" IS NULL AND x.\"parentSeqNum\" IS NULL)) "
                   "AND t.name OPERATOR(pg_catalog.=) x.name "
                   "AND t.args OPERATOR(pg_catalog.=) COALESCE(x.args, 'null'::pg_catalog.jsonb) "
                   "AND t.\"clientId\" OPERATOR(pg_catalog.=) x.\"clientId\" "
                   "AND t.\"sessionId\" OPERATOR(pg_catalog.=) x.\"sessionId\"",
                   kRecordColumns, qualified);
  Oid same_types[1] = {JSONBOID};
  SPIPlanPtr same = ls_prepare_kept(sql.data, 1, same_types);

  p = (StorePlans*)hash_search(g_plans, table_name, HASH_ENTER, &found);
  strlcpy(p->schema_name, schema, NAMEDATALEN);
  p->relid = relid;
  p->stale = false;
  FindSeqKey(relid, &p->pkey, &p->seq_attno);
  p->head = head;
  p->append = append;
  p->append_one = append_one;
  p->same = same;
  p->stored = nullptr;
  p->emit = nullptr;
  return p;
}

uint64 ls_append_rows(StorePlans* plans, Jsonb* batch, int count) {
  Datum args[LS_BATCH_COLUMNS];
  if (count == 1) {
    LsBatchColumns cols;
    ls_batch_columns(batch, count, &cols);
    for (int c = 0; c < LS_BATCH_COLUMNS; ++c) args[c] = cols.values[c][0];
  } else {
    args[0] = JsonbPGetDatum(batch);
  }
  int rc = SPI_execute_plan(count == 1 ? plans->append_one : plans->append, args, nullptr, false, 0);
  if (rc != SPI_OK_INSERT) elog(ERROR, "livestore: append failed: %s", SPI_result_code_string(rc));
  return SPI_processed;
}

uint64 ls_emit_rows(StorePlans* plans, int32 head, Datum events) {
  if (plans->emit == nullptr) {
    // Straight from the array's elements: no numbered copy of the batch is
    // built first (that cost more than the insert itself).
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(
        &sql,
        "INSERT INTO %s (\"seqNum\", \"parentSeqNum\", \"name\", \"args\", \"clientId\", \"sessionId\") "
        "SELECT $1 OPERATOR(pg_catalog.+) t.o::pg_catalog.int4, "
        "$1 OPERATOR(pg_catalog.+) t.o::pg_catalog.int4 OPERATOR(pg_catalog.-) 1, "
        "t.e OPERATOR(pg_catalog.->>) 'name', "
        "COALESCE(t.e OPERATOR(pg_catalog.->) 'args', 'null'::pg_catalog.jsonb), "
        "COALESCE(t.e OPERATOR(pg_catalog.->>) 'clientId', '" LS_SERVER_IDENTITY "'), "
        "COALESCE(t.e OPERATOR(pg_catalog.->>) 'sessionId', '" LS_SERVER_IDENTITY "') "
        "FROM pg_catalog.jsonb_array_elements($2) WITH ORDINALITY AS t(e, o)",
        quote_qualified_identifier(plans->schema_name, plans->table_name));
    Oid types[2] = {INT4OID, JSONBOID};
    plans->emit = ls_prepare_kept(sql.data, 2, types);
  }
  Datum args[2] = {Int32GetDatum(head), events};
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
