#include "common/log/log.h"

#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(LogTest, FormatsOneJsonObject) {
  SetLogService("catalog");
  std::string line =
      FormatLogLine("T", LogLevel::kWarning, "call done",
                    {{"method", "/cf.catalog.v1.CatalogService/GetDossier"}, {"latency_ms", 1.5}});
  EXPECT_EQ(line,
            "{\"time\":\"T\",\"level\":\"warning\",\"service\":\"catalog\",\"msg\":\"call "
            "done\",\"method\":\"/cf.catalog.v1.CatalogService/GetDossier\",\"latency_ms\":1.5}");
}

TEST(LogTest, EscapesQuotesNewlinesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
}

}  // namespace
}  // namespace cf
