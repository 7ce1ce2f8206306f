// The publishing service's logic, apart from its gRPC wiring: publishes checked against what
// the platform will accept before they are queued, reads of publishes and posts, post stats,
// and marking assemblies published through the assembly API.
#ifndef CF_SERVICES_PUBLISHING_PUBLISHING_H_
#define CF_SERVICES_PUBLISHING_PUBLISHING_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "cf/publishing/v1/publishing.pb.h"
#include "common/media/media_store.h"
#include "common/server/call_context.h"
#include "services/assembly/assembly_client.h"
#include "services/publishing/affiliate.h"
#include "services/publishing/platform_api.h"
#include "services/publishing/publish_store.h"

namespace cf::publishing {

struct PublishingOptions {
  // YouTube's upload quota: units a day (reset at midnight Pacific time) and an upload's cost.
  int youtube_daily_quota = 10000;
  int youtube_upload_cost = 1600;
  // Whether a video URL may be loopback http (the local media server and sandbox).
  bool allow_loopback_urls = false;
  // Whether TikTok has audited the app (TikTokConfig::audited).
  bool tiktok_audited = false;
  // How far ahead a publish may be scheduled.
  absl::Duration max_schedule_ahead = absl::Hours(24 * 30);
};

class Publishing {
 public:
  // `promotions`: the platforms whose adapter can promote a post (by name).
  Publishing(PublishStore* store, assembly::AssemblySource* assemblies,
             std::map<std::string, PlatformApi*> platforms,
             std::map<std::string, PromotionApi*> promotions, AffiliateReport* affiliate,
             const media::MediaStore* media, PublishingOptions options)
      : store_(store),
        assemblies_(assemblies),
        platforms_(std::move(platforms)),
        promotions_(std::move(promotions)),
        affiliate_(affiliate),
        media_(media),
        options_(options) {}

  absl::StatusOr<v1::Publish> PublishContent(const v1::PublishContentRequest& request,
                                             const CallContext& call);
  absl::StatusOr<v1::Publish> GetPublish(const v1::GetPublishRequest& request);
  absl::StatusOr<v1::ListPublishesResponse> ListPublishes(const v1::ListPublishesRequest& request);
  absl::StatusOr<v1::Publish> CancelPublish(const v1::CancelPublishRequest& request);
  absl::StatusOr<v1::ReconcilePublishResponse> ReconcilePublish(
      const v1::ReconcilePublishRequest& request);
  absl::StatusOr<v1::PublishedContent> GetPublishedContent(
      const v1::GetPublishedContentRequest& request);
  absl::StatusOr<v1::ListPublishedContentResponse> ListPublishedContent(
      const v1::ListPublishedContentRequest& request);
  absl::StatusOr<v1::PostStats> GetPostStats(const v1::GetPostStatsRequest& request);
  absl::StatusOr<v1::PublishedContent> StartPromotion(const v1::StartPromotionRequest& request);
  absl::StatusOr<v1::PublishedContent> StopPromotion(const v1::StopPromotionRequest& request);

  // Marks the assemblies of confirmed posts published (through the assembly API); returns how
  // many. Run after each publish and on a timer, so a crash between the post and the mark
  // only delays it.
  int MarkPublishedAssemblies(int limit = 50);
  // Starts the promotions asked for with PublishContent (promotion_budget) once their posts
  // are confirmed, and continues interrupted starts; returns how many it started. Run with
  // the marker.
  int StartRequestedPromotions(int limit = 20);
  // Stops again what ended promotions made that the platform never confirmed stopped (each at
  // most once a minute); returns how many are confirmed now. Run with the marker.
  int RetryUnconfirmedStops(int limit = 20);

 private:
  // Stops what an ended promotion of `id` made that is not confirmed stopped (OK when none).
  absl::Status StopUnstopped(const std::string& id, PromotionApi& promotion);
  // Stops `handle` and records the platform's confirmation (OK for "").
  absl::Status StopAndConfirm(const std::string& id, const std::string& handle,
                              PromotionApi& promotion);
  // Starts (or continues) promoting published content `id` at `cents` a day.
  absl::StatusOr<v1::PublishedContent> Promote(const std::string& id, int64_t cents, int days);
  // FAILED_PRECONDITION saying why `assembly` cannot go to its platform as asked.
  // `due`: when it would go out (now, or its scheduled time).
  absl::Status CheckAcceptable(const assembly::v1::Assembly& assembly, const std::string& privacy,
                               const PostRequest& post, absl::Time due);

  PublishStore* store_;
  assembly::AssemblySource* assemblies_;
  std::map<std::string, PlatformApi*> platforms_;
  std::map<std::string, PromotionApi*> promotions_;
  AffiliateReport* affiliate_;
  const media::MediaStore* media_;
  PublishingOptions options_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PUBLISHING_H_
