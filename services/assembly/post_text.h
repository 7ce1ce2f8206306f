// The words that go with a video on a platform: the caption (disclosure first when the post
// earns a commission), the hashtags, YouTube's title, and the AI-generated label. Counted the
// way the platforms count (common/platforms), so publishing never meets a caption too long.
#ifndef CF_SERVICES_ASSEMBLY_POST_TEXT_H_
#define CF_SERVICES_ASSEMBLY_POST_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/platforms/platforms.h"

namespace cf::assembly {

// What a post needs to know of its product (from the assembly's dossier snapshot).
struct ProductFacts {
  std::string name;
  std::string category;
  std::string niche;
  std::vector<std::string> benefits;
  std::string affiliate_link;
  std::string tiktok_shop_url;
};

// The script's parts.
struct ScriptText {
  std::string hook;
  std::string body;
  std::string cta;
};

struct PostText {
  // As stored: first line the disclosure (when required) and the hook; then the call to action.
  // The #tags are not in it: they are `hashtags`, added when posted (platforms::PostedCaption).
  std::string caption;
  std::vector<std::string> hashtags;  // without '#', deduplicated, within the platform's cap
  std::string compliance_disclosure;  // "" when the post earns nothing
  std::string title;                  // YouTube: the caption's first line within 100; else ""
  bool ai_generated = true;           // the platform's AI label is set where it has one
};

// The FTC disclosure a post of `product` needs: "#ad · Commission earned" when it links to an
// affiliate link or a TikTok Shop listing, else "".
std::string DisclosureFor(const ProductFacts& product);

// A hashtag from free text ("Skin Care" -> "skincare"): letters and digits only, ASCII lowered;
// "" when nothing is left.
std::string HashtagOf(absl::string_view text);

// Category, niche and benefits as hashtags, in that order, deduplicated, at most `limit`.
std::vector<std::string> HashtagsFor(const ProductFacts& product, int limit);

// The title a platform with titles (YouTube) shows: the caption's first line within its
// limit; "" for a platform without titles.
std::string TitleFor(const std::string& caption, const platforms::PlatformSpec& platform);

// Everything for one platform, within its limits: hashtags are dropped from the end, then the
// call-to-action line is shortened, until the posted caption fits; the first line (with the
// disclosure) is never cut.
PostText ComposePost(const ProductFacts& product, const ScriptText& script,
                     const platforms::PlatformSpec& platform);

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_POST_TEXT_H_
