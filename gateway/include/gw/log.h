// One structured (JSON) line per request on stdout; errors on stderr.
#pragma once
#include <string>

namespace gw {

void LogRequest(const std::string& method, const std::string& path, const char* route, int status,
                double seconds, const std::string& store_id);
void LogError(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace gw
