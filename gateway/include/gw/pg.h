// One libpq connection per worker thread (never shared between threads),
// opened lazily, re-opened after a failure, with the gateway's statements
// prepared once per connection. Parameterized queries only.
#pragma once
#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gw {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// A failed statement: its SQLSTATE ("08006" style codes for a lost
// connection are synthesized) plus messages for logs and error bodies.
// `context` is the error's CONTEXT (PG_DIAG_CONTEXT): the call stack inside
// Postgres, e.g. `livestore hook f(text,jsonb) on store "x"` for an error
// raised by a hook.
struct PgError {
  std::string sqlstate, message, detail, context;
  bool connection_lost() const;
  // Raised inside a hook that livestore.append or emit ran (its CONTEXT
  // names `livestore hook`): the server's own logic failed, not the client.
  bool raised_in_hook() const;
};

enum class Stmt { kAppend, kCreateStore, kHead, kStoreInfo, kStoreForTable, kEvents, kPing, kAuthorize };

class PgSession {
 public:
  // The calling thread's session. `conninfo` is used on first use only.
  static PgSession& ForThread(const std::string& conninfo);

  // Runs a prepared statement; returns the result, or nullopt with *err set.
  // kAppend takes (store id, push body, claims JSON): the claims become the
  // setting livestore.claims, local to the append's own transaction.
  std::optional<PgResult> Exec(Stmt stmt, const std::vector<const char*>& params, PgError* err);

  // The SQL of Stmt::kAuthorize (--authorize-function); set once, before any
  // session is used. It is prepared on first use, so that a missing function
  // fails only the authorization, never the other statements.
  static void SetAuthorizeSql(std::string sql);

  // --database-pooled: statements run unnamed (PQexecParams) and no session
  // setting is relied on, as a transaction pooler requires. Set once, first.
  static void SetPooled(bool pooled);

 private:
  explicit PgSession(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  std::optional<PgResult> ExecOnce(Stmt stmt, const std::vector<const char*>& params, PgError* err);
  bool Connect(PgError* err);
  void Drop();
  std::string conninfo_;
  PGconn* conn_ = nullptr;
  bool authorize_prepared_ = false;

 public:
  ~PgSession() { Drop(); }
};

}  // namespace gw
