#include "gw/shape_encode.h"

#include <cstring>

namespace gw {
namespace {

void Str(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

ShapeItemsEncoder::ShapeItemsEncoder(std::string_view schema, std::string_view table) : esc_(buf_) {
  // What every message of the page shares, escaped once here: the key's
  // "schema"."table"/" (the seqNum and \"" follow), and the headers object.
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
  key_open_ = "{\"key\":";
  key_open_.append(b.GetString(), b.GetSize() - 1);  // open: the string goes on
  b.Clear();
  w.Reset(b);
  w.StartObject();
  w.Key("operation");
  w.String("insert");
  w.Key("relation");
  w.StartArray();
  Str(w, schema);
  Str(w, table);
  w.EndArray();
  w.EndObject();
  headers_close_ = "},\"headers\":";
  headers_close_.append(b.GetString(), b.GetSize());
  headers_close_ += '}';
}

void ShapeItemsEncoder::Raw(std::string_view s) { std::memcpy(buf_.Push(s.size()), s.data(), s.size()); }

void ShapeItemsEncoder::Add(const ShapeEventRow& row) {
  if (count_++ > 0) Raw(",");
  // seqNum and parentSeqNum are integers' text (digits, maybe a sign):
  // nothing to escape.
  Raw(key_open_);
  Raw(row.seq);
  Raw("\\\"\",\"value\":{\"seqNum\":\"");
  Raw(row.seq);
  if (row.parent_null) {
    Raw("\",\"parentSeqNum\":null,\"name\":");
  } else {
    Raw("\",\"parentSeqNum\":\"");
    Raw(row.parent);
    Raw("\",\"name\":");
  }
  esc_.Quoted(row.name);
  Raw(",\"args\":");
  esc_.Quoted(row.args);
  Raw(",\"clientId\":");
  esc_.Quoted(row.client);
  Raw(",\"sessionId\":");
  esc_.Quoted(row.session);
  Raw(headers_close_);
}

}  // namespace gw
