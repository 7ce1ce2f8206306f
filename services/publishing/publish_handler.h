// What publishing supplies to common/jobs: move one claimed publish on through its platform's
// API, from the snapshot and the handle the row keeps. Workers call no other service.
#ifndef CF_SERVICES_PUBLISHING_PUBLISH_HANDLER_H_
#define CF_SERVICES_PUBLISHING_PUBLISH_HANDLER_H_

#include <map>
#include <string>

#include "common/jobs/runner.h"
#include "common/media/media_store.h"
#include "services/publishing/platform_api.h"

namespace cf::publishing {

// The snapshot (cf_publish_jobs.publish_snapshot) as a post, its video found in `media`.
absl::StatusOr<PostRequest> PostFromSnapshot(const std::string& snapshot_text,
                                             const std::string& platform,
                                             const std::string& privacy,
                                             const media::MediaStore& media);

class PublishJobHandler final : public jobs::JobHandler {
 public:
  // `platforms` by name ("tiktok", ...); they outlive the handler.
  // `recheck_after`: how soon a publish whose platform has its handle asks again after a
  // passing failure; `give_up_after`: when such a publish ends failed, as outcome unknown.
  PublishJobHandler(const media::MediaStore* media, std::map<std::string, PlatformApi*> platforms,
                    absl::Duration recheck_after = absl::Seconds(5),
                    absl::Duration give_up_after = absl::Hours(24))
      : media_(media),
        platforms_(std::move(platforms)),
        recheck_after_(recheck_after),
        give_up_after_(give_up_after) {}

  absl::StatusOr<jobs::Completion> Run(jobs::JobContext& context) override;

 private:
  const media::MediaStore* media_;
  std::map<std::string, PlatformApi*> platforms_;
  absl::Duration recheck_after_;
  absl::Duration give_up_after_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PUBLISH_HANDLER_H_
