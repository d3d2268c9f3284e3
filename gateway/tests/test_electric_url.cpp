// gw::MakeElectricUrl: the upstream shape URL of the reference proxy
// (livestore-sync-protocol.md section 5.3).
#include <string>

#include "gw/electric_url.h"
#include "gw/offset.h"
#include "livestore/core/store_id.h"
#include "test_support.h"

namespace {

gw::ElectricTarget DocTarget() {
  gw::ElectricTarget t;
  t.base_url = "http://e:3000";
  t.secret = "sek";
  return t;
}

gw::PullArgs Args(bool has_handle, const std::string& offset = "", const std::string& handle = "",
                  bool live = true) {
  gw::PullArgs a;
  a.store_id = "Demo-Store";
  a.has_handle = has_handle;
  a.offset = offset;
  a.handle = handle;
  a.live = live;
  return a;
}

const std::string kDocTable = ls::TableName("Demo-Store");
const char* const kDocPrefix = "http://e:3000/v1/shape?table=%22eventlog_6_Demo_Store%22&api_secret=sek";

TEST(MakeElectricUrl, DocExampleHandleNone) {
  ASSERT_EQ(kDocTable, "eventlog_6_Demo_Store");
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, Args(false), "-1"),
            "http://e:3000/v1/shape?table=%22eventlog_6_Demo_Store%22&api_secret=sek&offset=-1");
}

TEST(MakeElectricUrl, DocExampleHandleSome) {
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, Args(true, "0_0", "123-456", true), "0_0"),
            "http://e:3000/v1/shape?table=%22eventlog_6_Demo_Store%22&api_secret=sek&offset=0_0&handle=123-456&live=true");
}

TEST(MakeElectricUrl, LiveFalseIsSentExplicitly) {
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, Args(true, "3_0", "h", false), "3_0"),
            std::string(kDocPrefix) + "&offset=3_0&handle=h&live=false");
}

TEST(MakeElectricUrl, HandleNoneSendsNeitherHandleNorLive) {
  for (bool live : {true, false})
    EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, Args(false, "", "", live), "-1"),
              std::string(kDocPrefix) + "&offset=-1");
}

TEST(MakeElectricUrl, StartOffsetInSomeIsAFreshRequest) {
  // Electric refuses live=true with offset=-1, and ignores a handle there.
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, Args(true, "-1", "h", true), "-1"),
            std::string(kDocPrefix) + "&offset=-1");
}

TEST(MakeElectricUrl, UsesTheUnflaggedOffsetGiven) {
  const gw::PullArgs a = Args(true, "7_0~", "h", true);
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, a, gw::Unflag(a.offset)),
            std::string(kDocPrefix) + "&offset=7_0&handle=h&live=true");
}

TEST(MakeElectricUrl, ElectricCloudSourceParameters) {
  gw::ElectricTarget t = DocTarget();
  t.source_id = "src-1";
  t.source_secret = "s3cr=t&x";
  EXPECT_EQ(gw::MakeElectricUrl(t, kDocTable, Args(false), "-1"),
            "http://e:3000/v1/shape?table=%22eventlog_6_Demo_Store%22&source_id=src-1&source_secret=s3cr%3Dt%26x"
            "&api_secret=sek&offset=-1");
  t.secret.clear();
  EXPECT_EQ(gw::MakeElectricUrl(t, kDocTable, Args(false), "-1"),
            "http://e:3000/v1/shape?table=%22eventlog_6_Demo_Store%22&source_id=src-1&source_secret=s3cr%3Dt%26x"
            "&offset=-1");
}

TEST(MakeElectricUrl, NoSecretNoParameter) {
  gw::ElectricTarget t;
  t.base_url = "http://e:3000/";  // trailing slash dropped
  EXPECT_EQ(gw::MakeElectricUrl(t, "eventlog_6_s", Args(false), "-1"),
            "http://e:3000/v1/shape?table=%22eventlog_6_s%22&offset=-1");
}

TEST(MakeElectricUrl, TableIsAlwaysQuotedAndCaseKept) {
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), ls::TableName("ABC-def"), Args(false), "-1"),
            "http://e:3000/v1/shape?table=%22eventlog_6_ABC_def%22&api_secret=sek&offset=-1");
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), ls::TableName(std::string(53, 'x')), Args(false), "-1"),
            "http://e:3000/v1/shape?table=%22eventlog_6_hash_-914092579%22&api_secret=sek&offset=-1");
}

TEST(MakeElectricUrl, ValuesArePercentEncoded) {
  EXPECT_EQ(gw::MakeElectricUrl(DocTarget(), kDocTable, Args(true, "1_0", "a b&c=d/%", true), "1_0"),
            std::string(kDocPrefix) + "&offset=1_0&handle=a%20b%26c%3Dd%2F%25&live=true");
}

TEST(PercentEncode, UnreservedKeptOthersEscaped) {
  EXPECT_EQ(gw::PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(gw::PercentEncode("\"+ &=?#/"), "%22%2B%20%26%3D%3F%23%2F");
  EXPECT_EQ(gw::PercentEncode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(gw::PercentEncode(""), "");
}

}  // namespace
