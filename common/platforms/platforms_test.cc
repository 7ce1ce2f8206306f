#include "common/platforms/platforms.h"

#include "gtest/gtest.h"

namespace cf::platforms {
namespace {

TEST(PlatformsTest, EveryPlatformIsComplete) {
  ASSERT_EQ(AllPlatforms().size(), 4u);
  for (const PlatformSpec& platform : AllPlatforms()) {
    SCOPED_TRACE(platform.name);
    EXPECT_EQ(FindPlatform(platform.name), &platform);
    EXPECT_FALSE(platform.resolutions.empty());
    EXPECT_GT(platform.max_duration, absl::Seconds(15));
    EXPECT_GT(platform.caption_limit, 0);
    EXPECT_GT(platform.hashtag_limit, 0);
    // The safe zone leaves most of the frame.
    EXPECT_LT(platform.safe_zone.top + platform.safe_zone.bottom, 0.5);
    EXPECT_LT(platform.safe_zone.left + platform.safe_zone.right, 0.3);
    EXPECT_FALSE(platform.disclosure_field.empty());
  }
  EXPECT_EQ(FindPlatform("myspace"), nullptr);
  EXPECT_EQ(PlatformNames(), "tiktok, instagram, facebook, youtube");
}

TEST(PlatformsTest, AspectRatiosPerPlatform) {
  const PlatformSpec& instagram = *FindPlatform("instagram");
  EXPECT_EQ(FindResolution(instagram, "")->aspect, "9:16");
  EXPECT_EQ(FindResolution(instagram, "4:5")->height, 1350);
  EXPECT_EQ(FindResolution(instagram, "16:9"), nullptr);
  EXPECT_EQ(AspectNames(instagram), "9:16, 1:1, 4:5");
  const PlatformSpec& youtube = *FindPlatform("youtube");
  EXPECT_EQ(FindResolution(youtube, "16:9")->width, 1920);
  EXPECT_EQ(FindResolution(youtube, "1:1"), nullptr);
  EXPECT_EQ(youtube.title_limit, 100);
  EXPECT_EQ(FindResolution(*FindPlatform("tiktok"), "4:5"), nullptr);
}

// A full-screen vertical video keeps clear of the platform's buttons; a feed or player frame,
// whose buttons sit outside the picture, keeps a smaller margin (more at a 16:9 player's
// bottom, where the progress bar is drawn).
TEST(PlatformsTest, SafeZoneFollowsTheFrame) {
  const PlatformSpec& instagram = *FindPlatform("instagram");
  const SafeZone reel = SafeZoneFor(instagram, *FindResolution(instagram, "9:16"));
  EXPECT_DOUBLE_EQ(reel.bottom, 420.0 / 1920);
  const SafeZone feed = SafeZoneFor(instagram, *FindResolution(instagram, "4:5"));
  EXPECT_DOUBLE_EQ(feed.bottom, 0.05);
  EXPECT_LT(feed.top, reel.top);
  const PlatformSpec& youtube = *FindPlatform("youtube");
  const SafeZone player = SafeZoneFor(youtube, *FindResolution(youtube, "16:9"));
  EXPECT_DOUBLE_EQ(player.bottom, 0.15);
  EXPECT_GT(player.bottom, player.top);
}

TEST(PlatformsTest, CaptionLengthCountsUtf16Units) {
  EXPECT_EQ(CaptionLength("glow"), 4);
  EXPECT_EQ(CaptionLength("caf\xc3\xa9"), 4);               // é: one unit
  EXPECT_EQ(CaptionLength("\xe4\xbd\xa0\xe5\xa5\xbd"), 2);  // 你好
  EXPECT_EQ(CaptionLength("\xf0\x9f\x94\xa5"), 2);          // 🔥: a surrogate pair
  EXPECT_EQ(CaptionLength(""), 0);
}

}  // namespace
}  // namespace cf::platforms
