/* Settings of the extension (GUCs), defined in module.cpp. */
#pragma once

#define LS_NOTIFY_AUTO 0
#define LS_NOTIFY_ON 1
#define LS_NOTIFY_OFF 2
extern int ls_notify_mode;       /* livestore.notify */
extern char* ls_store_schema;    /* livestore.schema */
extern char* ls_claims;           /* livestore.claims */
