/* Settings of the extension (GUCs), defined in module.cpp. */
#pragma once

extern bool ls_notify_on_append; /* livestore.notify */
extern char* ls_store_schema;    /* livestore.schema */
extern char* ls_claims;           /* livestore.claims */
