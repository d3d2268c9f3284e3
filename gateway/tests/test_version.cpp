// The extension versions the gateway accepts, and how it says what it found.
#include <gtest/gtest.h>

#include "gw/version.h"

namespace {

TEST(Version, ComparesDottedNumbers) {
  EXPECT_EQ(gw::CompareVersions("0.2.0", "0.2.0"), 0);
  EXPECT_EQ(gw::CompareVersions("0.2", "0.2.0"), 0);
  EXPECT_LT(gw::CompareVersions("0.1.0", "0.2.0"), 0);
  EXPECT_GT(gw::CompareVersions("0.10.0", "0.9.9"), 0);
  EXPECT_GT(gw::CompareVersions("1.0", "0.99.99"), 0);
}

TEST(Version, RefusesAnExtensionOlderThanTheMinimum) {
  const gw::ExtensionCheck c = gw::Judge("0.1.0", "app");
  EXPECT_EQ(c.kind, gw::ExtensionCheck::kTooOld);
  EXPECT_NE(c.message.find("needs the livestore extension 0.2.0 or newer"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("database \"app\" has 0.1.0"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("ALTER EXTENSION livestore UPDATE"), std::string::npos) << c.message;
}

TEST(Version, RefusesADatabaseWithoutTheExtension) {
  const gw::ExtensionCheck c = gw::Judge("", "app");
  EXPECT_EQ(c.kind, gw::ExtensionCheck::kMissing);
  EXPECT_NE(c.message.find("CREATE EXTENSION livestore"), std::string::npos) << c.message;
}

TEST(Version, AcceptsTheMinimumItsSeriesAndNewer) {
  EXPECT_EQ(gw::Judge(gw::kMinExtensionVersion, "app").kind, gw::ExtensionCheck::kOk);
  EXPECT_EQ(gw::Judge(std::string(gw::kTestedExtensionSeries) + ".9", "app").kind, gw::ExtensionCheck::kOk);
  EXPECT_EQ(gw::Judge("9.0.0", "app").kind, gw::ExtensionCheck::kNewer);
}

TEST(Version, GatewayVersionIsTheProjects) {
  // Built with livestore.control's default_version; never empty.
  EXPECT_GT(std::string(gw::kGatewayVersion).size(), 0u);
  EXPECT_GE(gw::CompareVersions(gw::kGatewayVersion, gw::kMinExtensionVersion), 0);
}

TEST(Version, SaysWhenItCannotConnect) {
  const std::string text = gw::VersionText("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1");
  EXPECT_EQ(text.rfind(std::string("livestore-gateway ") + gw::kGatewayVersion + "\n", 0), 0u) << text;
  EXPECT_NE(text.find("extension: unknown, cannot connect to the database"), std::string::npos) << text;
  EXPECT_NE(gw::VersionText("").find("extension: not checked"), std::string::npos);
}

}  // namespace
