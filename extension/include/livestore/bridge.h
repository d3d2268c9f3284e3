/* The only API between the two zones of the extension. Plain C types only:
 * the Postgres zone calls these without constructing any C++ object, and no
 * exception escapes them (each catches everything and fills the error slot). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LsErrorSlot {
  char sqlstate[6];
  char message[512];
} LsErrorSlot;

typedef struct LsBatchInfo {
  int32_t count;
  int32_t first_seq;
  int32_t first_parent;
  int32_t last_seq;
} LsBatchInfo;

/* Table name of a store (NUL-terminated, at most 63 chars) into out[64]. */
bool ls_core_table_name(const char* store_id, size_t len, char out[64], LsErrorSlot* err);

/* Checks the client's store id rules (^[A-Za-z0-9_-]+$, bounded length). */
bool ls_core_check_store_id(const char* store_id, size_t len, LsErrorSlot* err);

/* One field of an event as the batch rules see it, whichever parser read the
 * batch (the extension's jsonb, the gateway's RapidJSON). */
typedef enum LsFieldKind {
  LS_FIELD_MISSING,
  LS_FIELD_STRING,       /* length: its length in bytes */
  LS_FIELD_INT32,        /* int_value: an integer literal within int32 */
  LS_FIELD_WIDE_INT,     /* an integer outside int32 */
  LS_FIELD_FRACTION,     /* a number with a fraction or exponent, within int32's range */
  LS_FIELD_NUMBER_TEXT,  /* text: any other number, as JSON text; the core classifies it */
  LS_FIELD_OTHER         /* null, a boolean, an object or an array */
} LsFieldKind;

typedef struct LsFieldView {
  LsFieldKind kind;
  int32_t int_value;
  size_t length;
  const char* text;
} LsFieldView;

typedef struct LsEventView {
  bool is_object; /* when false, the fields are not looked at */
  LsFieldView name, client_id, session_id, seq_num, parent_seq_num;
} LsEventView;

/* Events a batch (or emit()) may hold at most. */
#define LS_MAX_BATCH_EVENTS 10000

/* Checks a batch and summarises it: `is_array` whether it is a JSON array,
 * `n` its elements; `events` (n of them) is only read when is_array and
 * n <= LS_MAX_BATCH_EVENTS. */
bool ls_core_check_batch_events(bool is_array, size_t n, const LsEventView* events, LsBatchInfo* out,
                                LsErrorSlot* err);

/* The same for the events given to livestore.emit() (no seqNum/parentSeqNum). */
bool ls_core_check_emit_events(bool is_array, size_t n, const LsEventView* events, int32_t* count, LsErrorSlot* err);

/* clientId and sessionId of events emitted without them. */
#define LS_SERVER_IDENTITY "livestore-server"

#ifdef __cplusplus
}
#endif
