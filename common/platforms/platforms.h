// What each social platform accepts, in one table: assembly renders to these numbers and
// publishing checks a post against the same ones. Every number says where it comes from in
// platforms.cc; where a platform publishes no limit, the number is this project's policy and
// says so.
#ifndef CF_COMMON_PLATFORMS_PLATFORMS_H_
#define CF_COMMON_PLATFORMS_PLATFORMS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cf::platforms {

struct Resolution {
  std::string aspect;  // "9:16", "16:9", "1:1", "4:5"
  int width = 0;
  int height = 0;
};

// The share of the frame, from each edge, that the platform's own buttons and texts cover.
// Captions and the disclosure stay inside the rest.
struct SafeZone {
  double top = 0;
  double bottom = 0;
  double left = 0;
  double right = 0;
};

struct PlatformSpec {
  std::string name;                     // "tiktok", "instagram", "facebook", "youtube"
  std::vector<Resolution> resolutions;  // allowed; the first is the default
  absl::Duration max_duration;
  // The caption as posted (text, then the #tags), in UTF-16 code units: the strictest way the
  // platforms count (an emoji counts two).
  int caption_limit = 0;
  int hashtag_limit = 0;
  int title_limit = 0;  // 0: no separate title. YouTube's title is the caption's first line.
  SafeZone safe_zone;   // on a full-screen 9:16 video; SafeZoneFor gives the other frames'
  // The API field that labels AI-generated content ("" when the API has none).
  std::string ai_label_field;
  // The API field for a paid or affiliate disclosure beside the caption's own "#ad".
  std::string disclosure_field;
};

// Every platform, in a fixed order.
const std::vector<PlatformSpec>& AllPlatforms();

// The platform named `name`, or nullptr.
const PlatformSpec* FindPlatform(absl::string_view name);

// "tiktok, instagram, facebook, youtube": for error messages.
std::string PlatformNames();

// The platform's resolution for `aspect` ("" = its default), or nullptr when not allowed.
const Resolution* FindResolution(const PlatformSpec& platform, absl::string_view aspect);

// The safe zone of `platform` for a video in `frame`. A 9:16 video fills the phone's screen
// under the platform's buttons (its own zone). Other frames are shown in a feed or a player
// whose buttons sit mostly outside the picture, so they keep a broadcast-style margin: 5% on
// each edge (within SMPTE's 90% title-safe area), and on a 16:9 player a bottom of 15% for the
// progress bar and controls drawn over it.
SafeZone SafeZoneFor(const PlatformSpec& platform, const Resolution& frame);

// "9:16, 1:1, 4:5": for error messages.
std::string AspectNames(const PlatformSpec& platform);

// The caption as the platform receives it: the caption, a blank line, then "#tag #tag".
std::string PostedCaption(const std::string& caption, const std::vector<std::string>& hashtags);

// Length of `text` as the platforms count captions: UTF-16 code units.
int CaptionLength(absl::string_view text);

}  // namespace cf::platforms

#endif  // CF_COMMON_PLATFORMS_PLATFORMS_H_
