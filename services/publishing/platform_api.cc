#include "services/publishing/platform_api.h"

#include "absl/strings/cord.h"

namespace cf::publishing {
namespace {

constexpr char kNotPostedPayload[] = "type.cf/publishing.not_posted";

}  // namespace

absl::Status NotPosted(const std::string& why) {
  absl::Status status = absl::NotFoundError(why);
  status.SetPayload(kNotPostedPayload, absl::Cord("1"));
  return status;
}

bool IsNotPosted(const absl::Status& status) {
  return status.GetPayload(kNotPostedPayload).has_value();
}

}  // namespace cf::publishing
