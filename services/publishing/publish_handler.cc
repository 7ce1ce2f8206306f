#include "services/publishing/publish_handler.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "services/publishing/api_support.h"
#include "services/publishing/publish_store.h"

namespace cf::publishing {
namespace {

// The job runner's context, as the platform adapters see it.
class JobPublishContext final : public PublishContext {
 public:
  explicit JobPublishContext(jobs::JobContext& job) : job_(job) {}
  bool RecordHandle(const std::string& handle) override {
    recorded_ = recorded_ || !handle.empty();
    return job_.RecordExternalJob(handle);
  }
  // Whether a handle was recorded during this run.
  bool recorded() const { return recorded_; }
  void SetPhase(const std::string& phase) override { job_.SetPhase(phase); }
  void SetProgress(int percent) override { job_.SetProgress(percent); }
  const std::atomic<bool>* cancel() const override { return job_.cancel(); }

 private:
  jobs::JobContext& job_;
  bool recorded_ = false;
};

bool BoolAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

double NumberAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0;
}

}  // namespace

absl::StatusOr<PostRequest> PostFromSnapshot(const std::string& snapshot_text,
                                             const std::string& platform,
                                             const std::string& privacy,
                                             const media::MediaStore& media) {
  const nlohmann::json snapshot = JsonOf(snapshot_text);
  if (!snapshot.is_object()) {
    return absl::FailedPreconditionError("the publish's snapshot is unreadable");
  }
  PostRequest post;
  post.platform = platform;
  post.privacy = privacy;
  post.video_url = TextAt(snapshot, "video_url");
  post.caption = TextAt(snapshot, "caption");
  post.title = TextAt(snapshot, "title");
  auto tags = snapshot.find("hashtags");
  if (tags != snapshot.end() && tags->is_array()) {
    for (const nlohmann::json& tag : *tags) {
      if (tag.is_string()) post.hashtags.push_back(tag.get<std::string>());
    }
  }
  post.disclosure = BoolAt(snapshot, "disclosure");
  post.ai_generated = BoolAt(snapshot, "ai_generated");
  post.duration_s = NumberAt(snapshot, "duration");
  post.width = static_cast<int>(NumberAt(snapshot, "width"));
  post.height = static_cast<int>(NumberAt(snapshot, "height"));
  absl::StatusOr<std::string> path = media.LocalPathOf(post.video_url);
  if (!path.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the video ", post.video_url, " is not in this service's media folder (CF_MEDIA_DIR)"));
  }
  post.video_path = *path;
  struct stat info;
  if (stat(post.video_path.c_str(), &info) != 0 || info.st_size <= 0) {
    post.video_bytes = 0;  // gone: what needs its bytes refuses (PublishJobHandler)
  } else {
    post.video_bytes = info.st_size;
  }
  return post;
}

absl::StatusOr<jobs::Completion> PublishJobHandler::Run(jobs::JobContext& context) {
  const jobs::Lease& lease = context.lease();
  const pqxx::row row = lease.row();
  const int first = jobs::Lease::kPayload;
  const std::string platform = row[first + 1].as<std::string>();
  auto api = platforms_.find(platform);
  if (api == platforms_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("no adapter for platform ", platform));
  }
  absl::StatusOr<PostRequest> post = PostFromSnapshot(row[first].as<std::string>(), platform,
                                                      row[first + 2].as<std::string>(), *media_);
  if (!post.ok()) return post.status();
  const bool started = !lease.external_job_id.empty();
  if (post->video_bytes == 0 && !started) {
    return absl::FailedPreconditionError(absl::StrCat("the video ", post->video_path, " is gone"));
  }
  // When the publish was due (created, or scheduled for): its deadline counts from there.
  const absl::Time due = absl::FromUnixSeconds(row[first + 3].as<int64_t>());

  JobPublishContext publish(context);
  absl::StatusOr<Advanced> advanced = api->second->Advance(*post, lease.external_job_id, publish);
  if (!advanced.ok()) {
    const absl::Status& status = advanced.status();
    // A rate limit is no failure: wait as long as the platform says, without spending an
    // attempt, and keep the handle.
    if (status.code() == absl::StatusCode::kResourceExhausted) {
      return jobs::PollLater(std::max(absl::Seconds(1), RetryAfterOf(status)));
    }
    // Once the platform has the handle, the post may exist: a passing failure never spends
    // the attempts (running out would end the publish as failed, and a publish again would
    // post twice). It keeps asking by the handle until the publish's deadline.
    if ((started || publish.recorded()) && jobs::IsRetryable(status)) {
      if (absl::Now() - due > give_up_after_) {
        return absl::FailedPreconditionError(
            absl::StrCat(kOutcomeUnknown, ": the platform has had this post's handle for over ",
                         absl::FormatDuration(give_up_after_), " without confirming it (last: ",
                         status.message(), "); check the platform before publishing again"));
      }
      return jobs::PollLater(recheck_after_);
    }
    return status;
  }
  if (!advanced->done) return jobs::PollLater(advanced->poll_after);
  const PostResult& result = advanced->result;
  return PublishedCompletion(result.post_id, result.url, result.posted_at, result.note);
}

}  // namespace cf::publishing
