// The gateway's own version, the extension versions it works with, and the
// check of the extension installed in the database (at start and for
// --version).
#pragma once
#include <string>

namespace gw {

// This gateway's version (the project's: livestore.control's default_version).
extern const char kGatewayVersion[];
// The oldest extension version this gateway works with: 0.2.0 brought
// livestore.claims (set for every push) and hooks (LS005 answered 422).
extern const char kMinExtensionVersion[];
// The newest extension series it was released with; a newer one is used,
// with a warning (extension upgrades only add to the SQL API).
extern const char kTestedExtensionSeries[];

// Compares dotted numeric versions ("0.10.0" > "0.9.1"); missing parts count
// as 0 and a non-numeric part compares as 0.
int CompareVersions(const std::string& a, const std::string& b);

struct ExtensionCheck {
  enum Kind {
    kOk,           // installed, at least kMinExtensionVersion
    kNewer,        // installed, newer than kTestedExtensionSeries
    kTooOld,       // installed, older than kMinExtensionVersion
    kMissing,      // no CREATE EXTENSION livestore in that database
    kUnreachable,  // could not connect or query (message says why)
  } kind = kUnreachable;
  std::string found;     // extversion, when installed
  std::string database;  // current_database(), when connected
  std::string message;   // one line for the log or --version
};

// What the installed extension means for this gateway, from its version
// (empty: not installed).
ExtensionCheck Judge(const std::string& extversion, const std::string& database);

// Connects once (connect_timeout 5 s unless the URL sets one) and reads the
// extension's version.
ExtensionCheck CheckExtension(const std::string& database_url);

// --version: the gateway's version, the extension versions it works with and
// the one found (`database_url` empty: not checked).
std::string VersionText(const std::string& database_url);

// Lines for --help about --version and --help.
std::string VersionUsage();

// `livestore-gateway --version [flags]`: prints VersionText for the database
// the other flags (or DATABASE_URL) name; returns the exit code.
int PrintVersion(int argc, char** argv);

// At start: logs what was found; false (after logging why) when the
// extension is missing or too old. An unreachable database is only a
// warning: the gateway starts anyway, as it always has.
bool CheckExtensionAtStart(const std::string& database_url);

}  // namespace gw
