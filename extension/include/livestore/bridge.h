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

/* Checks a batch given as JSON text and summarises it. */
bool ls_core_check_batch(const char* json, size_t len, LsBatchInfo* out, LsErrorSlot* err);

/* Checks the events given to livestore.emit() (no seqNum/parentSeqNum). */
bool ls_core_check_emit(const char* json, size_t len, int32_t* count, LsErrorSlot* err);

/* clientId and sessionId of events emitted without them. */
#define LS_SERVER_IDENTITY "livestore-server"

#ifdef __cplusplus
}
#endif
