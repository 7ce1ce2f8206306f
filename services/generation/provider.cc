#include "services/generation/provider.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace cf::generation {
JobResult MediaResult(const media::MediaInfo& info, const media::MediaStore& media,
                      const std::string& path, const std::string& model, double generation_seconds,
                      bool video) {
  JobResult result;
  result.url = media.UrlFor(path);
  result.local_path = path;
  result.model = model;
  result.width = info.width;
  result.height = info.height;
  result.file_size = info.file_size;
  result.generation_seconds = generation_seconds;
  result.format = video ? "mp4" : "png";
  if (video) {
    result.fps = info.fps;
    result.codec = info.codec;
    result.bitrate = absl::StrCat((info.bit_rate + 500) / 1000, "k");
    result.duration_seconds = info.duration;
  }
  return result;
}

}  // namespace cf::generation
