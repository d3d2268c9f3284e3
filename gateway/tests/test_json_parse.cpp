// ls::ParseUntrusted: the same documents and the same errors as RapidJSON's
// parse with kParseUntrusted, whichever path (ASCII, or checked) it takes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "livestore/core/json.h"

namespace {

// The document as compact text, or the error code and its offset.
std::string Outcome(const rapidjson::Document& doc) {
  if (doc.HasParseError())
    return "error " + std::to_string(doc.GetParseError()) + " at " + std::to_string(doc.GetErrorOffset());
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  doc.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

TEST(ParseUntrusted, AsChecked) {
  const std::vector<std::string> inputs = {
      "{\"a\":[1,2.5,true,null,\"x\"]}",
      "[\"tab\\t quote\\\" slash\\/ \\u00e9 \\ud83d\\ude00\"]",
      "{\"a\":",                      // truncated
      "[1,]",                         // trailing comma
      "[\"\\ud800\"]",                // a high surrogate alone
      "[\"\\ud800\\u0041\"]",         // a high surrogate before no low one
      "[\"\x01\"]",                   // a control character unescaped
      "[\"caf\xC3\xA9\"]",            // UTF-8, valid
      "[\"\xF0\x9F\x98\x80\"]",       // UTF-8, four bytes
      "[\"s\xC3\"]",                  // UTF-8, cut short
      "[\"\xC0\xAF\"]",               // UTF-8, overlong
      "[\"\xED\xA0\x80\"]",           // UTF-8 of a surrogate
      "[\"\xFF\"]",                   // never UTF-8
      "{\"long\":\"" + std::string(100, 'a') + "\xC3\"}",  // the bad byte past the first words
  };
  for (const std::string& in : inputs) {
    rapidjson::Document checked, fast;
    checked.Parse<ls::kParseUntrusted>(in.data(), in.size());
    ls::ParseUntrusted(fast, in.data(), in.size());
    EXPECT_EQ(Outcome(fast), Outcome(checked)) << "for " << in;
  }
  // Invalid UTF-8 is refused: the check was not skipped for text with high bytes.
  const std::string bad = "[\"s\xC3\"]";
  rapidjson::Document doc;
  ls::ParseUntrusted(doc, bad.data(), bad.size());
  EXPECT_EQ(doc.GetParseError(), rapidjson::kParseErrorStringInvalidEncoding);
}

TEST(ParseUntrusted, IsAscii) {
  EXPECT_TRUE(ls::IsAscii("", 0));
  EXPECT_TRUE(ls::IsAscii("plain text, long enough for words", 33));
  for (size_t at = 0; at < 20; ++at) {  // a high byte in each word position and in the tail
    std::string s(19, 'a');
    if (at < s.size()) s[at] = '\x80';
    EXPECT_EQ(ls::IsAscii(s.data(), s.size()), at >= s.size()) << at;
  }
}

}  // namespace
