// livestore-gateway: config, signals, start and graceful stop.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <stdexcept>

#include <curl/curl.h>

#include "gw/auth.h"
#include "gw/config.h"
#include "gw/log.h"
#include "gw/page_cache.h"
#include "gw/server.h"
#include "gw/version.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--version") return gw::PrintVersion(argc, argv);
  bool help = false;
  gw::Config config;
  try {
    config = gw::ParseConfig(argc, argv, &help);
  } catch (const std::invalid_argument& e) {
    if (!help) {
      std::fprintf(stderr, "livestore-gateway: %s\n", e.what());
      return 2;
    }
  }
  if (help) {
    std::fputs(gw::Usage().c_str(), stdout);
    std::fputs(gw::VersionUsage().c_str(), stdout);
    return 0;
  }

  if (gw::AuthRequiredButMissing(config)) {
    std::fprintf(stderr,
                 "livestore-gateway: refusing to listen on %s without auth: set --jwt-jwks-url (or another JWT key) "
                 "or --auth-token, "
                 "or pass --insecure\n",
                 config.listen_host.c_str());
    return 2;
  }
  // Held long polls are open sockets: allow as many as the connection limit.
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);  // one log line per request, as it happens
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // inherited by every thread
  // Refuses a database without the extension, or with one too old.
  if (!gw::CheckExtensionAtStart(config.database_url)) return 1;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  {
    gw::PageCache::Shared().SetBudget(static_cast<size_t>(config.page_cache_mb) << 20);
    gw::Server server(config);
    std::string error;
    if (!server.Start(&error)) {
      gw::LogError("%s", error.c_str());
      curl_global_cleanup();
      return 1;
    }
    const char* mode = config.electric_url.empty() ? "built-in" : "proxied";
    if (server.socket_activated())
      gw::LogInfo("listening on the socket passed by systemd, endpoint %s (%s pull)", config.endpoint.c_str(), mode);
    else
      gw::LogInfo("listening on http://%s:%u%s (%s pull)", config.listen_host.c_str(), server.port(),
                  config.endpoint.c_str(), mode);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    gw::LogInfo("signal %d: answering held polls, finishing in-flight requests", sig);
    server.Shutdown();
    gw::LogInfo("stopped");
  }
  curl_global_cleanup();
  return rc;
}
