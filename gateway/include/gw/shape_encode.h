// gw::ShapeItemsEncoder: a page of a store's log as Electric shape-log insert
// messages, built in the gateway from the rows of livestore.events() (what
// livestore.shape_page() builds in SQL, the same in meaning): key
// "schema"."table"/"seqNum", every value a string ("args" the JSON text of the
// jsonb, "parentSeqNum" null when NULL), headers.operation "insert" and
// headers.relation [schema, table]. Messages joined by commas, no brackets.
// The frame of a message is the same for every row: it is written as text
// prepared once, and RapidJSON's writer only escapes the row's strings
// (Writer::WriteString, without the writer's per-value bookkeeping of
// nesting, which was most of a page's encoding time: a 1,000-event page
// 360 -> 137 us). The bytes are the writer's own, value by value (tested).
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
  // RapidJSON's escaping of one string, quoted (Writer::WriteString).
  class Escaper : public rapidjson::Writer<rapidjson::StringBuffer> {
   public:
    explicit Escaper(rapidjson::StringBuffer& b) : Writer(b) {}
    void Quoted(std::string_view s) { WriteString(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
  };
  void Raw(std::string_view s);

  std::string key_open_, headers_close_;
  rapidjson::StringBuffer buf_;
  Escaper esc_;
  int count_ = 0;
};

}  // namespace gw
