#include "gw/pg.h"

#include <cstring>

namespace gw {
namespace {

struct Prepared {
  Stmt stmt;
  const char* name;
  const char* sql;
  int nparams;
};

const Prepared kStatements[] = {
    // $2 is the whole push body; Postgres parses it once, numbers exactly.
    // $3 is the writer's verified claims: set_config(..., true) holds for this
    // statement's transaction only. A subquery whose target list is volatile
    // is never pulled up into the outer query, so its one row (and with it the
    // setting) is produced before append() runs; test/gateway/hooks.test.mjs
    // checks that a hook sees it. livestore.notify is turned off the same
    // way: a NOTIFY inside the append would serialize every committing append
    // on Postgres's notification lock (extension 0.2.0, whose gateways LISTEN;
    // the push route announces from its announcer thread then instead).
    {Stmt::kAppend, "ls_append",
     "SELECT livestore.append($1, ($2::jsonb) -> 'batch') "
     "FROM (SELECT pg_catalog.set_config('livestore.claims', $3, true), "
     "pg_catalog.set_config('livestore.notify', 'off', true)) AS claims",
     3},
    {Stmt::kCreateStore, "ls_create", "SELECT livestore.create_store($1)::text", 1},
    {Stmt::kHead, "ls_head", "SELECT livestore.head($1)", 1},
    {Stmt::kStoreInfo, "ls_info", "SELECT table_name, schema_name, head, handle FROM livestore.store_info($1)", 1},
    // One row, NULLs when no store has that table.
    {Stmt::kStoreForTable, "ls_for_table",
     "SELECT f.id, i.schema_name, i.handle FROM (SELECT livestore.store_for_table($1) AS id) f, "
     "livestore.store_info(f.id) i",
     1},
    // One page of the log; the gateway encodes it (gw/shape_encode.h): faster
    // than livestore.shape_page() building the JSON in plpgsql.
    {Stmt::kEvents, "ls_events",
     "SELECT \"seqNum\", \"parentSeqNum\", name, args, \"clientId\", \"sessionId\" "
     "FROM livestore.events($1, $2::int, $3::int)",
     3},
    {Stmt::kPing, "ls_ping", "SELECT 1", 0},
};

std::string& AuthorizeStatement() {
  static std::string sql;
  return sql;
}

// --database-pooled: behind a transaction pooler (pgbouncer 1.18) each
// statement may run on another server connection, so named prepared
// statements and session SETs would be lost or land on someone else's.
bool& Pooled() {
  static bool pooled = false;
  return pooled;
}

}  // namespace

void PgSession::SetAuthorizeSql(std::string sql) { AuthorizeStatement() = std::move(sql); }

void PgSession::SetPooled(bool pooled) { Pooled() = pooled; }

bool PgError::connection_lost() const {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 || sqlstate == "53300";
}

bool PgError::raised_in_hook() const { return context.find("livestore hook") != std::string::npos; }

PgSession& PgSession::ForThread(const std::string& conninfo) {
  thread_local std::unique_ptr<PgSession> session;
  if (!session) session.reset(new PgSession(conninfo));
  return *session;
}

void PgSession::Drop() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  authorize_prepared_ = false;
}

bool PgSession::Connect(PgError* err) {
  Drop();
  conn_ = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    *err = {"08001", std::string("cannot connect to Postgres: ") + PQerrorMessage(conn_), "", ""};
    Drop();
    return false;
  }
  // One slow statement must not pin a worker thread for long. (The append
  // turns livestore.notify off in its own statement, see kAppend.)
  // Pooled: application_name is a parameter pgbouncer keeps per client; the
  // statement limit is the pooler's query_timeout (deploy/pgbouncer/).
  PgResult set(PQexec(conn_, Pooled() ? "SET application_name = 'livestore-gateway'"
                                      : "SET application_name = 'livestore-gateway'; SET statement_timeout = '15s'"));
  if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
    *err = {"08001", PQerrorMessage(conn_), "", ""};
    Drop();
    return false;
  }
  if (Pooled()) return true;
  for (const Prepared& p : kStatements) {
    PgResult r(PQprepare(conn_, p.name, p.sql, p.nparams, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
      *err = {state ? state : "08001", std::string("prepare ") + p.name + ": " + PQerrorMessage(conn_), "", ""};
      Drop();
      return false;
    }
  }
  return true;
}

std::optional<PgResult> PgSession::Exec(Stmt stmt, const std::vector<const char*>& params, PgError* err) {
  // A connection that died while idle (Postgres restarted, backend
  // terminated) shows only when used: reads try once more on a new one.
  // Appends are retried by the push route, where a re-send is idempotent.
  for (int attempt = 0;; ++attempt) {
    const bool had_connection = conn_ != nullptr;
    auto result = ExecOnce(stmt, params, err);
    if (result || stmt == Stmt::kAppend || attempt > 0 || !had_connection || !err->connection_lost()) return result;
  }
}

std::optional<PgResult> PgSession::ExecOnce(Stmt stmt, const std::vector<const char*>& params, PgError* err) {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    if (!Connect(err)) return std::nullopt;
  }
  const char* name = nullptr;
  const char* sql = stmt == Stmt::kAuthorize ? AuthorizeStatement().c_str() : nullptr;
  for (const Prepared& s : kStatements)
    if (s.stmt == stmt) name = s.name, sql = s.sql;
  PgResult r;
  if (Pooled()) {
    // Unnamed statement: parsed and planned each time, on whichever server
    // connection the pooler lends for this one transaction.
    r.reset(PQexecParams(conn_, sql, static_cast<int>(params.size()), nullptr, params.data(), nullptr, nullptr, 0));
  } else if (stmt == Stmt::kAuthorize) {
    name = "ls_authorize";
    if (!authorize_prepared_) {
      r.reset(PQprepare(conn_, name, AuthorizeStatement().c_str(), 3, nullptr));
      authorize_prepared_ = PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    }
  }
  if (!Pooled() && name != nullptr && (stmt != Stmt::kAuthorize || authorize_prepared_))
    r.reset(PQexecPrepared(conn_, name, static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0));
  ExecStatusType st = PQresultStatus(r.get());
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return r;
  const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_DETAIL);
  const char* context = PQresultErrorField(r.get(), PG_DIAG_CONTEXT);
  err->sqlstate = state ? state : "08006";
  err->message = primary ? primary : PQerrorMessage(conn_);
  err->detail = detail ? detail : "";
  err->context = context ? context : "";
  if (PQstatus(conn_) != CONNECTION_OK) {
    err->sqlstate = "08006";
    Drop();
  }
  return std::nullopt;
}

}  // namespace gw
