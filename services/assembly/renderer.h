// The final render: clips and stills cut to the voiceover's length, scaled and cropped to the
// platform's frame, joined with short cross-fades (stills slowly zoom), the word-timed captions
// burned in, and the voice mixed over music that ducks under it. H.264 + AAC MP4 with its index
// first (faststart), and a cover frame beside it.
#ifndef CF_SERVICES_ASSEMBLY_RENDERER_H_
#define CF_SERVICES_ASSEMBLY_RENDERER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/media/ffmpeg.h"

namespace cf::assembly {

// A music track the project makes itself (no downloads): synthesized by ffmpeg.
struct MusicTrack {
  std::string name;
  std::string description;
  std::string source;  // the lavfi source that makes 60 seconds of it
};

// The tracks; "none" (no music) is a valid choice besides these.
const std::vector<MusicTrack>& MusicTracks();
const MusicTrack* FindMusicTrack(absl::string_view name);

// `folder`/<name>.m4a, made once (atomically) when it is not there yet.
absl::StatusOr<std::string> EnsureMusicTrack(const MusicTrack& track, const std::string& folder,
                                             const media::RenderOptions& options);

struct RenderPlan {
  std::vector<std::string> clips;   // video files, in order
  std::vector<std::string> stills;  // image files, after the clips
  std::string voice;                // WAV
  std::string captions;             // .ass file; its path must be filter-safe (IsFilterSafePath)
  std::string music;                // audio file looped under the voice; "" for none
  // False: the voice is not heard (its timing still places the captions); the music alone,
  // or silence, is the soundtrack.
  bool voiceover = true;
  int width = 0;
  int height = 0;
  double duration_s = 0;  // the voice plus a short tail
  std::string output;     // .mp4, written atomically
  std::string cover;      // .png, written atomically
};

// Seconds of cross-fade between two shots.
inline constexpr double kTransitionSeconds = 0.3;

// The ffmpeg arguments for `plan`'s video, writing to `output` (exposed for tests).
absl::StatusOr<std::vector<std::string>> RenderArguments(const RenderPlan& plan,
                                                         const std::string& output);

// Renders `plan.output` and `plan.cover`.
absl::Status Render(const RenderPlan& plan, const media::RenderOptions& options);

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_RENDERER_H_
