// gw::ShapeItemsEncoder: a page of a store's log as Electric shape-log insert
// messages, built in the gateway from the rows of livestore.events() (what
// livestore.shape_page() builds in SQL, the same in meaning): key
// "schema"."table"/"seqNum", every value a string ("args" the JSON text of the
// jsonb, "parentSeqNum" null when NULL), headers.operation "insert" and
// headers.relation [schema, table]. Messages joined by commas, no brackets.
#pragma once
#include <string>
#include <string_view>

#include "livestore/core/json.h"

namespace gw {

// One row of livestore.events() in Postgres's text format.
struct ShapeEventRow {
  std::string_view seq, parent, name, args, client, session;
  bool parent_null = false;
};

class ShapeItemsEncoder {
 public:
  ShapeItemsEncoder(std::string_view schema, std::string_view table);
  void Add(const ShapeEventRow& row);
  int count() const { return count_; }
  // The comma-joined messages so far.
  std::string Take() const { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  std::string schema_, table_, raw_key_prefix_, raw_headers_, key_;
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
  int count_ = 0;
};

}  // namespace gw
