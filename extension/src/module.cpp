// The module's magic block and settings.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "livestore/pg/settings.h"

bool ls_notify_on_append = true;
char* ls_store_schema = nullptr;
char* ls_claims = nullptr;

extern "C" void _PG_init(void) {
  DefineCustomBoolVariable(
      "livestore.notify",
      "NOTIFY livestore_events at the commit of every successful append.",
      "Postgres serializes the commits of transactions that NOTIFY (its notification queue lock is held "
      "through the commit's WAL flush), so many concurrent writers lose group commit. A writer that turns "
      "this off can call livestore.announce() in a separate, asynchronously committed transaction.",
      &ls_notify_on_append, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
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
