// GET /v1/shape (with --shape-api): the built-in pull behind Electric's own
// HTTP shape API, so that a gateway in proxy mode (or any Electric client)
// can use this gateway as its Electric. Only event-log tables are served.
#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "gw/offset.h"
#include "gw/routes.h"
#include "gw/shape_filter.h"
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

// Every query parameter, in order (a bare `&live` has an empty value).
std::vector<std::pair<std::string, std::string>> AllParams(Request& r) {
  std::vector<std::pair<std::string, std::string>> out;
  MHD_get_connection_values(
      r.conn, MHD_GET_ARGUMENT_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
        static_cast<std::vector<std::pair<std::string, std::string>>*>(cls)->emplace_back(key ? key : "",
                                                                                          value ? value : "");
        return MHD_YES;
      },
      &out);
  return out;
}

// What this /v1/shape does with each parameter Electric's clients may send.
// Anything it cannot honour is refused (400 naming it), never ignored: an
// ignored `where` or subset would hand the caller rows it did not ask for.
// On success *filter holds the parsed `columns` and `where`.
bool CheckParams(Request& r, ShapeFilter* filter, std::string* field, std::string* message) {
  for (const auto& [key, value] : AllParams(r)) {
    *field = key;
    if (key == "table" || key == "offset" || key == "handle" || key == "live" || key == "cursor" ||
        key == "secret" || key == "api_secret" || key == "source_id" || key == "source_secret" ||
        key == "expired_handle" || key == "cache-buster")
      continue;  // handled below, or (last four) routing and cache busting only
    if (key == "log") {
      if (value == "full") continue;
      *message = value == "changes_only" ? "changes_only is not supported by this server (only full)"
                                         : "is invalid (only full is supported)";
      return false;
    }
    if (key == "replica") {
      // An append-only log has only inserts, which carry the full row either way.
      if (value == "default" || value == "full") continue;
      *message = "is invalid";
      return false;
    }
    if (key == "live_sse" || key == "experimental_live_sse") {
      if (value == "false") continue;
      *message = "server-sent events are not supported by this server (use long polling)";
      return false;
    }
    if (key == "columns") {
      if (ParseShapeColumns(value, &filter->columns, message)) continue;
      return false;
    }
    if (key == "where") {
      if (ParseShapeWhere(value, filter, message)) continue;
      return false;
    }
    if (key == "params" || key.compare(0, 7, "params[") == 0) {
      *message = "is not supported by this server (where takes integer literals only)";
      return false;
    }
    if (key.compare(0, 8, "subset__") == 0) {
      *message = "subset snapshots are not supported by this server";
      return false;
    }
    *message = "is not supported by this server";
    return false;
  }
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
  ShapeFilter filter;
  std::string field, message;
  if (!CheckParams(r, &filter, &field, &message)) return Invalid(s, r, field.c_str(), message);

  std::string schema, table;
  if (!HasParam(r, "table")) return Invalid(s, r, "table", "can't be blank");
  if (!ParseTable(Param(r, "table"), &schema, &table)) return Invalid(s, r, "table", "Invalid table name");
  PgError err;
  auto res = s.db().Exec(Stmt::kStoreForTable, {table.c_str()}, &err);
  if (!res) return s.Reply(r, 503, "{\"code\":\"database_unreachable\",\"error\":\"Database is unreachable\"}",
                           {{"retry-after", "10"}, {"cache-control", "no-store"}});
  if (PQgetisnull(res->get(), 0, 0) || schema != PQgetvalue(res->get(), 0, 1))
    return Invalid(s, r, "table",
                   "Table \"" + schema + "\".\"" + table +
                       "\" does not exist. If the table name contains capitals or special characters you must "
                       "quote it.");

  auto p = std::make_unique<PullState>();
  p->store_id = PQgetvalue(res->get(), 0, 0);
  r.store_id = p->store_id;
  // Resolved here, not from the pull's store cache: a store dropped and
  // created again under the same table has a new handle, and old handles
  // must get 409.
  p->table = table;
  p->schema = schema;
  p->handle = PQgetvalue(res->get(), 0, 2);
  p->resolved = true;
  p->after = std::max(*after, filter.SkipThrough());  // nothing below the where's bound
  if (filter.Narrows()) p->filter = filter;
  p->refetch_on_new_handle = true;
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
