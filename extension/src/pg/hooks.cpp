// After a batch is written: the hooks of livestore.hooks, then the wake-up.
//
// The registered hooks are cached per backend and re-read when
// livestore.hooks changes (its trigger sends a relcache invalidation of the
// table, see fn_hooks_changed.cpp) or when any function changes (owner,
// drop). With no hook registered, an append costs no extra query.
//
// A hook runs as the owner of its function (as if SECURITY DEFINER), with
// search_path = its function's schema, pg_catalog, pg_temp (its own SET
// clause wins), under an error context line that names it. Hooks may emit,
// whose hooks run nested, at most LS_MAX_HOOK_DEPTH deep.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}
#include "livestore/pg/batch_fields.h"
#include "livestore/pg/hooks.h"
#include "livestore/pg/settings.h"
#include "livestore/pg/wake.h"

#define LS_NOTIFY_CHANNEL "livestore_events"

namespace {

struct Hook {
  char* pattern;      // LIKE pattern on store ids
  Oid fn;
  Oid owner;
  char* search_path;  // "<fn schema>", pg_catalog, pg_temp
};

MemoryContext g_cxt = nullptr;  // holds g_hooks
Hook* g_hooks = nullptr;
int g_count = 0;
bool g_valid = false;
bool g_callbacks = false;
Oid g_hooks_relid = InvalidOid;
int g_depth = 0;               // hooks running in this backend, nested
char g_outer_table[64] = "";   // the store whose hooks run at depth 0

void MarkStaleRel(Datum, Oid relid) {
  if (relid == InvalidOid || relid == g_hooks_relid) g_valid = false;
}
void MarkStaleProc(Datum, int, uint32) { g_valid = false; }

// The hooks, re-read when stale. The table does not exist in a database
// still at extension version 0.1.0 (this library serves it too): no hooks.
void LoadHooks() {
  if (!g_callbacks) {
    CacheRegisterRelcacheCallback(MarkStaleRel, (Datum)0);
    CacheRegisterSyscacheCallback(PROCOID, MarkStaleProc, (Datum)0);
    g_cxt = AllocSetContextCreate(TopMemoryContext, "livestore hooks", ALLOCSET_SMALL_SIZES);
    g_callbacks = true;
  }
  if (g_valid) return;
  MemoryContextReset(g_cxt);
  g_hooks = nullptr;
  g_count = 0;
  Oid nsp = get_namespace_oid("livestore", true);
  g_hooks_relid = OidIsValid(nsp) ? get_relname_relid("hooks", nsp) : InvalidOid;
  if (!OidIsValid(g_hooks_relid)) return;  // looked up again next time

  int rc = SPI_execute(
      "SELECT h.store_pattern, p.oid, p.proowner, n.nspname FROM livestore.hooks h "
      "JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) h.hook::pg_catalog.oid "
      "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace "
      "ORDER BY h.position",
      false, 0);
  if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: reading livestore.hooks failed: %s", SPI_result_code_string(rc));
  const int n = (int)SPI_processed;
  Hook* hooks = (Hook*)MemoryContextAllocZero(g_cxt, sizeof(Hook) * (n > 0 ? n : 1));
  for (int i = 0; i < n; ++i) {
    HeapTuple row = SPI_tuptable->vals[i];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull = false;
    hooks[i].pattern = MemoryContextStrdup(g_cxt, SPI_getvalue(row, desc, 1));
    hooks[i].fn = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
    hooks[i].owner = DatumGetObjectId(SPI_getbinval(row, desc, 3, &isnull));
    hooks[i].search_path =
        MemoryContextStrdup(g_cxt, psprintf("%s, pg_catalog, pg_temp", quote_identifier(SPI_getvalue(row, desc, 4))));
  }
  g_hooks = hooks;
  g_count = n;
  g_valid = true;
}

bool Matches(const char* store_id, const char* pattern) {
  return DatumGetBool(DirectFunctionCall2Coll(textlike, C_COLLATION_OID, CStringGetTextDatum(store_id),
                                              CStringGetTextDatum(pattern)));
}

// "schema.name(argtype,...)", whatever the caller's search_path (types as
// format_type_be prints them).
char* HookName(Oid fn) {
  HeapTuple tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
  if (!HeapTupleIsValid(tup)) return psprintf("%u", fn);
  Form_pg_proc proc = (Form_pg_proc)GETSTRUCT(tup);
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfo(&buf, "%s(", quote_qualified_identifier(get_namespace_name(proc->pronamespace), NameStr(proc->proname)));
  for (int i = 0; i < proc->pronargs; ++i)
    appendStringInfo(&buf, "%s%s", i > 0 ? "," : "", format_type_be(proc->proargtypes.values[i]));
  appendStringInfoChar(&buf, ')');
  ReleaseSysCache(tup);
  return buf.data;
}

struct HookContext {
  const char* hook;  // regprocedure text
  const char* store_id;
};

void HookContextLine(void* arg) {
  const HookContext* c = (const HookContext*)arg;
  errcontext("livestore hook %s on store \"%s\"", c->hook, c->store_id);
}

void CallHook(const Hook* h, const char* store_id, const char* table_name, Datum events) {
  HookContext info = {HookName(h->fn), store_id};
  if (g_depth >= LS_MAX_HOOK_DEPTH)
    ereport(ERROR, (errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
                    errmsg("livestore hooks nested more than %d deep", LS_MAX_HOOK_DEPTH),
                    errdetail("Hook %s was to run for store \"%s\".", info.hook, store_id),
                    errhint("A hook emits events whose hooks emit events again: stop the cycle in the hook.")));
  ErrorContextCallback cb;
  cb.callback = HookContextLine;
  cb.arg = &info;
  cb.previous = error_context_stack;
  error_context_stack = &cb;

  Oid saved_user;
  int saved_context;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  int nest = NewGUCNestLevel();
  (void)set_config_option("search_path", h->search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                          false);
  SetUserIdAndSecContext(h->owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
  if (g_depth == 0) strlcpy(g_outer_table, table_name, sizeof g_outer_table);
  ++g_depth;
  // On error, (sub)transaction abort restores the user id and the settings;
  // only the depth is ours to restore.
  PG_TRY();
  {
    FmgrInfo flinfo;
    fmgr_info(h->fn, &flinfo);
    LOCAL_FCINFO(fcinfo, 2);
    InitFunctionCallInfoData(*fcinfo, &flinfo, 2, InvalidOid, nullptr, nullptr);
    fcinfo->args[0].value = CStringGetTextDatum(store_id);
    fcinfo->args[0].isnull = false;
    fcinfo->args[1].value = events;
    fcinfo->args[1].isnull = false;
    (void)FunctionCallInvoke(fcinfo);  // void: a NULL result is fine
  }
  PG_FINALLY();
  {
    --g_depth;
  }
  PG_END_TRY();
  SetUserIdAndSecContext(saved_user, saved_context);
  AtEOXact_GUC(true, nest);
  error_context_stack = cb.previous;
}

void Notify(const char* store_id, const char* table_name, int32 head) {
  // Delivered at commit, folded with identical payloads of the same transaction.
  char payload[512];  // table <= 63, store id <= 256 bytes
  snprintf(payload, sizeof payload, "{\"table\":\"%s\",\"store\":\"%s\",\"head\":%d}", table_name, store_id, head);
  Async_Notify(LS_NOTIFY_CHANNEL, payload);
}

}  // namespace

int32 ls_finish_write(const char* store_id, const char* table_name, StorePlans* plans, int32 first_seq,
                      int32 last_seq, Jsonb* batch) {
  int32 head = last_seq;
  LoadHooks();
  // Copied out: a hook that emits may reload the cache under this loop.
  int matched = 0;
  Hook* run = g_count > 0 ? (Hook*)palloc(sizeof(Hook) * g_count) : nullptr;
  for (int i = 0; i < g_count; ++i) {
    if (!Matches(store_id, g_hooks[i].pattern)) continue;
    run[matched].pattern = nullptr;
    run[matched].fn = g_hooks[i].fn;
    run[matched].owner = g_hooks[i].owner;
    run[matched].search_path = pstrdup(g_hooks[i].search_path);
    ++matched;
  }
  if (matched > 0) {
    // A client's batch is normally already what the log holds: no read-back.
    Datum events = batch != nullptr && ls_batch_is_stored_form(batch) ? JsonbPGetDatum(batch)
                                                                      : ls_stored_events(plans, first_seq, last_seq);
    for (int i = 0; i < matched; ++i) CallHook(&run[i], store_id, table_name, events);
    char schema[NAMEDATALEN];
    if (!ls_lookup_store(table_name, schema))
      ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                      errmsg("store \"%s\" was dropped by one of its hooks", store_id)));
    // Hooks may have emitted into this store: its head as this transaction
    // sees it now (the store's lock is still held).
    head = ls_log_head(ls_plans_for(table_name, store_id), true);
  }
  // Every committed write wakes live pulls through the shared ring (any
  // store: the outer one and those its hooks emitted into); a NOTIFY only
  // when livestore.notify asks for one (LISTEN-based consumers).
  ls_wake_at_commit(store_id, table_name, head);
  // Under 0.2.0 SQL a store that hooks emitted into is one the caller cannot
  // announce (the gateway turns livestore.notify off and announces its own
  // store): it is NOTIFYed whatever the setting, as 0.2.0 did.
  if (ls_notify_wanted() ||
      (g_depth > 0 && strcmp(table_name, g_outer_table) != 0 && ls_listen_only()))
    Notify(store_id, table_name, head);
  return head;
}
