#include "services/assembly/post_text.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace cf::assembly {
namespace {

using platforms::CaptionLength;
using platforms::FindPlatform;

ProductFacts Serum() {
  ProductFacts product;
  product.name = "Glow Serum";
  product.category = "Skin Care";
  product.niche = "skincare";  // the same tag as the category: kept once
  product.benefits = {"Glow", "Calm skin", "24h hydration!", "\xf0\x9f\x94\xa5"};
  product.affiliate_link = "https://example.com/ref/1";
  return product;
}

ScriptText Script() {
  return {"Tired of dull skin? \xe2\x9c\xa8", "Meet Glow Serum.", "Tap the link to glow today!"};
}

TEST(PostTextTest, HashtagsAreDerivedDeduplicatedAndCapped) {
  EXPECT_EQ(HashtagOf("Skin Care"), "skincare");
  EXPECT_EQ(HashtagOf("24h hydration!"), "24hhydration");
  EXPECT_EQ(HashtagOf("\xf0\x9f\x94\xa5"), "\xf0\x9f\x94\xa5");  // kept: not ASCII punctuation
  EXPECT_EQ(HashtagOf("!!!"), "");
  std::vector<std::string> tags = HashtagsFor(Serum(), 30);
  ASSERT_EQ(tags.size(), 5u);
  EXPECT_EQ(tags[0], "skincare");
  EXPECT_EQ(tags[1], "glow");
  EXPECT_EQ(HashtagsFor(Serum(), 2).size(), 2u);
  for (const std::string& tag : tags) EXPECT_EQ(tag.find('#'), std::string::npos);
}

TEST(PostTextTest, AnAffiliatePostDisclosesOnItsFirstLine) {
  PostText post = ComposePost(Serum(), Script(), *FindPlatform("tiktok"));
  EXPECT_EQ(post.compliance_disclosure, "#ad \xc2\xb7 Commission earned");
  EXPECT_TRUE(absl::StartsWith(post.caption, "#ad \xc2\xb7 Commission earned Tired of dull skin?"))
      << post.caption;
  EXPECT_TRUE(absl::StrContains(post.caption, "\nTap the link to glow today!"));
  EXPECT_LE(static_cast<int>(post.hashtags.size()), FindPlatform("tiktok")->hashtag_limit);
  EXPECT_TRUE(post.ai_generated);
  EXPECT_EQ(post.title, "");  // TikTok has no separate title

  ProductFacts own = Serum();
  own.affiliate_link.clear();
  EXPECT_EQ(ComposePost(own, Script(), *FindPlatform("tiktok")).compliance_disclosure, "");
  own.tiktok_shop_url = "https://shop.tiktok.com/view/product/1";
  EXPECT_NE(ComposePost(own, Script(), *FindPlatform("tiktok")).compliance_disclosure, "");
}

TEST(PostTextTest, PostedCaptionCarriesTheTags) {
  EXPECT_EQ(platforms::PostedCaption("Hi", {"a", "b"}), "Hi\n\n#a #b");
  EXPECT_EQ(platforms::PostedCaption("Hi", {}), "Hi");
}

TEST(PostTextTest, YouTubeTitleIsTheFirstLineWithinItsLimit) {
  ScriptText long_hook = Script();
  long_hook.hook = std::string(150, 'x') + " end";
  PostText post = ComposePost(Serum(), long_hook, *FindPlatform("youtube"));
  EXPECT_LE(CaptionLength(post.title), 100);
  EXPECT_TRUE(absl::StartsWith(post.title, "#ad")) << post.title;
  EXPECT_EQ(ComposePost(Serum(), Script(), *FindPlatform("youtube")).title,
            "#ad \xc2\xb7 Commission earned Tired of dull skin? \xe2\x9c\xa8");
}

// A caption far over the limit: tags go first, then the call to action shrinks; the disclosure
// stays whole and the posted caption fits.
TEST(PostTextTest, AnOverlongPostIsFittedToTheLimit) {
  ScriptText wordy = Script();
  std::string emoji_words;
  for (int i = 0; i < 1500; ++i) emoji_words += "glow\xf0\x9f\x94\xa5 ";  // 7 units each
  wordy.cta = emoji_words;
  ProductFacts product = Serum();
  for (int i = 0; i < 40; ++i) product.benefits.push_back("benefit" + std::to_string(i));
  for (const auto& platform : platforms::AllPlatforms()) {
    SCOPED_TRACE(platform.name);
    PostText post = ComposePost(product, wordy, platform);
    EXPECT_LE(CaptionLength(platforms::PostedCaption(post.caption, post.hashtags)),
              platform.caption_limit);
    EXPECT_TRUE(absl::StartsWith(post.caption, "#ad \xc2\xb7 Commission earned Tired"));
    EXPECT_TRUE(absl::EndsWith(post.caption, "\xe2\x80\xa6")) << "the cut is marked";
    EXPECT_LE(static_cast<int>(post.hashtags.size()), platform.hashtag_limit);
  }
}

}  // namespace
}  // namespace cf::assembly
