#include "common/platforms/platforms.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cf::platforms {
namespace {

const Resolution kVertical{"9:16", 1080, 1920};
const Resolution kHorizontal{"16:9", 1920, 1080};
const Resolution kSquare{"1:1", 1080, 1080};
const Resolution kPortrait{"4:5", 1080, 1350};

std::vector<PlatformSpec> MakePlatforms() {
  std::vector<PlatformSpec> all;

  PlatformSpec tiktok;
  tiktok.name = "tiktok";
  // TikTok is vertical; 1080x1920 is its recommended upload size.
  tiktok.resolutions = {kVertical};
  // Content Posting API: a creator may post up to max_video_post_duration_sec (creator_info),
  // 600 s at most; publishing checks the creator's own figure before it posts.
  tiktok.max_duration = absl::Seconds(600);
  // Content Posting API, post_info.title: at most 2200 UTF-16 runes.
  tiktok.caption_limit = 2200;
  // TikTok publishes no hashtag count limit; five is this project's policy (the caption, not
  // the tags, carries the message).
  tiktok.hashtag_limit = 5;
  // Safe zone: TikTok's creative guidance for 1080x1920 keeps 130 px at the top, 370 px at the
  // bottom (caption and music bar), 60 px on the left and 140 px on the right (action buttons).
  tiktok.safe_zone = {130.0 / 1920, 370.0 / 1920, 60.0 / 1080, 140.0 / 1080};
  tiktok.ai_label_field = "is_aigc";
  tiktok.disclosure_field = "brand_content_toggle";
  all.push_back(tiktok);

  PlatformSpec instagram;
  instagram.name = "instagram";
  // Reels are 9:16; feed videos may be 1:1 or 4:5.
  instagram.resolutions = {kVertical, kSquare, kPortrait};
  // Reels published through the Graph API: 3 s to 90 s.
  instagram.max_duration = absl::Seconds(90);
  // Graph API media: caption up to 2,200 characters and 30 hashtags.
  instagram.caption_limit = 2200;
  instagram.hashtag_limit = 30;
  // Meta's Reels safe zone for 1080x1920: 220 px top, 420 px bottom, 60 px left, 120 px right.
  instagram.safe_zone = {220.0 / 1920, 420.0 / 1920, 60.0 / 1080, 120.0 / 1080};
  instagram.ai_label_field = "is_ai_generated";
  instagram.disclosure_field = "branded_content_sponsor";
  all.push_back(instagram);

  PlatformSpec facebook;
  facebook.name = "facebook";
  // Facebook Reels are 9:16; Page feed videos may be 1:1, 4:5 or 16:9.
  facebook.resolutions = {kVertical, kSquare, kPortrait, kHorizontal};
  // Facebook Reels: up to 90 s.
  facebook.max_duration = absl::Seconds(90);
  // A Page post takes 63,206 characters; short-video captions are kept to Instagram's 2,200
  // so one caption serves both Meta surfaces (policy).
  facebook.caption_limit = 2200;
  // No published hashtag limit; ten is this project's policy.
  facebook.hashtag_limit = 10;
  // Meta's Reels safe zone, as Instagram's.
  facebook.safe_zone = {220.0 / 1920, 420.0 / 1920, 60.0 / 1080, 120.0 / 1080};
  facebook.ai_label_field = "";
  facebook.disclosure_field = "sponsor_id";
  all.push_back(facebook);

  PlatformSpec youtube;
  youtube.name = "youtube";
  // Shorts are 9:16 (square also counts as a Short); 16:9 is an ordinary upload.
  youtube.resolutions = {kVertical, kHorizontal};
  // Shorts may be up to 3 minutes (since October 2024).
  youtube.max_duration = absl::Seconds(180);
  // YouTube Data API: description up to 5,000 bytes (kept to 2,200 units: policy, as Meta's),
  // title up to 100 characters; with more than 60 hashtags YouTube ignores them all, and
  // fifteen is this project's policy.
  youtube.caption_limit = 2200;
  youtube.hashtag_limit = 15;
  youtube.title_limit = 100;
  // The Shorts player covers about 180 px at the top, 380 px at the bottom and 120 px on the
  // right of 1080x1920.
  youtube.safe_zone = {180.0 / 1920, 380.0 / 1920, 60.0 / 1080, 120.0 / 1080};
  youtube.ai_label_field = "";  // the altered-content flag is set in Studio, not the API
  youtube.disclosure_field = "paidProductPlacementDetails.hasPaidProductPlacement";
  all.push_back(youtube);
  return all;
}

}  // namespace

const std::vector<PlatformSpec>& AllPlatforms() {
  static const std::vector<PlatformSpec>* all = new std::vector<PlatformSpec>(MakePlatforms());
  return *all;
}

std::string PostedCaption(const std::string& caption, const std::vector<std::string>& hashtags) {
  if (hashtags.empty()) return caption;
  return absl::StrCat(caption, "\n\n#", absl::StrJoin(hashtags, " #"));
}

SafeZone SafeZoneFor(const PlatformSpec& platform, const Resolution& frame) {
  if (frame.aspect == "9:16") return platform.safe_zone;
  const double bottom = frame.aspect == "16:9" ? 0.15 : 0.05;
  return {0.05, bottom, 0.05, 0.05};
}

const PlatformSpec* FindPlatform(absl::string_view name) {
  for (const PlatformSpec& platform : AllPlatforms()) {
    if (platform.name == name) return &platform;
  }
  return nullptr;
}

std::string PlatformNames() {
  std::vector<std::string> names;
  for (const PlatformSpec& platform : AllPlatforms()) names.push_back(platform.name);
  return absl::StrJoin(names, ", ");
}

const Resolution* FindResolution(const PlatformSpec& platform, absl::string_view aspect) {
  if (aspect.empty()) return &platform.resolutions.front();
  for (const Resolution& resolution : platform.resolutions) {
    if (resolution.aspect == aspect) return &resolution;
  }
  return nullptr;
}

std::string AspectNames(const PlatformSpec& platform) {
  std::vector<std::string> names;
  for (const Resolution& resolution : platform.resolutions) names.push_back(resolution.aspect);
  return absl::StrJoin(names, ", ");
}

int CaptionLength(absl::string_view text) {
  int units = 0;
  for (unsigned char c : text) {
    if ((c & 0xc0) == 0x80) continue;  // a continuation byte
    // A 4-byte UTF-8 sequence is outside the Basic Multilingual Plane: a surrogate pair.
    units += c >= 0xf0 ? 2 : 1;
  }
  return units;
}

}  // namespace cf::platforms
