#include "gw/electric_url.h"

namespace gw {

std::string PercentEncode(std::string_view in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string ShapeBaseUrl(const ElectricTarget& target, const std::string& table) {
  std::string url = target.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/v1/shape?table=" + PercentEncode("\"" + table + "\"");
  if (!target.source_id.empty()) url += "&source_id=" + PercentEncode(target.source_id);
  if (!target.source_secret.empty()) url += "&source_secret=" + PercentEncode(target.source_secret);
  if (!target.secret.empty()) url += "&api_secret=" + PercentEncode(target.secret);
  return url;
}

std::string ShapePosition(bool has_handle, const std::string& handle, std::string_view offset, bool live) {
  if (!has_handle || offset == "-1") return "&offset=-1";
  return "&offset=" + PercentEncode(offset) + "&handle=" + PercentEncode(handle) + "&live=" + (live ? "true" : "false");
}

std::string MakeElectricUrl(const ElectricTarget& target, const std::string& table,
                            const PullArgs& args, std::string_view offset) {
  return ShapeBaseUrl(target, table) + ShapePosition(args.has_handle, args.handle, offset, args.live);
}

}  // namespace gw
