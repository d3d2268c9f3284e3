#include "gw/shape_encode.h"

namespace gw {
namespace {

void Str(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

ShapeItemsEncoder::ShapeItemsEncoder(std::string_view schema, std::string_view table)
    : schema_(schema), table_(table), w_(buf_) {
  // What every message of the page shares, escaped once here and written
  // raw per row: the key's "schema"."table"/" and the headers object.
  std::string key_prefix;
  key_prefix.reserve(schema.size() + table.size() + 8);
  key_prefix += '"';
  key_prefix += schema;
  key_prefix += "\".\"";
  key_prefix += table;
  key_prefix += "\"/\"";
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  Str(w, key_prefix);
  raw_key_prefix_.assign(b.GetString(), b.GetSize() - 1);  // open: the seqNum and \"" follow
  b.Clear();
  w.Reset(b);
  w.StartObject();
  w.Key("operation");
  w.String("insert");
  w.Key("relation");
  w.StartArray();
  Str(w, schema_);
  Str(w, table_);
  w.EndArray();
  w.EndObject();
  raw_headers_.assign(b.GetString(), b.GetSize());
}

void ShapeItemsEncoder::Add(const ShapeEventRow& row) {
  if (count_++ > 0) buf_.Put(',');
  w_.Reset(buf_);
  // seqNum is an integer's text (digits, maybe a sign): nothing to escape.
  key_.assign(raw_key_prefix_);
  key_ += row.seq;
  key_ += "\\\"\"";
  w_.StartObject();
  w_.Key("key");
  w_.RawValue(key_.data(), key_.size(), rapidjson::kStringType);
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
  w_.RawValue(raw_headers_.data(), raw_headers_.size(), rapidjson::kObjectType);
  w_.EndObject();
}

}  // namespace gw
