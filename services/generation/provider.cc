#include "services/generation/provider.h"

#include "absl/strings/cord.h"
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
