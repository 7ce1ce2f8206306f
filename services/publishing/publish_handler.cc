#include "services/publishing/publish_handler.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/hash/sha256.h"
#include "common/status/status.h"
#include "services/publishing/api_support.h"
#include "services/publishing/publish_store.h"

namespace cf::publishing {
namespace {

// The job runner's context, as the platform adapters see it; it knows the handle the platform
// holds now.
class JobPublishContext final : public PublishContext {
 public:
  JobPublishContext(jobs::JobContext& job, PublishStore* store, std::string platform)
      : job_(job),
        store_(store),
        platform_(std::move(platform)),
        handle_(job.lease().external_job_id) {}
  bool RecordHandle(const std::string& handle) override {
    if (!job_.RecordExternalJob(handle)) return false;
    handle_ = handle;
    return true;
  }
  bool holds_handle() const { return !handle_.empty(); }
  void SetPhase(const std::string& phase) override { job_.SetPhase(phase); }
  void SetProgress(int percent) override { job_.SetProgress(percent); }
  const std::atomic<bool>* cancel() const override { return job_.cancel(); }
  absl::StatusOr<std::set<std::string>> RecordedElsewhere(
      const std::vector<std::string>& post_ids) override {
    return store_->RecordedByOthers(platform_, post_ids, job_.lease().id);
  }

 private:
  jobs::JobContext& job_;
  PublishStore* store_;
  std::string platform_;
  std::string handle_;
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

std::string TurnKeyOf(const PostRequest& post) {
  if (post.platform != "instagram") return "";
  return absl::StrCat("instagram:", Sha256Hex(post.caption));
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
  JobPublishContext publish(context, store_, platform);
  if (post->video_bytes == 0 && !publish.holds_handle()) {
    return absl::FailedPreconditionError(absl::StrCat("the video ", post->video_path, " is gone"));
  }
  // When the publish was due (created, or scheduled for): its deadlines count from there.
  const absl::Time due = absl::FromUnixSeconds(row[first + 3].as<int64_t>());
  const absl::Duration waited = absl::Now() - due;
  if (!publish.holds_handle() && waited > deadlines_.give_up_after) {
    // Too late to start: it would have only moments to learn its outcome.
    return absl::FailedPreconditionError(
        absl::StrCat("the publish was due ", absl::FormatDuration(waited),
                     " ago and never started (the deadline is ",
                     absl::FormatDuration(deadlines_.give_up_after), "); publish again"));
  }

  const std::string turn_key = TurnKeyOf(*post);
  if (!turn_key.empty() && !publish.holds_handle()) {
    absl::StatusOr<bool> turn = store_->TakeTurn(lease, turn_key);
    if (!turn.ok()) return turn.status();
    if (!*turn) {
      if (waited > deadlines_.wait_limit) {
        return absl::FailedPreconditionError(
            absl::StrCat("waited over ", absl::FormatDuration(deadlines_.wait_limit),
                         " for another publish of the same caption to ", platform, " to end"));
      }
      context.SetPhase("waiting for another publish of the same caption");
      return jobs::PollLater(deadlines_.recheck_after);
    }
  }

  absl::StatusOr<Advanced> advanced = absl::InternalError("");
  try {
    advanced = api->second->Advance(*post, lease.external_job_id, publish);
  } catch (const std::exception& error) {
    // Handled here rather than by the runner, which would spend an attempt.
    advanced = absl::InternalError(absl::StrCat("the adapter failed unexpectedly: ", error.what()));
  }
  // Once the platform holds the handle the post may exist: the publish either ends published
  // or fails keeping the handle, saying so (ReconcilePublish looks the post up later).
  const auto ended = [&](absl::string_view why) -> absl::Status {
    if (!publish.holds_handle()) return absl::FailedPreconditionError(why);
    return absl::FailedPreconditionError(absl::StrCat(
        kLiveNotRecorded, ": ", why,
        " (the platform holds this publish's handle; ReconcilePublish looks the post up)"));
  };
  if (advanced.ok()) {
    if (!advanced->done) {
      if (publish.holds_handle() && waited > deadlines_.give_up_after) {
        return ended(absl::StrCat("the platform was still working on it ",
                                  absl::FormatDuration(deadlines_.give_up_after),
                                  " after the publish was due"));
      }
      return jobs::PollLater(advanced->poll_after);
    }
    const PostResult& result = advanced->result;
    return PublishedCompletion(result.post_id, result.url, result.posted_at, result.note);
  }
  absl::Status status = advanced.status();
  if (status.code() == absl::StatusCode::kCancelled) {
    const std::atomic<bool>* stop = context.cancel();
    if (stop != nullptr && stop->load()) return status;  // the lease was lost, or stopping
    // The adapter stopped (a handle it could not store): a passing failure, not a lost lease.
    status = absl::UnavailableError(status.message());
  }
  // A rate limit is no failure: wait as long as the platform says, without spending an
  // attempt, and keep the handle; but not for ever.
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    const absl::Duration wait = std::max(absl::Seconds(1), RetryAfterOf(status));
    // Past the limit, or told to wait beyond it (YouTube's quota, until its next day): now.
    if (waited + wait > deadlines_.wait_limit) {
      return ended(absl::StrCat("rate-limited past the wait limit (",
                                absl::FormatDuration(deadlines_.wait_limit),
                                " after the publish was due): ", status.message()));
    }
    return jobs::PollLater(wait);
  }
  if (!publish.holds_handle()) return status;  // retryable ones spend an attempt
  // A passing failure never spends the attempts (running out would end the publish, and
  // leave a post nobody recorded): it keeps asking by the handle until the deadline.
  if (jobs::IsRetryable(status)) {
    if (waited > deadlines_.give_up_after) {
      return ended(absl::StrCat("no answer that settles it in ",
                                absl::FormatDuration(deadlines_.give_up_after),
                                " after the publish was due (last: ", status.message(), ")"));
    }
    return jobs::PollLater(deadlines_.recheck_after);
  }
  return ended(status.message());
}

}  // namespace cf::publishing
