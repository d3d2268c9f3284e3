// The decision cache of --authorize-function (bounded, short-lived, keyed by
// the exact claims, store and access) and the start-up checks of the auth flags.
#include <chrono>
#include <string>

#include "gw/auth_config.h"
#include "gw/authz.h"
#include "test_support.h"

namespace {

using Clock = gw::DecisionCache::Clock;

TEST(DecisionCache, RemembersForItsLifetimeOnly) {
  gw::DecisionCache cache(10, 100);
  const auto t0 = Clock::now();
  const std::string key = gw::DecisionKey(R"({"sub":"a"})", "list-1", gw::Access::kRead);
  EXPECT_FALSE(cache.Get(key, t0));
  cache.Put(key, true, t0);
  EXPECT_EQ(cache.Get(key, t0 + std::chrono::seconds(9)), std::optional<bool>(true));
  EXPECT_FALSE(cache.Get(key, t0 + std::chrono::seconds(10)));
  cache.Put(key, false, t0 + std::chrono::seconds(20));  // a "no" is remembered too
  EXPECT_EQ(cache.Get(key, t0 + std::chrono::seconds(21)), std::optional<bool>(false));
}

TEST(DecisionCache, KeysTellClaimsStoresAndAccessApart) {
  const std::string base = gw::DecisionKey(R"({"sub":"a"})", "list-1", gw::Access::kRead);
  EXPECT_NE(base, gw::DecisionKey(R"({"sub":"b"})", "list-1", gw::Access::kRead));
  EXPECT_NE(base, gw::DecisionKey(R"({"sub":"a"})", "list-2", gw::Access::kRead));
  EXPECT_NE(base, gw::DecisionKey(R"({"sub":"a"})", "list-1", gw::Access::kWrite));
  EXPECT_NE(base, gw::DecisionKey(R"({"sub": "a"})", "list-1", gw::Access::kRead));
  EXPECT_EQ(base, gw::DecisionKey(R"({"sub":"a"})", "list-1", gw::Access::kRead));
}

TEST(DecisionCache, BoundedTheOldestGoFirst) {
  gw::DecisionCache cache(60, 3);
  const auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) cache.Put("k" + std::to_string(i), true, t0 + std::chrono::milliseconds(i));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Get("k6", t0));
  EXPECT_TRUE(cache.Get("k7", t0 + std::chrono::seconds(1)));
  EXPECT_TRUE(cache.Get("k9", t0 + std::chrono::seconds(1)));
  // Re-putting a key moves it to the back.
  cache.Put("k7", false, t0 + std::chrono::seconds(2));
  cache.Put("k10", true, t0 + std::chrono::seconds(2));
  EXPECT_FALSE(cache.Get("k8", t0 + std::chrono::seconds(2)));
  EXPECT_EQ(cache.Get("k7", t0 + std::chrono::seconds(2)), std::optional<bool>(false));
}

TEST(DecisionCache, ZeroSecondsCachesNothing) {
  gw::DecisionCache cache(0, 100);
  cache.Put("k", true, Clock::now());
  EXPECT_FALSE(cache.Get("k", Clock::now()));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AuthConfig, FlagsThatDoNotFitTogether) {
  gw::Config c;
  c.database_url = "x";
  EXPECT_EQ(gw::AuthConfigError(c), "");
  c.jwt_jwks_url = "https://tenant.example.com/.well-known/jwks.json";
  EXPECT_NE(gw::AuthConfigError(c).find("--jwt-issuer"), std::string::npos);
  c.jwt_issuers = {"https://tenant.example.com/"};
  EXPECT_EQ(gw::AuthConfigError(c), "");
  c.jwt_jwks_file = "/x.json";
  EXPECT_NE(gw::AuthConfigError(c), "");
  c.jwt_jwks_file.clear();
  for (const char* ok : {"public.can_access", "app.authorize_v2", "s$.f$"}) {
    c.authorize_function = ok;
    EXPECT_EQ(gw::AuthConfigError(c), "") << ok;
  }
  for (const char* bad : {"can_access", "public.f(x)", "public.f; DROP TABLE t", "a.b.c", ".f", "s.", "1s.f",
                          "public.\"f\"", "public.f--"}) {
    c.authorize_function = bad;
    EXPECT_NE(gw::AuthConfigError(c), "") << bad;
  }
  gw::Config no_jwt;
  no_jwt.authorize_function = "public.f";
  EXPECT_NE(gw::AuthConfigError(no_jwt), "");
  gw::Config args;
  args.auth_query_param = "args";
  EXPECT_NE(gw::AuthConfigError(args), "");
}

}  // namespace
