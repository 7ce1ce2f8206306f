#include "services/publishing/platform_api.h"

#include <algorithm>

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

void SetFigure(PostFigures& figures, const std::string& name, int64_t read) {
  int64_t* field = name == "views"      ? &figures.views
                   : name == "likes"    ? &figures.likes
                   : name == "comments" ? &figures.comments
                   : name == "shares"   ? &figures.shares
                   : name == "saves"    ? &figures.saves
                                        : nullptr;
  if (field == nullptr) return;
  if (read >= 0) {
    *field = read;
    return;
  }
  *field = 0;
  if (std::find(figures.unavailable.begin(), figures.unavailable.end(), name) ==
      figures.unavailable.end()) {
    figures.unavailable.push_back(name);
  }
}

bool IsNotPosted(const absl::Status& status) {
  return status.GetPayload(kNotPostedPayload).has_value();
}

}  // namespace cf::publishing
