/* PG zone: wake-ups without NOTIFY.
 *
 * Every committed write to a store is published in a ring of recent changes
 * in shared memory (position, database, store, table, head), and the
 * backends waiting in livestore.wait_changes() are woken. Unlike NOTIFY,
 * publishing takes no database-wide lock through the commit's WAL flush, so
 * concurrent writers keep group commit. The ring lives in a dynamic shared
 * memory segment created by the first backend that needs it (no
 * shared_preload_libraries) and kept until the server stops. */
#pragma once
#ifndef POSTGRES_H
#error "wake.h is a Postgres-zone header: include postgres.h first"
#endif

/* Changes the ring keeps; a waiter further behind is told it missed some. */
#define LS_WAKE_RING 4096
/* Longest store id the ring records (longer ones are cut: the table name,
 * always recorded whole, is what identifies the store). */
#define LS_WAKE_STORE_ID_BYTES 256

/* Remembers that this transaction advanced the store's head to `head`; the
 * change is published if and when the transaction commits. Attaches to (or
 * creates) the shared ring first, so that nothing can fail at commit. */
void ls_wake_at_commit(const char* store_id, const char* table_name, int32 head);

/* Whether writes also NOTIFY livestore_events (livestore.notify; auto: only
 * while this database's extension predates wait_changes(), 0.3.0). */
bool ls_notify_wanted(void);

/* True while this database's extension SQL predates wait_changes() (0.3.0):
 * its gateways learn of writes only through NOTIFY. */
bool ls_listen_only(void);

/* One change as livestore.wait_changes() returns it. */
typedef struct LsWakeChange {
  int64 position;
  int32 head;
  char table_name[64];
  char store_id[LS_WAKE_STORE_ID_BYTES + 1];
} LsWakeChange;

/* The result of one wait: the changes of this database after `since`. */
typedef struct LsWakeResult {
  int64 position;      /* the ring's newest position when the wait ended */
  bool missed;         /* `since` was older than the ring keeps (or from before a restart) */
  int count;           /* changes in `changes` (palloc'd), in order */
  LsWakeChange* changes;
} LsWakeResult;

/* Waits up to timeout_ms for changes of the current database after `since`
 * (since < 0: none, just the current position). Interruptible. */
LsWakeResult ls_wake_wait(int64 since, int timeout_ms);
