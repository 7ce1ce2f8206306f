#include "services/generation/provider.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace cf::generation {
namespace {

constexpr char kPollLaterPayload[] = "cf.generation/poll-later";

}  // namespace

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

JobResult MediaResult(const media::MediaInfo& info, const std::string& url,
                      const std::string& model, double generation_seconds, bool video) {
  JobResult result;
  result.url = url;
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

absl::Status PollLater(absl::Duration after) {
  absl::Status status =
      WithRetryAfter(absl::UnavailableError("the external job is still running"), after);
  status.SetPayload(kPollLaterPayload, absl::Cord("1"));
  return status;
}

bool IsPollLater(const absl::Status& status) {
  return status.GetPayload(kPollLaterPayload).has_value();
}

}  // namespace cf::generation
