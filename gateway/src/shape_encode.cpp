#include "gw/shape_encode.h"

namespace gw {
namespace {

void Str(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

ShapeItemsEncoder::ShapeItemsEncoder(std::string_view schema, std::string_view table)
    : schema_(schema), table_(table), w_(buf_) {
  key_prefix_.reserve(schema.size() + table.size() + 8);
  key_prefix_ += '"';
  key_prefix_ += schema;
  key_prefix_ += "\".\"";
  key_prefix_ += table;
  key_prefix_ += "\"/\"";
}

void ShapeItemsEncoder::Add(const ShapeEventRow& row) {
  if (count_++ > 0) buf_.Put(',');
  w_.Reset(buf_);
  key_.assign(key_prefix_);
  key_ += row.seq;
  key_ += '"';
  w_.StartObject();
  w_.Key("key");
  Str(w_, key_);
  w_.Key("value");
  w_.StartObject();
  w_.Key("seqNum");
  Str(w_, row.seq);
  w_.Key("parentSeqNum");
  if (row.parent_null) w_.Null();
  else Str(w_, row.parent);
  w_.Key("name");
  Str(w_, row.name);
  w_.Key("args");
  Str(w_, row.args);
  w_.Key("clientId");
  Str(w_, row.client);
  w_.Key("sessionId");
  Str(w_, row.session);
  w_.EndObject();
  w_.Key("headers");
  w_.StartObject();
  w_.Key("operation");
  w_.String("insert");
  w_.Key("relation");
  w_.StartArray();
  Str(w_, schema_);
  Str(w_, table_);
  w_.EndArray();
  w_.EndObject();
  w_.EndObject();
}

}  // namespace gw
