#include "gw/page_read.h"

#include <cstdlib>
#include <string_view>

#include "gw/server.h"
#include "gw/shape_encode.h"

namespace gw {

std::string PageKey(const PageSource& src, int32_t after, int page_events) {
  return src.table + '/' + src.handle + '/' + std::to_string(after) + '/' + std::to_string(page_events);
}

bool ReadPage(Server& s, const PageSource& src, int32_t after, int page_events, Page* page, PgError* err) {
  const std::string from = std::to_string(after), limit = std::to_string(page_events + 1);
  auto res = s.db().Exec(Stmt::kEvents, {src.store_id.c_str(), from.c_str(), limit.c_str()}, err);
  if (!res) return false;
  PGresult* r = res->get();
  const int rows = PQntuples(r);
  const int n = rows > page_events ? page_events : rows;
  ShapeItemsEncoder enc(src.schema, src.table);
  auto col = [r](int row, int c) { return std::string_view(PQgetvalue(r, row, c), PQgetlength(r, row, c)); };
  for (int i = 0; i < n; ++i)
    enc.Add({col(i, 0), col(i, 1), col(i, 2), col(i, 3), col(i, 4), col(i, 5), PQgetisnull(r, i, 1) != 0});
  page->events = n;
  page->last_seq = n > 0 ? std::atoi(PQgetvalue(r, n - 1, 0)) : 0;
  page->more = rows > n;
  page->items = enc.Take();
  return true;
}

}  // namespace gw
