#include "gw/shape_page.h"

#include <cstdlib>

#include "livestore/core/json.h"

namespace gw {
namespace {

// Electric sends values as strings; a number is accepted too.
bool SeqOf(const rapidjson::Value& msg, int64_t* seq) {
  if (!msg.IsObject()) return false;
  auto value = msg.FindMember("value");
  if (value == msg.MemberEnd() || !value->value.IsObject()) return false;
  auto s = value->value.FindMember("seqNum");
  if (s == value->value.MemberEnd()) return false;
  if (s->value.IsInt64()) {
    *seq = s->value.GetInt64();
    return true;
  }
  if (!s->value.IsString()) return false;
  char* end = nullptr;
  const char* text = s->value.GetString();
  *seq = std::strtoll(text, &end, 10);
  return end != text && *end == '\0';
}

std::string_view Control(const rapidjson::Value& msg) {
  if (!msg.IsObject()) return {};
  auto headers = msg.FindMember("headers");
  if (headers == msg.MemberEnd() || !headers->value.IsObject()) return {};
  auto control = headers->value.FindMember("control");
  if (control == headers->value.MemberEnd() || !control->value.IsString()) return {};
  return {control->value.GetString(), control->value.GetStringLength()};
}

}  // namespace

FilteredPage FilterShapePage(std::string_view body, int64_t client_seq) {
  FilteredPage out;
  out.last_seq = client_seq;
  rapidjson::Document doc;
  ls::ParseUntrusted(doc, body.data(), body.size());
  if (doc.HasParseError() || !doc.IsArray()) return out;
  out.ok = true;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& msg : doc.GetArray()) {
    int64_t seq = 0;
    if (SeqOf(msg, &seq)) {
      if (seq <= out.last_seq) continue;  // the client has it already
      out.last_seq = seq;
      ++out.kept;
      msg.Accept(w);
    } else if (Control(msg) == "up-to-date") {
      out.up_to_date = true;
      msg.Accept(w);
    }
  }
  w.EndArray();
  out.body.assign(buf.GetString(), buf.GetSize());
  return out;
}

}  // namespace gw
