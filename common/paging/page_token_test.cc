#include "common/paging/page_token.h"

#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(PageTokenTest, RoundTrips) {
  std::string token = EncodePageToken({"2026-01-01 00:00:00+00", "abc"}, "status=1");
  auto key = DecodePageToken(token, 2, "status=1");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, (std::vector<std::string>{"2026-01-01 00:00:00+00", "abc"}));
}

TEST(PageTokenTest, RefusesOtherFiltersAndGarbage) {
  std::string token = EncodePageToken({"a"}, "x");
  EXPECT_EQ(DecodePageToken(token, 1, "y").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken(token, 2, "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken("!!", 1, "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken(std::string(3000, 'a'), 1, "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PageSizeTest, DefaultsClampsAndRejects) {
  EXPECT_EQ(PageSize(0, 50, 500).value(), 50);
  EXPECT_EQ(PageSize(9999, 50, 500).value(), 500);
  EXPECT_EQ(PageSize(7, 50, 500).value(), 7);
  EXPECT_EQ(PageSize(-1, 50, 500).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cf
