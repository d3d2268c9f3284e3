#include "gw/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

#include "livestore/core/json.h"

namespace gw {
namespace {

std::string Timestamp() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
  return buf;
}

void Emit(FILE* out, const char* level, const char* fmt, va_list ap) {
  char msg[2048];
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("ts");
  w.String(Timestamp().c_str());
  w.Key("level");
  w.String(level);
  w.Key("msg");
  w.String(msg);
  w.EndObject();
  std::fprintf(out, "%s\n", buf.GetString());
  std::fflush(out);
}

}  // namespace

void LogRequest(const std::string& method, const std::string& path, const char* route, int status,
                double seconds, const std::string& store_id) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("ts");
  w.String(Timestamp().c_str());
  w.Key("method");
  w.String(method.c_str());
  w.Key("path");
  w.String(path.c_str());
  w.Key("route");
  w.String(route);
  w.Key("status");
  w.Int(status);
  w.Key("ms");
  w.Double(static_cast<double>(static_cast<long>(seconds * 1e4)) / 10.0);
  if (!store_id.empty()) {
    w.Key("store");
    w.String(store_id.c_str());
  }
  w.EndObject();
  std::fprintf(stdout, "%s\n", buf.GetString());
}

void LogError(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Emit(stderr, "error", fmt, ap);
  va_end(ap);
}

void LogInfo(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Emit(stdout, "info", fmt, ap);
  va_end(ap);
}

}  // namespace gw
