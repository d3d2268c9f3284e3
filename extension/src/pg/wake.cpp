// Wake-ups without NOTIFY: a ring of recent changes in shared memory, a
// condition variable for the waiters (livestore.wait_changes()).
//
// NOTIFY takes a database-wide lock at commit and holds it through the
// commit's WAL flush, so every notifying transaction commits alone: with
// eight writers, appends ran at 0.13-0.30x of a bare INSERT. Publishing here
// happens after the commit (XACT_EVENT_COMMIT: durable and visible), under a
// short lock of our own, so writers keep group commit.
//
// The ring is a dynamic shared memory segment, pinned until the server
// stops, whose handle is kept in pg_stat_tmp/livestore_wake.handle: the first
// backend that needs it creates it (under AddinShmemInitLock), the others
// attach. No shared_preload_libraries is needed. After a restart the file
// names a segment that is gone (or not ours: the magic tells), and a new one
// is made. Positions start at the creation time in microseconds, so a
// waiter's position from before a restart is always older than the new
// ring's oldest entry: it is told that it missed changes.
// POD locals only in this file: ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "commands/async.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/fd.h"
#include "storage/lwlock.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}
#include "livestore/pg/settings.h"
#include "livestore/pg/wake.h"

namespace {

constexpr uint64 kMagic = 0x4c5357414b450001ULL;  // "LSWAKE", layout 1
const char* const kHandleFile = "pg_stat_tmp/livestore_wake.handle";
constexpr int kMaxPending = 32;   // distinct stores per transaction, then "re-read all"
constexpr int kMaxPerCall = 256;  // changes one wait returns at most

struct Entry {
  int64 position;
  Oid db;
  int32 head;
  char table_name[64];  // empty: changes were not recorded one by one
  char store_id[LS_WAKE_STORE_ID_BYTES + 1];
};

struct Area {
  uint64 magic;
  int tranche;
  LWLock lock;
  ConditionVariable cv;
  int64 newest;  // position of the last entry written
  Entry ring[LS_WAKE_RING];
};

struct Pending {
  int32 head;
  char table_name[64];
  char store_id[LS_WAKE_STORE_ID_BYTES + 1];
};

Area* g_area = nullptr;
bool g_callback = false;
Pending g_pending[kMaxPending];
int g_npending = 0;
bool g_overflow = false;

dsm_handle ReadHandle() {
  FILE* f = AllocateFile(kHandleFile, "r");
  if (f == nullptr) return DSM_HANDLE_INVALID;
  unsigned int h = DSM_HANDLE_INVALID;
  if (fscanf(f, "%u", &h) != 1) h = DSM_HANDLE_INVALID;
  FreeFile(f);
  return (dsm_handle)h;
}

void WriteHandle(dsm_handle h) {
  const char* tmp = "pg_stat_tmp/livestore_wake.handle.tmp";
  FILE* f = AllocateFile(tmp, "w");
  if (f == nullptr || fprintf(f, "%u\n", (unsigned int)h) < 0 || FreeFile(f) != 0 || rename(tmp, kHandleFile) != 0)
    ereport(ERROR, (errcode_for_file_access(), errmsg("livestore: could not write \"%s\": %m", kHandleFile)));
}

Area* Attach() {
  if (g_area != nullptr) return g_area;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  Area* area = nullptr;
  dsm_segment* seg = nullptr;
  dsm_handle h = ReadHandle();
  if (h != DSM_HANDLE_INVALID) {
    seg = dsm_attach(h);  // NULL when the segment is gone
    if (seg != nullptr && dsm_segment_map_length(seg) >= sizeof(Area) &&
        ((Area*)dsm_segment_address(seg))->magic == kMagic)
      area = (Area*)dsm_segment_address(seg);
    else if (seg != nullptr)
      dsm_detach(seg);
  }
  if (area == nullptr) {
    seg = dsm_create(sizeof(Area), 0);
    area = (Area*)dsm_segment_address(seg);
    memset(area, 0, sizeof(Area));
    area->tranche = LWLockNewTrancheId();
    LWLockInitialize(&area->lock, area->tranche);
    ConditionVariableInit(&area->cv);
    area->newest = (int64)GetCurrentTimestamp();
    pg_write_barrier();
    area->magic = kMagic;
    dsm_pin_segment(seg);
    WriteHandle(dsm_segment_handle(seg));
  }
  dsm_pin_mapping(seg);  // kept for the session, not the transaction
  LWLockRegisterTranche(area->tranche, "livestore_wake");
  LWLockRelease(AddinShmemInitLock);
  g_area = area;
  return area;
}

void Publish() {
  // Too many stores for one entry each: one entry without a table, which
  // tells every waiter that it missed changes.
  static const Pending kMissed = {-1, "", ""};
  const Pending* list = g_overflow ? &kMissed : g_pending;
  const int n = g_overflow ? 1 : g_npending;
  Area* a = g_area;
  LWLockAcquire(&a->lock, LW_EXCLUSIVE);
  for (int i = 0; i < n; ++i) {
    Entry* e = &a->ring[(a->newest + 1) % LS_WAKE_RING];
    e->position = a->newest + 1;
    e->db = MyDatabaseId;
    e->head = list[i].head;
    strlcpy(e->table_name, list[i].table_name, sizeof e->table_name);
    strlcpy(e->store_id, list[i].store_id, sizeof e->store_id);
    pg_write_barrier();
    a->newest = e->position;
  }
  LWLockRelease(&a->lock);
  ConditionVariableBroadcast(&a->cv);
}

// Nothing here may fail at COMMIT: the transaction is already committed.
void OnXactEvent(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_PREPARE:
      if (g_npending > 0 || g_overflow)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot PREPARE a transaction that wrote to a livestore store"),
                        errdetail("Live pulls are woken when the writing transaction commits; a prepared "
                                  "transaction commits elsewhere.")));
      break;
    case XACT_EVENT_COMMIT:
      if (g_npending > 0 || g_overflow) Publish();
      g_npending = 0;
      g_overflow = false;
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PREPARE:
      g_npending = 0;
      g_overflow = false;
      break;
    default:
      break;
  }
}

// Whether this database's extension has wait_changes() (0.3.0 or newer):
// cached, looked up again after any change to pg_proc (ALTER EXTENSION).
int g_has_wait = -1;
void ForgetWaitLookup(Datum, int, uint32) { g_has_wait = -1; }

bool HasWaitChanges() {
  if (g_has_wait < 0) {
    static bool registered = false;
    if (!registered) {
      CacheRegisterSyscacheCallback(PROCOID, ForgetWaitLookup, (Datum)0);
      registered = true;
    }
    Oid nsp = get_namespace_oid("livestore", true);
    Oid args[2] = {INT8OID, INT4OID};
    oidvector* types = buildoidvector(args, 2);
    g_has_wait = OidIsValid(nsp) && OidIsValid(GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
                                                                CStringGetDatum("wait_changes"),
                                                                PointerGetDatum(types), ObjectIdGetDatum(nsp)))
                     ? 1
                     : 0;
  }
  return g_has_wait == 1;
}

}  // namespace

bool ls_notify_wanted(void) {
  if (ls_notify_mode == LS_NOTIFY_ON) return true;
  if (ls_notify_mode == LS_NOTIFY_OFF) return false;
  return !HasWaitChanges();
}

bool ls_listen_only(void) { return !HasWaitChanges(); }

void ls_wake_at_commit(const char* store_id, const char* table_name, int32 head) {
  (void)Attach();
  if (!g_callback) {
    RegisterXactCallback(OnXactEvent, nullptr);
    g_callback = true;
  }
  for (int i = 0; i < g_npending; ++i)
    if (strcmp(g_pending[i].table_name, table_name) == 0) {
      if (head > g_pending[i].head) g_pending[i].head = head;
      return;
    }
  if (g_npending == kMaxPending) {
    g_overflow = true;
    return;
  }
  Pending* p = &g_pending[g_npending++];
  p->head = head;
  strlcpy(p->table_name, table_name, sizeof p->table_name);
  strlcpy(p->store_id, store_id, sizeof p->store_id);
}

LsWakeResult ls_wake_wait(int64 since, int timeout_ms) {
  Area* a = Attach();
  LsWakeResult r;
  memset(&r, 0, sizeof r);
  r.changes = (LsWakeChange*)palloc(sizeof(LsWakeChange) * kMaxPerCall);
  const TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
  int64 from = since;
  ConditionVariablePrepareToSleep(&a->cv);
  for (;;) {
    LWLockAcquire(&a->lock, LW_SHARED);
    const int64 newest = a->newest;
    r.position = newest;
    if (since < 0) {
      LWLockRelease(&a->lock);
      break;
    }
    if (from > newest || from < newest - LS_WAKE_RING) {
      r.missed = true;
      LWLockRelease(&a->lock);
      break;
    }
    int64 p = from + 1;
    for (; p <= newest && r.count < kMaxPerCall; ++p) {
      const Entry* e = &a->ring[p % LS_WAKE_RING];
      if (e->db != MyDatabaseId) continue;
      if (e->table_name[0] == '\0') {
        r.missed = true;
        continue;
      }
      LsWakeChange* c = &r.changes[r.count++];
      c->position = e->position;
      c->head = e->head;
      strlcpy(c->table_name, e->table_name, sizeof c->table_name);
      strlcpy(c->store_id, e->store_id, sizeof c->store_id);
    }
    r.position = p - 1;
    LWLockRelease(&a->lock);
    if (r.count > 0 || r.missed) break;
    from = r.position;
    long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
    if (left <= 0) break;
    (void)ConditionVariableTimedSleep(&a->cv, left, PG_WAIT_EXTENSION);
  }
  ConditionVariableCancelSleep();
  return r;
}
