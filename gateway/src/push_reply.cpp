#include "gw/push_reply.h"

#include "livestore/core/json.h"

namespace gw {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& w, const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); }

void StartFailure(JsonWriter& w, const std::string& message) {
  w.StartObject();
  w.Key("success");
  w.Bool(false);
  w.Key("error");
  WriteString(w, message);
}

// True when `text` is one JSON value. It is then copied into the answer as
// it is (no re-serialization: no recursion on deep nesting, numbers exact).
bool IsJson(const std::string& text) {
  if (text.find('\0') != std::string::npos) return false;  // RapidJSON would stop there
  rapidjson::Document doc;
  ls::ParseUntrusted(doc, text.data(), text.size());
  return !doc.HasParseError();
}

}  // namespace

std::string PushErrorJson(const std::string& message, const std::string& code, long head, const std::string& detail) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  StartFailure(w, message);
  if (!code.empty()) {
    w.Key("code");
    WriteString(w, code);
  }
  if (!detail.empty()) {
    w.Key("detail");
    WriteString(w, detail);
  }
  if (head >= 0) {
    w.Key("head");
    w.Int64(head);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string RejectedJson(const std::string& message, const std::string& detail) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  StartFailure(w, message);
  w.Key("code");
  w.String("LS005");
  if (!detail.empty()) {
    w.Key("detail");
    // A byte order mark is skipped by RapidJSON but would not be JSON here.
    if (detail.compare(0, 3, "\xEF\xBB\xBF") != 0 && IsJson(detail))
      w.RawValue(detail.c_str(), detail.size(), rapidjson::kObjectType);
    else
      WriteString(w, detail);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string HookFailedJson(const std::string& sqlstate) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  StartFailure(w, "a server-side hook failed");
  w.Key("code");
  WriteString(w, sqlstate);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace gw
