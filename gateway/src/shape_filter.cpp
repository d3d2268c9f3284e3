#include "gw/shape_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "livestore/core/json.h"

namespace gw {
namespace {

int ColumnIndex(const std::string& name) {
  for (int i = 0; i < 6; ++i)
    if (name == kShapeColumns[i]) return i;
  return -1;
}

// The per-column entries of electric-schema, in table order.
constexpr const char* kColumnSchema[] = {
    "\"seqNum\":{\"type\":\"int4\",\"not_null\":true,\"pk_index\":0}", "\"parentSeqNum\":{\"type\":\"int4\"}",
    "\"name\":{\"type\":\"text\",\"not_null\":true}",                  "\"args\":{\"type\":\"jsonb\",\"not_null\":true}",
    "\"clientId\":{\"type\":\"text\",\"not_null\":true}",              "\"sessionId\":{\"type\":\"text\",\"not_null\":true}"};

// A tokenizer for the where clause: quoted or bare identifiers, integers,
// comparison operators and parentheses; nothing else.
struct Token {
  enum Kind { kEnd, kIdent, kQuoted, kInt, kOp, kOpen, kClose, kBad } kind = kEnd;
  std::string text;
  size_t at = 0;
};

class Lexer {
 public:
  explicit Lexer(const std::string& in) : in_(in) {}
  Token Next() {
    while (pos_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[pos_]))) ++pos_;
    Token t;
    t.at = pos_ + 1;
    if (pos_ >= in_.size()) return t;
    const char c = in_[pos_];
    if (c == '"') {
      t.kind = Token::kQuoted;
      for (++pos_; pos_ < in_.size(); ++pos_) {
        if (in_[pos_] == '"') {
          if (pos_ + 1 < in_.size() && in_[pos_ + 1] == '"') { t.text += '"'; ++pos_; continue; }
          ++pos_;
          return t;
        }
        t.text += in_[pos_];
      }
      t.kind = Token::kBad;  // unterminated
      t.text = "unterminated quoted identifier";
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Token::kIdent;
      while (pos_ < in_.size() && (std::isalnum(static_cast<unsigned char>(in_[pos_])) || in_[pos_] == '_' ||
                                   in_[pos_] == '$'))
        t.text += static_cast<char>(std::tolower(static_cast<unsigned char>(in_[pos_++])));
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && pos_ + 1 < in_.size() &&
                                                        std::isdigit(static_cast<unsigned char>(in_[pos_ + 1])))) {
      t.kind = Token::kInt;
      t.text += in_[pos_++];
      while (pos_ < in_.size() && std::isdigit(static_cast<unsigned char>(in_[pos_]))) t.text += in_[pos_++];
      // 1.5, 1e3, 12abc: not an integer literal.
      if (pos_ < in_.size() && (std::isalnum(static_cast<unsigned char>(in_[pos_])) || in_[pos_] == '.' ||
                                in_[pos_] == '_')) {
        t.kind = Token::kBad;
        t.text = "only integer literals are supported";
      }
      return t;
    }
    if (c == '(' || c == ')') {
      t.kind = c == '(' ? Token::kOpen : Token::kClose;
      t.text = c;
      ++pos_;
      return t;
    }
    for (const char* op : {"<>", "!=", "<=", ">=", "=", "<", ">"}) {
      const size_t n = std::char_traits<char>::length(op);
      if (in_.compare(pos_, n, op) == 0) {
        t.kind = Token::kOp;
        t.text = op;
        pos_ += n;
        return t;
      }
    }
    t.kind = Token::kBad;
    t.text = std::string("unexpected character '") + c + "'";
    return t;
  }

 private:
  const std::string& in_;
  size_t pos_ = 0;
};

class WhereParser {
 public:
  WhereParser(const std::string& in, ShapeFilter* f) : lex_(in), f_(f) { Advance(); }

  bool Parse(std::string* error) {
    if (!Conjunction(0) || !Expect(Token::kEnd, "end of the clause")) {
      *error = error_;
      return false;
    }
    return true;
  }

 private:
  void Advance() { tok_ = lex_.Next(); }
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = "At location " + std::to_string(tok_.at) + ": " + what;
    return false;
  }
  bool Expect(Token::Kind kind, const char* what) {
    if (tok_.kind == Token::kBad) return Fail(tok_.text);
    if (tok_.kind != kind) return Fail(std::string("expected ") + what + Found());
    return true;
  }
  std::string Found() const { return tok_.kind == Token::kEnd ? ", found the end" : ", found \"" + tok_.text + "\""; }

  bool Conjunction(int depth) {
    if (depth > 32) return Fail("too deeply nested");
    for (;;) {
      if (tok_.kind == Token::kOpen) {
        Advance();
        if (!Conjunction(depth + 1) || !Expect(Token::kClose, "')'")) return false;
        Advance();
      } else if (!Comparison()) {
        return false;
      }
      if (tok_.kind == Token::kIdent && tok_.text == "and") {
        Advance();
        continue;
      }
      return true;
    }
  }

  // Operand: the column ("seqNum", quoted: bare names fold to lower case) or an integer.
  bool Operand(bool* is_column, int64_t* value) {
    if (tok_.kind == Token::kQuoted || tok_.kind == Token::kIdent) {
      if (tok_.text != "seqNum") {
        if (ColumnIndex(tok_.text) >= 0) return Fail("only \"seqNum\" can be filtered on, found \"" + tok_.text + "\"");
        return Fail("Unknown reference \"" + tok_.text + "\"" +
                    (tok_.kind == Token::kIdent && tok_.text == "seqnum" ? " (quote it: \"seqNum\")" : ""));
      }
      *is_column = true;
    } else if (tok_.kind == Token::kInt) {
      auto [end, ec] = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), *value);
      if (ec != std::errc() || end != tok_.text.data() + tok_.text.size()) return Fail("integer out of range");
      *is_column = false;
    } else {
      if (tok_.kind == Token::kBad) return Fail(tok_.text);
      return Fail("expected \"seqNum\" or an integer" + Found());
    }
    Advance();
    return true;
  }

  bool Comparison() {
    bool left_col = false, right_col = false;
    int64_t left = 0, right = 0;
    if (!Operand(&left_col, &left)) return false;
    if (!Expect(Token::kOp, "a comparison operator (= <> != < <= > >=)")) return false;
    std::string op = tok_.text;
    Advance();
    if (!Operand(&right_col, &right)) return false;
    if (left_col == right_col) return Fail("a comparison must be between \"seqNum\" and an integer");
    int64_t v = left_col ? right : left;
    if (!left_col) {  // 5 < "seqNum" is "seqNum" > 5
      if (op == "<") op = ">";
      else if (op == ">") op = "<";
      else if (op == "<=") op = ">=";
      else if (op == ">=") op = "<=";
    }
    const int64_t kMin = std::numeric_limits<int64_t>::min();
    // Bounds are "seqNum" > above and "seqNum" <= at_most; v - 1 saturates
    // (nothing is below INT64_MIN, so "< INT64_MIN" keeps nothing either way).
    const int64_t below = v == kMin ? kMin : v - 1;
    if (op == "=") {
      f_->above = std::max(f_->above, below);
      f_->at_most = std::min(f_->at_most, v);
    } else if (op == "<>" || op == "!=") {
      f_->excluded.push_back(v);
    } else if (op == "<") {
      f_->at_most = std::min(f_->at_most, below);
    } else if (op == "<=") {
      f_->at_most = std::min(f_->at_most, v);
    } else if (op == ">") {
      f_->above = std::max(f_->above, v);
    } else {  // >=
      f_->above = std::max(f_->above, below);
    }
    return true;
  }

  Lexer lex_;
  ShapeFilter* f_;
  Token tok_;
  std::string error_;
};

}  // namespace

bool ShapeFilter::Keeps(int64_t seq) const {
  return seq > above && seq <= at_most && std::find(excluded.begin(), excluded.end(), seq) == excluded.end();
}

bool ShapeFilter::Narrows() const {
  return columns != kAllShapeColumns || above != std::numeric_limits<int64_t>::min() ||
         at_most != std::numeric_limits<int64_t>::max() || !excluded.empty();
}

int32_t ShapeFilter::SkipThrough() const {
  if (above <= 0) return 0;
  return static_cast<int32_t>(std::min<int64_t>(above, std::numeric_limits<int32_t>::max()));
}

bool ParseShapeColumns(const std::string& in, unsigned* mask, std::string* error) {
  unsigned m = 0;
  std::vector<std::string> unknown;
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < in.size() && std::isspace(static_cast<unsigned char>(in[i]))) ++i;
  };
  for (;;) {
    std::string name;
    skip_spaces();
    if (i < in.size() && in[i] == '"') {
      for (++i;; ++i) {
        if (i >= in.size()) {
          *error = "Invalid column list: unterminated quoted name";
          return false;
        }
        if (in[i] == '"') {
          if (i + 1 < in.size() && in[i + 1] == '"') { name += '"'; ++i; continue; }
          ++i;
          break;
        }
        name += in[i];
      }
      skip_spaces();
      if (i < in.size() && in[i] != ',') {
        *error = "Invalid column list: unexpected text after a quoted name";
        return false;
      }
    } else {
      while (i < in.size() && in[i] != ',') name += static_cast<char>(std::tolower(static_cast<unsigned char>(in[i++])));
      while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
    }
    if (name.empty()) {
      *error = "Invalid zero-length delimited identifier";
      return false;
    }
    const int idx = ColumnIndex(name);
    if (idx < 0) unknown.push_back(name);
    else m |= 1u << idx;
    if (i >= in.size()) break;
    ++i;  // the comma
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    *error = "The following columns are not found on the table: " + list;
    return false;
  }
  if (!(m & 1u)) {
    *error = "The list of columns must include all primary key columns, missing: seqNum";
    return false;
  }
  *mask = m;
  return true;
}

bool ParseShapeWhere(const std::string& in, ShapeFilter* f, std::string* error) {
  ShapeFilter parsed = *f;
  WhereParser parser(in, &parsed);
  if (!parser.Parse(error)) return false;
  *f = parsed;
  return true;
}

std::string ShapeSchemaHeader(unsigned columns) {
  std::string out = "{";
  for (int i = 0; i < 6; ++i) {
    if (!(columns & (1u << i))) continue;
    if (out.size() > 1) out += ',';
    out += kColumnSchema[i];
  }
  return out + "}";
}

std::string FilterShapeItems(const ShapeFilter& f, const std::string& items) {
  if (items.empty()) return items;
  rapidjson::Document doc;
  const std::string array = "[" + items + "]";
  doc.Parse(array.c_str(), array.size());
  if (doc.HasParseError() || !doc.IsArray()) throw ls::Error(ls::sqlstate::kInternal, "shape page is not JSON");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  bool first = true;
  for (auto& item : doc.GetArray()) {
    auto value = item.FindMember("value");
    if (value == item.MemberEnd() || !value->value.IsObject()) continue;
    auto seq = value->value.FindMember("seqNum");
    if (seq == value->value.MemberEnd() || !seq->value.IsString()) continue;
    int64_t n = 0;
    const char* s = seq->value.GetString();
    std::from_chars(s, s + seq->value.GetStringLength(), n);
    if (!f.Keeps(n)) continue;
    for (int i = 0; i < 6; ++i)
      if (!(f.columns & (1u << i))) {
        auto m = value->value.FindMember(kShapeColumns[i]);
        if (m != value->value.MemberEnd()) value->value.EraseMember(m);  // keeps the order
      }
    if (!first) buf.Put(',');
    first = false;
    w.Reset(buf);
    item.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace gw
