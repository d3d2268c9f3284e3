#include "gw/version.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "gw/config.h"
#include "gw/log.h"

#ifndef LIVESTORE_VERSION
#error "LIVESTORE_VERSION must be defined (gateway/Makefile takes it from livestore.control)"
#endif

namespace gw {

const char kGatewayVersion[] = LIVESTORE_VERSION;
const char kMinExtensionVersion[] = "0.2.0";
const char kTestedExtensionSeries[] = "0.4";

namespace {

std::vector<long> Parts(const std::string& v) {
  std::vector<long> out;
  size_t i = 0;
  while (i <= v.size()) {
    size_t dot = v.find('.', i);
    if (dot == std::string::npos) dot = v.size();
    const std::string part = v.substr(i, dot - i);
    char* end = nullptr;
    long n = std::strtol(part.c_str(), &end, 10);
    out.push_back(part.empty() || *end != '\0' || n < 0 ? 0 : n);
    i = dot + 1;
  }
  return out;
}

// "0.2.7" is in series "0.2"; "0.3.0" is not.
bool InSeries(const std::string& version, const std::string& series) {
  return version == series || version.compare(0, series.size() + 1, series + ".") == 0;
}

}  // namespace

int CompareVersions(const std::string& a, const std::string& b) {
  std::vector<long> x = Parts(a), y = Parts(b);
  const size_t n = std::max(x.size(), y.size());
  x.resize(n, 0);
  y.resize(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

ExtensionCheck Judge(const std::string& extversion, const std::string& database) {
  ExtensionCheck c;
  c.found = extversion;
  c.database = database;
  const std::string where = "database \"" + database + "\"";
  const std::string needs = std::string("livestore-gateway ") + kGatewayVersion +
                            " needs the livestore extension " + kMinExtensionVersion + " or newer";
  if (extversion.empty()) {
    c.kind = ExtensionCheck::kMissing;
    c.message = needs + "; it is not installed in " + where + ": run CREATE EXTENSION livestore there (as a superuser)";
  } else if (CompareVersions(extversion, kMinExtensionVersion) < 0) {
    c.kind = ExtensionCheck::kTooOld;
    c.message = needs + "; " + where + " has " + extversion +
                ": install the new extension files, then run ALTER EXTENSION livestore UPDATE in that database";
  } else if (CompareVersions(extversion, kTestedExtensionSeries) > 0 && !InSeries(extversion, kTestedExtensionSeries)) {
    c.kind = ExtensionCheck::kNewer;
    c.message = "livestore extension " + extversion + " in " + where + " is newer than this gateway knows (" +
                kTestedExtensionSeries + ".x); using it (extension upgrades keep the SQL API the gateway calls)";
  } else {
    c.kind = ExtensionCheck::kOk;
    c.message = "livestore extension " + extversion + " in " + where;
  }
  return c;
}

ExtensionCheck CheckExtension(const std::string& database_url) {
  // The URL's own connect_timeout, if any, wins: it is expanded after ours.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "livestore-gateway version check", database_url.c_str(), nullptr};
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys, values, 1), &PQfinish);
  ExtensionCheck c;
  auto one_line = [](const char* s) {  // libpq's messages span lines, indented with tabs
    std::string m;
    for (const char* p = s ? s : ""; *p; ++p) {
      const bool space = *p == '\n' || *p == '\t' || *p == ' ';
      if (!space) m += *p;
      else if (!m.empty() && m.back() != ' ') m += ' ';
    }
    while (!m.empty() && m.back() == ' ') m.pop_back();
    return m;
  };
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    c.message = "cannot connect to the database: " + one_line(conn ? PQerrorMessage(conn.get()) : "out of memory");
    return c;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(),
             "SELECT current_database(), (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'livestore')"),
      &PQclear);
  if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK || PQntuples(res.get()) != 1) {
    c.message = "cannot read the extension's version: " + one_line(PQerrorMessage(conn.get()));
    return c;
  }
  return Judge(PQgetisnull(res.get(), 0, 1) ? "" : PQgetvalue(res.get(), 0, 1), PQgetvalue(res.get(), 0, 0));
}

std::string VersionText(const std::string& database_url) {
  std::string out = std::string("livestore-gateway ") + kGatewayVersion + "\n" +
                    "works with the livestore extension " + kMinExtensionVersion + " or newer (released with " +
                    kTestedExtensionSeries + ".x)\n";
  if (database_url.empty()) return out + "extension: not checked (no --database-url or DATABASE_URL)\n";
  const ExtensionCheck c = CheckExtension(database_url);
  switch (c.kind) {
    case ExtensionCheck::kOk:
    case ExtensionCheck::kNewer:
      out += "extension: " + c.found + " (database \"" + c.database + "\")";
      if (c.kind == ExtensionCheck::kNewer) out += ", newer than this gateway knows";
      return out + "\n";
    case ExtensionCheck::kTooOld:
      return out + "extension: " + c.found + " (database \"" + c.database + "\"), too old: " + c.message + "\n";
    case ExtensionCheck::kMissing:
      return out + "extension: not installed (database \"" + c.database + "\")\n";
    case ExtensionCheck::kUnreachable:
      break;
  }
  return out + "extension: unknown, " + c.message + "\n";
}

std::string VersionUsage() {
  auto line = [](std::string flag, const char* help) {
    flag = "  " + flag;
    if (flag.size() < 30) flag.resize(30, ' ');
    return flag + " " + help + "\n";
  };
  return line("--version",
              "print the gateway's version, the extension versions it works with, and the extension version "
              "installed in the database (when it can connect)") +
         line("--help", "print this help");
}

int PrintVersion(int argc, char** argv) {
  // The other flags (and DATABASE_URL) only say where the database is.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i)
    if (std::string(argv[i]) != "--version") rest.push_back(argv[i]);
  std::string url;
  try {
    bool help = false;
    url = ParseConfig(static_cast<int>(rest.size()), rest.data(), &help).database_url;
  } catch (const std::invalid_argument&) {
    const char* env = std::getenv("DATABASE_URL");
    url = env ? env : "";
  }
  std::fputs(VersionText(url).c_str(), stdout);
  return 0;
}

bool CheckExtensionAtStart(const std::string& database_url) {
  const ExtensionCheck c = CheckExtension(database_url);
  switch (c.kind) {
    case ExtensionCheck::kOk:
      LogInfo("%s (this gateway works with %s or newer)", c.message.c_str(), kMinExtensionVersion);
      return true;
    case ExtensionCheck::kNewer:
      LogInfo("warning: %s", c.message.c_str());
      return true;
    case ExtensionCheck::kTooOld:
    case ExtensionCheck::kMissing:
      LogError("refusing to start: %s", c.message.c_str());
      return false;
    case ExtensionCheck::kUnreachable:
      break;
  }
  // Postgres may come up after the gateway (pings answer meanwhile, /healthz
  // says 503): start, and let requests fail until it does.
  LogInfo("warning: could not check the livestore extension's version (%s); starting anyway", c.message.c_str());
  return true;
}

}  // namespace gw
