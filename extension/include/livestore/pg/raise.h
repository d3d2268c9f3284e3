/* PG zone: turn a core-zone error slot into ereport(ERROR). Called only after
 * the core call has returned, so no C++ frame is live when it longjmps. */
#pragma once
#include "livestore/bridge.h"

#ifndef POSTGRES_H
#error "raise.h is a Postgres-zone header: include postgres.h first"
#endif

void ls_raise(const LsErrorSlot* err) pg_attribute_noreturn();

/* SQLSTATEs of our own class LS (see README.md, "Errors"). */
#define LS_ERRCODE_STALE_HEAD MAKE_SQLSTATE('L', 'S', '0', '0', '1')
#define LS_ERRCODE_UNKNOWN_STORE MAKE_SQLSTATE('L', 'S', '0', '0', '2')
#define LS_ERRCODE_APPEND_ONLY MAKE_SQLSTATE('L', 'S', '0', '0', '3')
