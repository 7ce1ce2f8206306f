#include "services/assembly/post_text.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace cf::assembly {
namespace {

constexpr char kDisclosure[] = "#ad \xc2\xb7 Commission earned";  // "#ad · Commission earned"
constexpr char kEllipsis[] = "\xe2\x80\xa6";                      // "…"

// The longest prefix of `text` of at most `limit` UTF-16 units, cut between code points.
std::string CutToLength(absl::string_view text, int limit) {
  std::string cut;
  for (size_t i = 0; i < text.size();) {
    size_t length = 1;
    while (i + length < text.size() &&
           (static_cast<unsigned char>(text[i + length]) & 0xc0) == 0x80) {
      ++length;
    }
    absl::string_view code_point = text.substr(i, length);
    if (platforms::CaptionLength(cut) + platforms::CaptionLength(code_point) > limit) break;
    absl::StrAppend(&cut, code_point);
    i += length;
  }
  return cut;
}

// `text` within `limit` units, cut at a word boundary and marked with an ellipsis when cut.
std::string Shorten(absl::string_view text, int limit) {
  if (platforms::CaptionLength(text) <= limit) return std::string(text);
  if (limit <= 1) return "";
  std::string cut = CutToLength(text, limit - 1);
  size_t space = cut.rfind(' ');
  if (space != std::string::npos && space > 0) cut.resize(space);
  return absl::StrCat(absl::StripTrailingAsciiWhitespace(cut), kEllipsis);
}

}  // namespace

std::string DisclosureFor(const ProductFacts& product) {
  return product.affiliate_link.empty() && product.tiktok_shop_url.empty() ? "" : kDisclosure;
}

std::string HashtagOf(absl::string_view text) {
  std::string tag;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    // Letters of other scripts (bytes of multi-byte UTF-8) are kept as they are.
    if (byte >= 0x80 || absl::ascii_isalnum(byte)) tag += absl::ascii_tolower(byte);
  }
  return tag;
}

std::vector<std::string> HashtagsFor(const ProductFacts& product, int limit) {
  std::vector<std::string> sources = {product.category, product.niche};
  sources.insert(sources.end(), product.benefits.begin(), product.benefits.end());
  std::vector<std::string> tags;
  std::set<std::string> seen;
  for (const std::string& source : sources) {
    if (static_cast<int>(tags.size()) >= limit) break;
    std::string tag = HashtagOf(source);
    if (!tag.empty() && seen.insert(tag).second) tags.push_back(tag);
  }
  return tags;
}

std::string TitleFor(const std::string& caption, const platforms::PlatformSpec& platform) {
  if (platform.title_limit <= 0) return "";
  const std::string first_line = caption.substr(0, caption.find('\n'));
  return Shorten(first_line, platform.title_limit);
}

PostText ComposePost(const ProductFacts& product, const ScriptText& script,
                     const platforms::PlatformSpec& platform) {
  PostText post;
  post.compliance_disclosure = DisclosureFor(product);
  std::string first_line = std::string(absl::StripAsciiWhitespace(script.hook));
  if (!post.compliance_disclosure.empty()) {
    first_line = absl::StrCat(post.compliance_disclosure, " ", first_line);
  }
  // The disclosure and the hook come first; a first line too long for the platform is cut
  // after the disclosure, which always stays whole.
  first_line = Shorten(
      first_line, std::max<int>(platforms::CaptionLength(kDisclosure), platform.caption_limit / 2));
  std::string cta = std::string(absl::StripAsciiWhitespace(script.cta));
  post.hashtags = HashtagsFor(product, platform.hashtag_limit);
  auto caption_with = [&](const std::string& call) {
    return call.empty() ? first_line : absl::StrCat(first_line, "\n", call);
  };
  // Hashtags go first, then the call to action shrinks.
  while (!post.hashtags.empty() &&
         platforms::CaptionLength(platforms::PostedCaption(caption_with(cta), post.hashtags)) >
             platform.caption_limit) {
    post.hashtags.pop_back();
  }
  const int room = platform.caption_limit - platforms::CaptionLength(first_line) - 1;
  if (platforms::CaptionLength(caption_with(cta)) > platform.caption_limit) {
    cta = Shorten(cta, std::max(0, room));
  }
  post.caption = caption_with(cta);
  post.title = TitleFor(post.caption, platform);
  // Every post here is AI-generated; the label is sent where the platform has one.
  post.ai_generated = true;
  return post;
}

}  // namespace cf::assembly
