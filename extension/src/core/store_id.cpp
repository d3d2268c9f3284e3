#include "livestore/core/store_id.h"

#include <vector>

#include "livestore/core/error.h"

namespace ls {
namespace {

// UTF-8 -> UTF-16 code units, as JavaScript sees the string.
std::vector<uint16_t> ToUtf16(std::string_view s) {
  std::vector<uint16_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) { cp = c; n = 1; }
    else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 2; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 3; }
    else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; n = 4; }
    else throw Error(sqlstate::kInvalidParameter, "store id is not valid UTF-8");
    if (i + n > s.size()) throw Error(sqlstate::kInvalidParameter, "store id is not valid UTF-8");
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) throw Error(sqlstate::kInvalidParameter, "store id is not valid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static const uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      throw Error(sqlstate::kInvalidParameter, "store id is not valid UTF-8");
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

bool IsWordChar(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

int32_t EffectStringHash(std::string_view utf8) {
  std::vector<uint16_t> units = ToUtf16(utf8);
  uint32_t h = 5381;
  for (size_t i = units.size(); i-- > 0;) h = (h * 33u) ^ units[i];
  uint32_t folded = (h & 0xBFFFFFFFu) | ((h >> 1) & 0x40000000u);
  return static_cast<int32_t>(folded);
}

std::string TableName(std::string_view store_id) {
  if (store_id.empty()) throw Error(sqlstate::kInvalidParameter, "store id must not be empty");
  std::vector<uint16_t> units = ToUtf16(store_id);
  std::string name = "eventlog_" + std::to_string(kPersistenceFormatVersion) + "_";
  const size_t prefix = name.size();
  if (prefix + units.size() > 63)
    return name + "hash_" + std::to_string(EffectStringHash(store_id));
  for (uint16_t u : units) name.push_back(IsWordChar(u) ? static_cast<char>(u) : '_');
  return name;
}

void ValidateStoreId(std::string_view store_id) {
  if (store_id.empty()) throw Error(sqlstate::kInvalidParameter, "store id must not be empty");
  if (store_id.size() > kMaxStoreIdBytes)
    throw Error(sqlstate::kProgramLimit,
                "store id is longer than " + std::to_string(kMaxStoreIdBytes) + " bytes");
  for (char c : store_id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(IsWordChar(u) || u == '-'))
      throw Error(sqlstate::kInvalidParameter,
                  "store id may contain only letters, digits, '_' and '-'");
  }
}

}  // namespace ls
