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
struct PgError {
  std::string sqlstate, message, detail;
  bool connection_lost() const;
};

enum class Stmt { kAppend, kCreateStore, kHead, kStoreInfo, kStoreForTable, kShapePage, kPing };

class PgSession {
 public:
  // The calling thread's session. `conninfo` is used on first use only.
  static PgSession& ForThread(const std::string& conninfo);

  // Runs a prepared statement; returns the result, or nullopt with *err set.
  std::optional<PgResult> Exec(Stmt stmt, const std::vector<const char*>& params, PgError* err);

 private:
  explicit PgSession(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  std::optional<PgResult> ExecOnce(Stmt stmt, const std::vector<const char*>& params, PgError* err);
  bool Connect(PgError* err);
  void Drop();
  std::string conninfo_;
  PGconn* conn_ = nullptr;

 public:
  ~PgSession() { Drop(); }
};

}  // namespace gw
