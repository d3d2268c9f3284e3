// The module's magic block and settings.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "livestore/pg/settings.h"

namespace {
// The spellings a boolean setting accepts stay valid (SET livestore.notify = off).
const struct config_enum_entry kNotifyModes[] = {
    {"auto", LS_NOTIFY_AUTO, false}, {"on", LS_NOTIFY_ON, false},   {"off", LS_NOTIFY_OFF, false},
    {"true", LS_NOTIFY_ON, true},    {"false", LS_NOTIFY_OFF, true}, {"yes", LS_NOTIFY_ON, true},
    {"no", LS_NOTIFY_OFF, true},     {"1", LS_NOTIFY_ON, true},      {"0", LS_NOTIFY_OFF, true},
    {nullptr, 0, false}};
}  // namespace

int ls_notify_mode = LS_NOTIFY_AUTO;
char* ls_store_schema = nullptr;
char* ls_claims = nullptr;

extern "C" void _PG_init(void) {
  DefineCustomEnumVariable(
      "livestore.notify",
      "Whether every successful write to a store also sends NOTIFY livestore_events at commit.",
      "auto: only in a database whose extension is older than 0.3.0 (its gateways LISTEN); live pulls are "
      "woken without it (livestore.wait_changes()). Turn it on only for LISTEN-based consumers: Postgres "
      "serializes the commits of transactions that NOTIFY (its notification queue lock is held through the "
      "commit's WAL flush), so concurrent writers then lose group commit.",
      &ls_notify_mode, LS_NOTIFY_AUTO, kNotifyModes, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  // Superuser-only: create_store runs as the extension owner, so whoever sets
  // this decides where new tables go.
  DefineCustomStringVariable("livestore.schema", "Schema in which create_store() creates new event tables.",
                             "Electric finds tables by name in schema public, the default.", &ls_store_schema,
                             "public", PGC_SUSET, 0, nullptr, nullptr, nullptr);
  // Set by the gateway for each push (transaction-local): the verified JWT
  // claims as JSON, for hooks (livestore.claims()). Anyone who may call
  // append can set it, which SECURITY.md spells out.
  DefineCustomStringVariable("livestore.claims", "Verified identity of the writer, as JSON (set by the gateway).",
                             "Read it in hooks with livestore.claims().", &ls_claims, "", PGC_USERSET, 0, nullptr,
                             nullptr, nullptr);
  MarkGUCPrefixReserved("livestore");
}
