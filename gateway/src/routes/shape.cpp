// GET /v1/shape (with --shape-api): the built-in pull behind Electric's own
// HTTP shape API, so that a gateway in proxy mode (or any Electric client)
// can use this gateway as its Electric. Only event-log tables are served.
#include <cctype>

#include "gw/offset.h"
#include "gw/routes.h"
#include "gw/shape_log.h"
#include "livestore/core/json.h"

namespace gw {
namespace {

std::string Param(Request& r, const char* name) {
  const char* v = MHD_lookup_connection_value(r.conn, MHD_GET_ARGUMENT_KIND, name);
  return v ? v : "";
}
bool HasParam(Request& r, const char* name) {
  return MHD_lookup_connection_value(r.conn, MHD_GET_ARGUMENT_KIND, name) != nullptr;
}

MHD_Result Invalid(Server& s, Request& r, const char* field, const std::string& message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("message");
  w.String("Invalid request");
  w.Key("errors");
  w.StartObject();
  w.Key(field);
  w.StartArray();
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return s.Reply(r, 400, std::string(buf.GetString(), buf.GetSize()),
                 {{"cache-control", "no-store"}, {"surrogate-control", "no-store"}});
}

// `name`, `schema.name`, `"Quoted"`: unquoted names fold to lower case.
bool ParseTable(const std::string& in, std::string* schema, std::string* name) {
  std::vector<std::string> parts;
  std::string cur;
  size_t i = 0;
  while (i <= in.size()) {
    if (i < in.size() && in[i] == '"') {
      for (++i; i < in.size(); ++i) {
        if (in[i] == '"') {
          if (i + 1 < in.size() && in[i + 1] == '"') { cur += '"'; ++i; } else break;
        } else {
          cur += in[i];
        }
      }
      if (i >= in.size()) return false;  // unterminated quote
      ++i;
    } else if (i == in.size() || in[i] == '.') {
      if (cur.empty()) return false;
      parts.push_back(cur);
      cur.clear();
      ++i;
    } else {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(in[i])));
      ++i;
    }
  }
  if (parts.size() == 1) { *schema = "public"; *name = parts[0]; }
  else if (parts.size() == 2) { *schema = parts[0]; *name = parts[1]; }
  else return false;
  return true;
}

}  // namespace

MHD_Result HandleShape(Server& s, Request& r) {
  if (r.pull) return ServeShapeLog(s, r);
  if (!s.config().shape_secret.empty()) {
    std::string secret = HasParam(r, "secret") ? Param(r, "secret") : Param(r, "api_secret");
    if (secret != s.config().shape_secret)
      return s.Reply(r, 401, "{\"message\":\"Unauthorized - Invalid API secret\"}", {}, nullptr);
  }
  const std::string offset = Param(r, "offset");
  if (!HasParam(r, "offset")) return Invalid(s, r, "offset", "can't be blank");
  const bool initial = offset == "-1";
  auto after = ParseLogOffset(offset);
  if (!after) return Invalid(s, r, "offset", "has invalid format");
  if (!initial && Param(r, "handle").empty()) return Invalid(s, r, "handle", "can't be blank when offset != -1");
  const bool live = HasParam(r, "live") && Param(r, "live") != "false";
  if (live && initial) return Invalid(s, r, "live", "can't be true when offset == -1");

  std::string schema, table;
  if (!HasParam(r, "table")) return Invalid(s, r, "table", "can't be blank");
  if (!ParseTable(Param(r, "table"), &schema, &table)) return Invalid(s, r, "table", "Invalid table name");
  PgError err;
  auto res = s.db().Exec(Stmt::kStoreForTable, {table.c_str()}, &err);
  if (!res) return s.Reply(r, 503, "{\"code\":\"database_unreachable\",\"error\":\"Database is unreachable\"}",
                           {{"retry-after", "10"}, {"cache-control", "no-store"}});
  if (PQgetisnull(res->get(), 0, 0))
    return Invalid(s, r, "table",
                   "Table \"" + schema + "\".\"" + table +
                       "\" does not exist. If the table name contains capitals or special characters you must "
                       "quote it.");

  auto p = std::make_unique<PullState>();
  p->store_id = PQgetvalue(res->get(), 0, 0);
  r.store_id = p->store_id;
  p->after = *after;
  p->initial = initial;
  p->live = live;
  p->request_handle = Param(r, "handle");
  p->electric_caching = true;
  p->cursor = Param(r, "cursor");
  p->request_offset = offset;
  r.pull = std::move(p);
  return ServeShapeLog(s, r);
}

}  // namespace gw
