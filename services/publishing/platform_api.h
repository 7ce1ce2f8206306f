// What publishing needs from a social platform, whichever it is: post a video without ever
// posting it twice, and read a post's lifetime figures. Each real API (TikTok, Instagram,
// Facebook, YouTube) implements it over HTTP; the sandbox speaks the same APIs locally.
//
// A publish is a state machine the job runner drives: Advance is called with the handle the
// last call recorded ("" at first) and moves the post on as far as it can. Before the step
// that makes the post public it records the platform's handle (publish id, container id,
// upload session) through the context; after a crash or a lost answer, the next Advance finds
// the post by that handle before it sends anything again.
#ifndef CF_SERVICES_PUBLISHING_PLATFORM_API_H_
#define CF_SERVICES_PUBLISHING_PLATFORM_API_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cf::publishing {

// The post as the assembly made it (the publish's snapshot).
struct PostRequest {
  std::string platform;    // "tiktok", "instagram", "facebook", "youtube"
  std::string video_path;  // the local file (uploads)
  std::string video_url;   // where the platform can fetch it (Instagram pulls)
  int64_t video_bytes = 0;
  double duration_s = 0;
  int width = 0;
  int height = 0;
  std::string caption;  // as posted: the text, then the #tags
  std::string title;    // YouTube's title (the caption's first line)
  std::vector<std::string> hashtags;
  bool disclosure = false;         // a paid or affiliate disclosure is required
  bool ai_generated = false;       // label it where the platform has a label
  std::string privacy = "public";  // public, friends, private, unlisted
};

// A confirmed post.
struct PostResult {
  std::string post_id;  // "" when the platform gives no public id (a private TikTok post)
  std::string url;
  absl::Time posted_at = absl::InfinitePast();  // InfinitePast: the platform did not say
  std::string note;
};

// What the job runner lends a publish while it runs.
class PublishContext {
 public:
  virtual ~PublishContext() = default;
  // Stores the platform's handle for this post; false when the lease was lost (stop at once:
  // another worker holds the post now).
  virtual bool RecordHandle(const std::string& handle) = 0;
  virtual void SetPhase(const std::string& phase) = 0;  // "uploading", "processing"
  virtual void SetProgress(int percent) = 0;
  virtual const std::atomic<bool>* cancel() const = 0;
  // Which of `post_ids` another publish has already recorded as its post (a recovery that
  // finds a post by what it shows, such as Instagram's by caption, must skip those).
  virtual absl::StatusOr<std::set<std::string>> RecordedElsewhere(
      const std::vector<std::string>& post_ids) = 0;
  // ReconcilePublish: look the post up by its handle and change nothing on the platform. A
  // step that would send or publish anything answers NotPosted instead.
  virtual bool lookup_only() const { return false; }
};

// The platform holds no post for the handle, and a lookup (lookup_only) went no further.
absl::Status NotPosted(const std::string& why);
bool IsNotPosted(const absl::Status& status);

// Where a publish stands after Advance.
struct Advanced {
  bool done = false;
  PostResult result;          // when done
  absl::Duration poll_after;  // when not done: look again then
};

// Lifetime figures of a post, as the platform counts them.
struct PostFigures {
  int64_t views = 0;
  int64_t likes = 0;
  int64_t comments = 0;
  int64_t shares = 0;
  int64_t saves = 0;
  std::vector<std::string> unavailable;  // figures this platform does not report
};

// Sets figure `name` ("views", "likes", "comments", "shares", "saves") to `read`; a negative
// `read` (the platform left it out) marks it unavailable instead, which is not 0.
void SetFigure(PostFigures& figures, const std::string& name, int64_t read);

// What a creator may post (TikTok's creator_info); other platforms have fixed rules.
struct CreatorLimits {
  std::vector<std::string> privacy_options;  // in this project's words: public, friends, private
  absl::Duration max_duration = absl::InfiniteDuration();
};

class PlatformApi {
 public:
  virtual ~PlatformApi() = default;
  virtual std::string name() const = 0;
  // Errors: RESOURCE_EXHAUSTED (rate limit, with Retry-After: wait, it is no failure),
  // UNAVAILABLE / DEADLINE_EXCEEDED (retry: the handle makes it safe), FAILED_PRECONDITION or
  // INVALID_ARGUMENT (the platform refused the post: not retried), PERMISSION_DENIED (the
  // credentials are bad and could not be refreshed: not retried).
  virtual absl::StatusOr<Advanced> Advance(const PostRequest& post, const std::string& handle,
                                           PublishContext& context) = 0;
  virtual absl::StatusOr<PostFigures> Figures(const std::string& post_id) = 0;
  // What the creator may post now; a platform without such a query answers its fixed rules.
  virtual absl::StatusOr<CreatorLimits> Limits() {
    return CreatorLimits{{"public"}, absl::InfiniteDuration()};
  }
};

// Paid promotion of a published post (on TikTok, a Spark Ad). Whatever it makes on the
// platform is recorded as it is made (`record`, into `handle`), so a start that is retried
// after a crash or a lost answer continues from there instead of making it all again.
class PromotionApi {
 public:
  virtual ~PromotionApi() = default;
  // The smallest daily budget the platform takes, in cents of the account's currency.
  virtual int64_t MinimumDailyBudgetCents() const = 0;
  // What it makes spends until `ends_at` at most (an ad group's scheduled end).
  virtual absl::Status Start(const std::string& post_id, int64_t daily_budget_cents,
                             absl::Time ends_at, std::string* handle,
                             const std::function<absl::Status(const std::string&)>& record) = 0;
  // Stops the spend of what `handle` names.
  virtual absl::Status Stop(const std::string& handle) = 0;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PLATFORM_API_H_
