// ffmpeg and ffprobe (Debian's binaries) for rendering and checking media. User text never goes
// into a filter string: it is written to a file that drawtext reads with expansion off.
#ifndef CF_COMMON_MEDIA_FFMPEG_H_
#define CF_COMMON_MEDIA_FFMPEG_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cf::media {

// The font renders draw text with (Debian's fonts-dejavu-core, which ffmpeg pulls in).
inline constexpr char kBoldFont[] = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

// OK when ffmpeg, ffprobe and every file in `fonts` are there; otherwise FAILED_PRECONDITION
// naming what is missing and the Debian package that brings it. Checked at start, so a
// machine without them refuses to start instead of failing every job after all its attempts.
absl::Status CheckRenderTools(const std::vector<std::string>& fonts);

struct RenderOptions {
  absl::Duration timeout = absl::Minutes(5);
  // Seconds of output written so far (from ffmpeg's -progress).
  std::function<void(double seconds)> on_progress;
  const std::atomic<bool>* cancel = nullptr;
  // ffmpeg's -loglevel. "warning" lets libass report glyphs no font has.
  std::string log_level = "error";
  // A log line containing one of these fails the run (FAILED_PRECONDITION, quoting the line)
  // even when ffmpeg exits 0: e.g. libass's "failed to find any fallback", an empty box drawn.
  std::vector<std::string> failing_log_lines;
};

// Runs ffmpeg with `args` (inputs, filters, output), adding -nostdin, -y and progress output.
// Failure messages carry the end of ffmpeg's stderr. DEADLINE_EXCEEDED on timeout, CANCELLED
// when cancelled.
absl::Status RunFfmpeg(const std::vector<std::string>& args, const RenderOptions& options);

// Calls `render` with a temporary path beside `final_path` (same extension) and renames it into
// place only when `render` succeeded, so a crash never leaves a half-written file at the path.
absl::Status WriteAtomically(const std::string& final_path,
                             const std::function<absl::Status(const std::string& temp)>& render);

struct MediaInfo {
  int width = 0;
  int height = 0;
  std::string codec;    // first video stream, e.g. "h264", "png"
  std::string format;   // container, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "png_pipe"
  double duration = 0;  // seconds (0 for still images)
  double fps = 0;
  int64_t bit_rate = 0;  // bits per second (0 when unknown)
  int64_t file_size = 0;
  std::string pixel_format;
};

absl::StatusOr<MediaInfo> Probe(const std::string& path);

// PSNR in dB between two images of equal size (ffmpeg's psnr filter).
absl::StatusOr<double> Psnr(const std::string& a, const std::string& b);

// Writes `text` to `path` (for drawtext's textfile).
absl::Status WriteTextFile(const std::string& path, const std::string& text);

// Breaks `text` into lines of at most `width` characters at spaces, at most `max_lines` lines
// (the last ends with "..." when text was cut).
std::string WrapText(const std::string& text, size_t width, size_t max_lines);

}  // namespace cf::media

#endif  // CF_COMMON_MEDIA_FFMPEG_H_
