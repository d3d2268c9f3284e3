// The database flags: --database-pooled and --listen-database-url (with its
// default), from flags and from the environment.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gw/config.h"
#include "test_support.h"

namespace {

using gwtest::ParseArgs;

TEST(ConfigDatabase, ListenUrlDefaultsToTheDatabaseUrl) {
  gw::Config c = ParseArgs({"--database-url", "host=db"});
  EXPECT_EQ(c.listen_database_url, "host=db");
  EXPECT_FALSE(c.database_pooled);
}

TEST(ConfigDatabase, PooledWithASessionUrlForListen) {
  gw::Config c = ParseArgs({"--database-url", "host=pgbouncer port=6432", "--database-pooled", "--listen-database-url=host=db"});
  EXPECT_TRUE(c.database_pooled);
  EXPECT_EQ(c.database_url, "host=pgbouncer port=6432");
  EXPECT_EQ(c.listen_database_url, "host=db");
}

TEST(ConfigDatabase, FromTheEnvironment) {
  setenv("LIVESTORE_DATABASE_POOLED", "1", 1);
  setenv("LIVESTORE_LISTEN_DATABASE_URL", "host=direct", 1);
  gw::Config c = ParseArgs({"--database-url", "host=pool"});
  EXPECT_TRUE(c.database_pooled);
  EXPECT_EQ(c.listen_database_url, "host=direct");
  setenv("LIVESTORE_DATABASE_POOLED", "false", 1);
  EXPECT_FALSE(ParseArgs({"--database-url", "host=pool"}).database_pooled);
  unsetenv("LIVESTORE_DATABASE_POOLED");
  unsetenv("LIVESTORE_LISTEN_DATABASE_URL");
}

TEST(ConfigDatabase, ListenUrlNeedsAValue) {
  EXPECT_THROW(ParseArgs({"--database-url", "host=db", "--listen-database-url"}), std::invalid_argument);
}

}  // namespace
