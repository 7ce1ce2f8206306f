// What publishing supplies to common/jobs: move one claimed publish on through its platform's
// API, from the snapshot and the handle the row keeps. Workers call no other service.
#ifndef CF_SERVICES_PUBLISHING_PUBLISH_HANDLER_H_
#define CF_SERVICES_PUBLISHING_PUBLISH_HANDLER_H_

#include <map>
#include <string>

#include "common/jobs/runner.h"
#include "common/media/media_store.h"
#include "services/publishing/platform_api.h"
#include "services/publishing/publish_store.h"

namespace cf::publishing {

// The snapshot (cf_publish_jobs.publish_snapshot) as a post, its video found in `media`.
absl::StatusOr<PostRequest> PostFromSnapshot(const std::string& snapshot_text,
                                             const std::string& platform,
                                             const std::string& privacy,
                                             const media::MediaStore& media);

// How long a publish may wait, counted from when it was due (created, or scheduled for).
struct PublishDeadlines {
  // How soon a publish whose platform holds its handle asks again after a passing failure.
  absl::Duration recheck_after = absl::Seconds(5);
  // A publish whose platform holds its handle and that cannot learn the outcome by then fails
  // as kLiveNotRecorded, keeping the handle (the same bound the rescuer applies to crashes:
  // PublishStore's give_up_after).
  absl::Duration give_up_after = absl::Hours(24);
  // Rate limits that never lift (Instagram's spam flag, YouTube's upload limit) and waits for
  // another publish's turn end the publish failed, with the reason, past this.
  absl::Duration wait_limit = absl::Hours(6);
};

// The turn key of a post that must not overlap others ("" when none may): Instagram posts of
// one caption (the account is one per service), since a lost media_publish answer is found
// again by caption.
std::string TurnKeyOf(const PostRequest& post);

class PublishJobHandler final : public jobs::JobHandler {
 public:
  // `platforms` by name ("tiktok", ...); they and `store` outlive the handler.
  PublishJobHandler(const media::MediaStore* media, PublishStore* store,
                    std::map<std::string, PlatformApi*> platforms, PublishDeadlines deadlines = {})
      : media_(media), store_(store), platforms_(std::move(platforms)), deadlines_(deadlines) {}

  absl::StatusOr<jobs::Completion> Run(jobs::JobContext& context) override;

 private:
  const media::MediaStore* media_;
  PublishStore* store_;
  std::map<std::string, PlatformApi*> platforms_;
  PublishDeadlines deadlines_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PUBLISH_HANDLER_H_
