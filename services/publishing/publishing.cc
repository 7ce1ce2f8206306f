#include "services/publishing/publishing.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/db/values.h"
#include "common/http/http_client.h"
#include "common/jobs/runner.h"
#include "common/log/log.h"
#include "common/paging/page_token.h"
#include "common/platforms/platforms.h"
#include "common/status/status.h"
#include "common/validation/ids.h"
#include "services/publishing/publish_handler.h"
#include "services/publishing/tiktok.h"
#include "services/publishing/youtube.h"

namespace cf::publishing {
namespace {

constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;

std::string PrivacyName(v1::Privacy privacy) {
  switch (privacy) {
    case v1::PRIVACY_FRIENDS:
      return "friends";
    case v1::PRIVACY_PRIVATE:
      return "private";
    case v1::PRIVACY_UNLISTED:
      return "unlisted";
    default:
      return "public";
  }
}

std::string JobStateOf(v1::PublishState state) {
  switch (state) {
    case v1::PUBLISH_STATE_SCHEDULED:
    case v1::PUBLISH_STATE_QUEUED:
      return "queued";
    case v1::PUBLISH_STATE_UPLOADING:
    case v1::PUBLISH_STATE_PROCESSING:
      return "running";
    case v1::PUBLISH_STATE_PUBLISHED:
      return "done";
    case v1::PUBLISH_STATE_FAILED:
      return "failed";
    case v1::PUBLISH_STATE_CANCELLED:
      return "cancelled";
    default:
      return "";
  }
}

std::string PromotionName(v1::PromotionStatus status) {
  switch (status) {
    case v1::PROMOTION_STATUS_NONE:
      return "none";
    case v1::PROMOTION_STATUS_PENDING:
      return "pending";
    case v1::PROMOTION_STATUS_ACTIVE:
      return "active";
    case v1::PROMOTION_STATUS_COMPLETED:
      return "completed";
    case v1::PROMOTION_STATUS_FAILED:
      return "failed";
    default:
      return "";
  }
}

// The privacy levels each platform takes (TikTok's come from the creator's options).
std::vector<std::string> FixedPrivacyOptions(const std::string& platform) {
  if (platform == "youtube") return {"public", "unlisted", "private"};
  return {"public"};
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// What a lookup for ReconcilePublish lends the adapter: it sends nothing that makes a post.
class LookupContext final : public PublishContext {
 public:
  LookupContext(PublishStore* store, std::string platform, std::string publish_id,
                std::string handle)
      : store_(store),
        platform_(std::move(platform)),
        publish_id_(std::move(publish_id)),
        handle_(std::move(handle)) {}
  // What the lookup learned (a video id, when completion was first seen) is kept, so the next
  // reconcile goes on from it; a cleared handle is kept by the caller, with the reason.
  bool RecordHandle(const std::string& handle) override {
    if (handle.empty()) {
      cleared_ = true;
      return true;
    }
    if (cleared_ || handle == handle_) return true;
    if (!store_->ReplaceHandle(publish_id_, handle_, handle, "").ok()) return false;
    handle_ = handle;
    return true;
  }
  // Whether the platform said no post came of the handle.
  bool cleared() const { return cleared_; }
  // The handle the row holds now.
  const std::string& handle() const { return handle_; }
  void SetPhase(const std::string&) override {}
  void SetProgress(int) override {}
  const std::atomic<bool>* cancel() const override { return nullptr; }
  absl::StatusOr<std::set<std::string>> RecordedElsewhere(
      const std::vector<std::string>& post_ids) override {
    return store_->RecordedByOthers(platform_, post_ids, publish_id_);
  }
  bool lookup_only() const override { return true; }

 private:
  PublishStore* store_;
  std::string platform_;
  std::string publish_id_;
  std::string handle_;
  bool cleared_ = false;
};

v1::ReconcilePublishResponse Reconciled(v1::Publish publish,
                                        v1::ReconcilePublishResponse::Finding finding,
                                        const std::string& detail) {
  v1::ReconcilePublishResponse response;
  *response.mutable_publish() = std::move(publish);
  response.set_finding(finding);
  response.set_detail(detail);
  return response;
}

}  // namespace

absl::Status Publishing::CheckAcceptable(const assembly::v1::Assembly& assembly,
                                         const std::string& privacy, const PostRequest& post,
                                         absl::Time due) {
  const std::string platform_name = assembly::PlatformName(assembly.platform());
  const platforms::PlatformSpec* platform = platforms::FindPlatform(platform_name);
  if (platform == nullptr) {
    return absl::FailedPreconditionError("the assembly has no platform this service knows");
  }
  std::vector<std::string> problems;
  const assembly::v1::RenderMetadata& rendered = assembly.metadata();
  if (rendered.duration_seconds() > absl::ToDoubleSeconds(platform->max_duration)) {
    problems.push_back(absl::StrFormat("the video is %.1f s; %s takes at most %.0f s",
                                       rendered.duration_seconds(), platform_name,
                                       absl::ToDoubleSeconds(platform->max_duration)));
  }
  bool frame_allowed = false;
  for (const platforms::Resolution& resolution : platform->resolutions) {
    frame_allowed |= resolution.width == rendered.width() && resolution.height == rendered.height();
  }
  if (!frame_allowed) {
    problems.push_back(absl::StrCat("the video is ", rendered.width(), "x", rendered.height(), "; ",
                                    platform_name, " takes ", platforms::AspectNames(*platform)));
  }
  const int length = platforms::CaptionLength(post.caption);
  if (length > platform->caption_limit) {
    problems.push_back(absl::StrCat("the caption with its hashtags is ", length, " characters; ",
                                    platform_name, " takes ", platform->caption_limit));
  }
  if (static_cast<int>(post.hashtags.size()) > platform->hashtag_limit) {
    problems.push_back(absl::StrCat(post.hashtags.size(), " hashtags; ", platform_name,
                                    " takes at most ", platform->hashtag_limit));
  }
  if (platform->title_limit > 0 && platforms::CaptionLength(post.title) > platform->title_limit) {
    problems.push_back(
        absl::StrCat("the title is longer than ", platform->title_limit, " characters"));
  }
  std::vector<std::string> privacy_options = FixedPrivacyOptions(platform_name);
  if (platform_name == "tiktok") {
    // The creator's own rules, asked now (creator_info), as TikTok requires before a post.
    auto tiktok = platforms_.find("tiktok");
    if (tiktok == platforms_.end()) {
      return absl::FailedPreconditionError("no adapter for platform tiktok");
    }
    absl::StatusOr<CreatorLimits> limits = tiktok->second->Limits();
    if (!limits.ok()) return limits.status();
    absl::Status rules = CheckTikTokRules(options_.tiktok_audited, privacy, post.disclosure);
    if (!rules.ok()) problems.push_back(std::string(rules.message()));
    for (std::string& problem :
         CreatorLimitProblems(*limits, privacy, rendered.duration_seconds())) {
      problems.push_back(std::move(problem));
    }
  } else if (!Contains(privacy_options, privacy)) {
    problems.push_back(absl::StrCat("privacy ", privacy, " is not offered on ", platform_name,
                                    " (offered: ", absl::StrJoin(privacy_options, ", "), ")"));
  }
  if (platform_name == "youtube") {
    // Counted on the day the upload happens (a scheduled one's day): what that day has spent,
    // and the uploads already due then. (The upload itself is charged before it opens its
    // session, in one statement, so nothing passes the quota when publishes race.)
    const absl::CivilDay day = YouTubeQuotaDay(due);
    absl::StatusOr<int> planned = store_->YouTubeUnitsPlanned(day, options_.youtube_upload_cost);
    if (!planned.ok()) return planned.status();
    if (*planned + options_.youtube_upload_cost > options_.youtube_daily_quota) {
      problems.push_back(
          absl::StrCat("YouTube's upload quota for ", absl::FormatCivilTime(day),
                       " (Pacific) is taken: ", *planned, " of ", options_.youtube_daily_quota,
                       " units spent or planned, and an upload costs ",
                       options_.youtube_upload_cost, "; schedule it for another day"));
    }
  }
  if (platform_name == "instagram") {
    absl::Status fetchable =
        http::CheckFetchableUrl(post.video_url, options_.allow_loopback_urls, "the video URL");
    if (!fetchable.ok()) {
      problems.push_back(
          absl::StrCat("Instagram fetches the video from a URL, and ", fetchable.message(),
                       " (serve the media folder over HTTP and set CF_MEDIA_BASE_URL)"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(platform_name, " would refuse this post: ", absl::StrJoin(problems, "; ")));
}

absl::StatusOr<v1::Publish> Publishing::PublishContent(const v1::PublishContentRequest& request,
                                                       const CallContext& call) {
  FieldViolations violations;
  CheckUuidField(request.assembled_content_id(), "assembled_content_id", &violations);
  if (request.request_id().empty() || request.request_id().size() > 200) {
    violations.Add("request_id", "is required (1 to 200 characters): a retry reuses it");
  }
  if (!v1::Privacy_IsValid(request.privacy())) violations.Add("privacy", "is not a privacy level");
  if (!request.promotion_budget().empty() && !IsMoney(request.promotion_budget())) {
    violations.Add("promotion_budget", "is not a decimal amount >= 0 with at most two places");
  }
  if (request.promotion_days() < 0 || request.promotion_days() > kMaxPromotionDays) {
    violations.Add("promotion_days", "is 1 to 30 (0: 7)");
  }
  std::optional<absl::Time> scheduled;
  if (request.has_scheduled_time()) {
    scheduled = absl::FromUnixSeconds(request.scheduled_time().seconds()) +
                absl::Nanoseconds(request.scheduled_time().nanos());
    if (*scheduled <= absl::Now()) {
      violations.Add("scheduled_time", "is in the past; leave it unset to publish now");
    } else if (*scheduled > absl::Now() + options_.max_schedule_ahead) {
      violations.Add("scheduled_time", "is more than 30 days ahead");
    }
  }
  if (!violations.empty()) return violations.Build();
  // A retry answers the first publish, whatever has happened since.
  if (std::optional<v1::Publish> first = store_->FindByRequestId(request.request_id())) {
    return *first;
  }
  absl::StatusOr<assembly::v1::Assembly> found =
      assemblies_->GetAssembly(request.assembled_content_id(), call);
  if (!found.ok()) return found.status();
  const assembly::v1::Assembly& assembly = *found;
  if (assembly.state() == assembly::v1::ASSEMBLY_STATE_PUBLISHED) {
    return absl::FailedPreconditionError(
        absl::StrCat("assembly ", assembly.id(), " is already published"));
  }
  if (assembly.state() != assembly::v1::ASSEMBLY_STATE_READY) {
    return absl::FailedPreconditionError(absl::StrCat(
        "assembly ", assembly.id(), " is ", assembly::v1::AssemblyState_Name(assembly.state()),
        "; only a ready (rendered) assembly can be published"));
  }
  const std::string platform = assembly::PlatformName(assembly.platform());
  const std::string privacy = PrivacyName(request.privacy());
  std::vector<std::string> hashtags(assembly.hashtags().begin(), assembly.hashtags().end());
  // The URL this service serves the file under (an assembly made before the media folder was
  // served over HTTP still has a file:// URL).
  absl::StatusOr<std::string> video_path = media_->LocalPathOf(assembly.final_video_url());
  const std::string video_url =
      video_path.ok() ? media_->UrlFor(*video_path) : assembly.final_video_url();
  nlohmann::json snapshot = {{"video_url", video_url},
                             {"cover_url", assembly.cover_url()},
                             {"duration", assembly.metadata().duration_seconds()},
                             {"width", assembly.metadata().width()},
                             {"height", assembly.metadata().height()},
                             {"caption", platforms::PostedCaption(assembly.caption(), hashtags)},
                             {"title", assembly.title()},
                             {"hashtags", hashtags},
                             {"disclosure", !assembly.compliance_disclosure().empty()},
                             {"ai_generated", assembly.ai_generated()}};
  absl::StatusOr<PostRequest> post =
      PostFromSnapshot(snapshot.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       platform, privacy, *media_);
  if (!post.ok()) return post.status();
  absl::Status acceptable =
      CheckAcceptable(assembly, privacy, *post, scheduled.value_or(absl::Now()));
  if (!acceptable.ok()) return acceptable;
  // A promotion asked for with the publish starts once the platform confirms the post; what
  // the platform would refuse is refused now.
  const int64_t promotion_cents = CentsOf(request.promotion_budget());
  if (promotion_cents > 0) {
    auto promotion = promotions_.find(platform);
    if (promotion == promotions_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("promotion on ", platform,
                       " is not offered by this service: publish without "
                       "promotion_budget"));
    }
    if (promotion_cents < promotion->second->MinimumDailyBudgetCents()) {
      return absl::FailedPreconditionError(absl::StrCat(
          platform, " promotes a post at ", MoneyText(promotion->second->MinimumDailyBudgetCents()),
          " a day at least; asked for ", MoneyText(promotion_cents)));
    }
    if (privacy != "public") {
      return absl::FailedPreconditionError("only a public post can be promoted");
    }
    snapshot["promotion_cents"] = std::to_string(promotion_cents);
    snapshot["promotion_days"] = std::to_string(
        request.promotion_days() == 0 ? kDefaultPromotionDays : request.promotion_days());
  }
  NewPublish publish{assembly.id(), platform, request.request_id(), privacy, scheduled, snapshot};
  return store_->Create(publish);
}

absl::StatusOr<v1::Publish> Publishing::GetPublish(const v1::GetPublishRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Get(request.id());
}

absl::StatusOr<v1::ListPublishesResponse> Publishing::ListPublishes(
    const v1::ListPublishesRequest& request) {
  FieldViolations violations;
  if (!request.assembled_content_id().empty()) {
    CheckUuidField(request.assembled_content_id(), "assembled_content_id", &violations);
  }
  if (!assembly::v1::Platform_IsValid(request.platform())) {
    violations.Add("platform", "is not a platform");
  }
  if (!v1::PublishState_IsValid(request.state())) violations.Add("state", "is not a state");
  if (request.state() == v1::PUBLISH_STATE_SCHEDULED ||
      request.state() == v1::PUBLISH_STATE_UPLOADING ||
      request.state() == v1::PUBLISH_STATE_PROCESSING) {
    violations.Add("state", "filter by QUEUED (scheduled ones included) or the end states");
  }
  if (!violations.empty()) return violations.Build();
  absl::StatusOr<int> page_size = PageSize(request.page_size(), kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  PublishFilter filter{request.assembled_content_id(), assembly::PlatformName(request.platform()),
                       JobStateOf(request.state())};
  const std::string filters = absl::StrCat("ListPublishes|", filter.assembled_content_id, "|",
                                           filter.platform, "|", filter.job_state);
  absl::StatusOr<std::optional<CreatedCursor>> after =
      DecodeCreatedCursor(request.page_token(), filters, "ListPublishes");
  if (!after.ok()) return after.status();
  absl::StatusOr<Page<v1::Publish>> page = store_->List(filter, *after, *page_size);
  if (!page.ok()) return page.status();
  v1::ListPublishesResponse response;
  for (v1::Publish& publish : page->items) *response.add_publishes() = std::move(publish);
  if (page->next) response.set_next_page_token(EncodeCreatedCursor(*page->next, filters));
  return response;
}

absl::StatusOr<v1::Publish> Publishing::CancelPublish(const v1::CancelPublishRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Cancel(request.id());
}

absl::StatusOr<v1::ReconcilePublishResponse> Publishing::ReconcilePublish(
    const v1::ReconcilePublishRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  absl::StatusOr<ReconcileTarget> target = store_->GetReconcileTarget(request.id());
  if (!target.ok()) return target.status();
  const v1::Publish& publish = target->publish;
  if (publish.state() == v1::PUBLISH_STATE_PUBLISHED) {
    return Reconciled(publish, v1::ReconcilePublishResponse::FINDING_RECORDED,
                      "the publish is published; its post is recorded");
  }
  if (publish.state() != v1::PUBLISH_STATE_FAILED || target->handle.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("publish ", publish.id(), " is ", v1::PublishState_Name(publish.state()),
                     target->handle.empty() ? " and the platform holds no handle of it" : "",
                     "; only a failed publish that holds a platform handle can be reconciled"));
  }
  const std::string platform = assembly::PlatformName(publish.platform());
  auto api = platforms_.find(platform);
  if (api == platforms_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("no adapter for platform ", platform));
  }
  absl::StatusOr<PostRequest> post =
      PostFromSnapshot(target->snapshot, platform, PrivacyName(publish.privacy()), *media_);
  if (!post.ok()) return post.status();
  // A publish of the same caption under way may be posting now: a post found by caption could
  // be its (Instagram's media do not name their container).
  const std::string turn_key = TurnKeyOf(*post);
  if (!turn_key.empty()) {
    absl::StatusOr<bool> busy = store_->TurnHeldByOther(publish.id(), turn_key);
    if (!busy.ok()) return busy.status();
    if (*busy) {
      return absl::FailedPreconditionError(
          absl::StrCat("another publish of the same caption to ", platform,
                       " is under way; reconcile this one once it has ended"));
    }
  }
  LookupContext lookup(store_, platform, publish.id(), target->handle);
  absl::StatusOr<Advanced> found = api->second->Advance(*post, target->handle, lookup);
  if (found.ok() && found->done) {
    const PostResult& result = found->result;
    absl::Status recorded = store_->RecordReconciled(
        publish.id(), lookup.handle(),
        PublishedCompletion(result.post_id, result.url, result.posted_at, result.note));
    if (recorded.code() == absl::StatusCode::kAborted) {
      // Another reconcile got there first: its answer, when it recorded the post.
      absl::StatusOr<v1::Publish> now = store_->Get(publish.id());
      if (now.ok() && now->state() == v1::PUBLISH_STATE_PUBLISHED) {
        return Reconciled(*now, v1::ReconcilePublishResponse::FINDING_RECORDED,
                          "the publish is published; its post is recorded");
      }
    }
    if (!recorded.ok()) return recorded;
    Log(LogLevel::kInfo, "reconciled a publish: its post is recorded",
        {{"publish", publish.id()}, {"platform_post_id", result.post_id}});
    absl::StatusOr<v1::Publish> now = store_->Get(publish.id());
    if (!now.ok()) return now.status();
    return Reconciled(
        *now, v1::ReconcilePublishResponse::FINDING_RECORDED,
        absl::StrCat(platform, " has the post", result.post_id.empty() ? "" : " " + result.post_id,
                     result.note.empty() ? "" : " (" + result.note + ")"));
  }
  if (found.ok()) {
    return Reconciled(publish, v1::ReconcilePublishResponse::FINDING_PENDING,
                      absl::StrCat(platform, " is still working on it; reconcile again later"));
  }
  if (lookup.cleared() || IsNotPosted(found.status())) {
    const std::string why =
        absl::StrCat(platform, " holds no post of this publish (", found.status().message(),
                     "); the assembly may be published again");
    absl::Status cleared = store_->ReplaceHandle(publish.id(), lookup.handle(), "", why);
    if (!cleared.ok()) return cleared;
    Log(LogLevel::kInfo, "reconciled a publish: no post was made",
        {{"publish", publish.id()}, {"why", why}});
    absl::StatusOr<v1::Publish> now = store_->Get(publish.id());
    if (!now.ok()) return now.status();
    return Reconciled(*now, v1::ReconcilePublishResponse::FINDING_NOT_POSTED, why);
  }
  return found.status();
}

absl::StatusOr<v1::PublishedContent> Publishing::GetPublishedContent(
    const v1::GetPublishedContentRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->GetPublished(request.id());
}

absl::StatusOr<v1::ListPublishedContentResponse> Publishing::ListPublishedContent(
    const v1::ListPublishedContentRequest& request) {
  FieldViolations violations;
  if (!request.assembled_content_id().empty()) {
    CheckUuidField(request.assembled_content_id(), "assembled_content_id", &violations);
  }
  if (!assembly::v1::Platform_IsValid(request.platform())) {
    violations.Add("platform", "is not a platform");
  }
  if (!v1::PromotionStatus_IsValid(request.promotion_status())) {
    violations.Add("promotion_status", "is not a promotion status");
  }
  if (!violations.empty()) return violations.Build();
  absl::StatusOr<int> page_size = PageSize(request.page_size(), kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  PublishedFilter filter{request.assembled_content_id(), assembly::PlatformName(request.platform()),
                         PromotionName(request.promotion_status())};
  const std::string filters = absl::StrCat("ListPublishedContent|", filter.assembled_content_id,
                                           "|", filter.platform, "|", filter.promotion_status);
  absl::StatusOr<std::optional<CreatedCursor>> after =
      DecodeCreatedCursor(request.page_token(), filters, "ListPublishedContent");
  if (!after.ok()) return after.status();
  absl::StatusOr<Page<v1::PublishedContent>> page =
      store_->ListPublished(filter, *after, *page_size);
  if (!page.ok()) return page.status();
  v1::ListPublishedContentResponse response;
  for (v1::PublishedContent& content : page->items) {
    *response.add_published_content() = std::move(content);
  }
  if (page->next) response.set_next_page_token(EncodeCreatedCursor(*page->next, filters));
  return response;
}

absl::StatusOr<v1::PostStats> Publishing::GetPostStats(const v1::GetPostStatsRequest& request) {
  absl::Status valid = RequireUuid(request.published_content_id(), "published_content_id");
  if (!valid.ok()) return valid;
  absl::StatusOr<v1::PublishedContent> content =
      store_->GetPublished(request.published_content_id());
  if (!content.ok()) return content.status();
  if (content->platform_post_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("published content ", content->id(),
                     " has no public post id (a private TikTok post): the platform reports no "
                     "figures for it"));
  }
  const std::string platform = assembly::PlatformName(content->platform());
  auto api = platforms_.find(platform);
  if (api == platforms_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("no adapter for platform ", platform));
  }
  absl::StatusOr<PostFigures> figures = api->second->Figures(content->platform_post_id());
  if (!figures.ok()) return figures.status();
  // Clicks, conversions and spend come from elsewhere: when that report cannot answer (or does
  // not know the post), the platform's figures still count, and those three are unavailable,
  // which is not 0.
  absl::StatusOr<AffiliateFigures> affiliate =
      affiliate_->configured() ? affiliate_->For(platform, content->platform_post_id())
                               : absl::StatusOr<AffiliateFigures>(
                                     absl::NotFoundError("no affiliate report is configured"));
  if (!affiliate.ok() && affiliate_->configured()) {
    Log(LogLevel::kWarning, "the affiliate report did not answer for a post",
        {{"published_content", content->id()},
         {"error", std::string(affiliate.status().message())}});
  }
  v1::PostStats stats;
  stats.set_published_content_id(content->id());
  stats.set_platform(content->platform());
  stats.set_platform_post_id(content->platform_post_id());
  stats.set_views(figures->views);
  stats.set_likes(figures->likes);
  stats.set_comments(figures->comments);
  stats.set_shares(figures->shares);
  stats.set_saves(figures->saves);
  db::SetTimestamp(absl::ToUnixMicros(absl::Now()), stats.mutable_measured_at());
  for (const std::string& missing : figures->unavailable) stats.add_unavailable(missing);
  if (affiliate.ok()) {
    stats.set_clicks(affiliate->clicks);
    stats.set_conversions(affiliate->conversions);
    stats.set_spend(affiliate->spend);
  } else {
    for (const char* missing : {"clicks", "conversions", "spend"}) stats.add_unavailable(missing);
  }
  return stats;
}

absl::StatusOr<v1::PublishedContent> Publishing::StartPromotion(
    const v1::StartPromotionRequest& request) {
  FieldViolations violations;
  CheckUuidField(request.id(), "id", &violations);
  const int64_t cents = CentsOf(request.budget());
  if (cents <= 0) {
    violations.Add("budget", "is a daily budget above 0, a decimal with at most two places");
  }
  if (request.days() < 0 || request.days() > kMaxPromotionDays) {
    violations.Add("days", "is 1 to 30 (0: 7)");
  }
  if (!violations.empty()) return violations.Build();
  return Promote(request.id(), cents, request.days() == 0 ? kDefaultPromotionDays : request.days());
}

absl::StatusOr<v1::PublishedContent> Publishing::Promote(const std::string& id, int64_t cents,
                                                         int days) {
  absl::StatusOr<v1::PublishedContent> content = store_->GetPublished(id);
  if (!content.ok()) return content.status();
  const std::string platform = assembly::PlatformName(content->platform());
  auto found = promotions_.find(platform);
  if (found == promotions_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "promotion on ", platform, " is not offered by this service's ", platform,
        " adapter (only TikTok's Spark Ads are); promote it in the platform's own tools"));
  }
  PromotionApi& promotion = *found->second;
  const int64_t minimum = promotion.MinimumDailyBudgetCents();
  if (cents < minimum) {
    return absl::FailedPreconditionError(
        absl::StrCat(platform, " promotes a post at ", MoneyText(minimum),
                     " a day at least (the ad account's currency); asked for ", MoneyText(cents)));
  }
  // An earlier promotion whose stop the platform never confirmed may still be spending: it is
  // stopped first, or nothing new starts (a new one would forget it).
  absl::Status earlier = StopUnstopped(id, promotion);
  if (!earlier.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "an earlier promotion of ", id, " may still be spending and could not be stopped (",
        earlier.message(), "); no new one starts until it is: try again"));
  }
  absl::StatusOr<PromotionLease> lease = store_->BeginPromotion(id, cents, days);
  if (!lease.ok()) return lease.status();
  std::string handle = lease->handle;
  absl::Status started = promotion.Start(
      content->platform_post_id(), cents, lease->ends_at, &handle, [&](const std::string& made) {
        return store_->RecordPromotionHandle(id, lease->token, made);
      });
  if (started.ok()) {
    absl::StatusOr<v1::PublishedContent> active = store_->EndStart(id, lease->token, "active", "");
    if (active.ok() || active.status().code() != absl::StatusCode::kAborted) return active;
    started = active.status();  // stopped at the last moment: what was made is stopped below
  }
  if (started.code() == absl::StatusCode::kAborted) {
    // StopPromotion ended it while this start ran: whatever the start made after the stop
    // read the handle must not spend.
    promotion.Stop(handle).IgnoreError();
    return absl::FailedPreconditionError(
        absl::StrCat("the promotion of ", id, " was stopped while it was being started"));
  }
  if (jobs::IsRetryable(started)) {
    // Still pending: what was made is recorded; calling again (or the sweeper, after half a
    // minute) continues from it.
    absl::StatusOr<v1::PublishedContent> pending = store_->EndStart(
        id, lease->token, "pending", absl::StrCat("interrupted: ", started.message()));
    if (!pending.ok()) return pending.status();
    return started;
  }
  // Refused. Nothing it made may keep spending: it ends failed only once that is stopped.
  absl::Status stopped = promotion.Stop(handle);
  absl::StatusOr<v1::PublishedContent> ended =
      stopped.ok() ? store_->EndStart(id, lease->token, "failed", std::string(started.message()))
                   : store_->EndStart(id, lease->token, "pending",
                                      absl::StrCat("refused (", started.message(),
                                                   ") and what was made could not be stopped yet (",
                                                   stopped.message(), "): call StopPromotion"));
  if (!ended.ok()) return ended.status();
  return started;
}

absl::StatusOr<v1::PublishedContent> Publishing::StopPromotion(
    const v1::StopPromotionRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  absl::StatusOr<v1::PublishedContent> content = store_->GetPublished(request.id());
  if (!content.ok()) return content.status();
  if (content->promotion_status() == v1::PROMOTION_STATUS_NONE) {
    return absl::FailedPreconditionError(
        absl::StrCat("published content ", request.id(), " has never been promoted"));
  }
  auto promotion = promotions_.find(assembly::PlatformName(content->platform()));
  if (promotion == promotions_.end() && !store_->PromotionHandle(request.id()).empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the promotion cannot be stopped from here: ", assembly::PlatformName(content->platform()),
        " promotion is not configured (see CF_TIKTOK_ADS_ACCESS_TOKEN); stop it in the ad "
        "account"));
  }
  // Ended first, so a start still running finds its lease gone and stops what it makes; then
  // what was made is disabled (again, harmlessly, when calling again after a failure).
  absl::StatusOr<v1::PublishedContent> ended = store_->MarkPromotionStopped(request.id(), "");
  if (!ended.ok()) return ended.status();
  if (promotion != promotions_.end()) {
    absl::Status stopped = StopUnstopped(request.id(), *promotion->second);
    if (!stopped.ok()) {
      store_
          ->MarkPromotionStopped(
              request.id(),
              absl::StrCat("the platform may still be spending (", stopped.message(),
                           "): the service keeps trying to stop it; StopPromotion tries now"))
          .IgnoreError();
      return stopped;
    }
  }
  return store_->GetPublished(request.id());
}

absl::Status Publishing::StopUnstopped(const std::string& id, PromotionApi& promotion) {
  return StopAndConfirm(id, store_->UnstoppedHandle(id), promotion);
}

absl::Status Publishing::StopAndConfirm(const std::string& id, const std::string& handle,
                                        PromotionApi& promotion) {
  if (handle.empty()) return absl::OkStatus();
  absl::Status stopped = promotion.Stop(handle);
  if (!stopped.ok()) return stopped;
  return store_->ConfirmStopped(id, handle);
}

int Publishing::RetryUnconfirmedStops(int limit) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> due =
      store_->UnstoppedDue(limit);
  if (!due.ok()) return 0;
  int confirmed = 0;
  for (const auto& [content_id, handle] : *due) {
    absl::StatusOr<v1::PublishedContent> content = store_->GetPublished(content_id);
    if (!content.ok()) continue;
    const std::string platform = assembly::PlatformName(content->platform());
    auto promotion = promotions_.find(platform);
    if (promotion == promotions_.end()) {
      Log(LogLevel::kWarning,
          "an ended promotion may still be spending, and its platform's promotion is not "
          "configured here: stop it in the ad account",
          {{"published_content", content_id}, {"platform", platform}});
      continue;
    }
    absl::Status stopped = StopAndConfirm(content_id, handle, *promotion->second);
    if (stopped.ok()) {
      ++confirmed;
      continue;
    }
    Log(LogLevel::kWarning, "an ended promotion may still be spending; trying again in a minute",
        {{"published_content", content_id}, {"error", std::string(stopped.message())}});
  }
  return confirmed;
}

int Publishing::StartRequestedPromotions(int limit) {
  absl::StatusOr<std::vector<RequestedPromotion>> requested = store_->RequestedPromotions(limit);
  if (!requested.ok()) return 0;
  int started = 0;
  for (const RequestedPromotion& request : *requested) {
    const std::string& content_id = request.published_content_id;
    absl::StatusOr<v1::PublishedContent> promoted =
        Promote(content_id, request.cents, request.days);
    if (promoted.ok()) {
      ++started;
      continue;
    }
    if (promoted.status().code() == absl::StatusCode::kFailedPrecondition) {
      // Cannot start (e.g. promotion no longer configured): said once, not retried each round.
      store_->RefusePromotion(content_id, std::string(promoted.status().message())).IgnoreError();
    }
    Log(LogLevel::kWarning, "a promotion did not start",
        {{"published_content", content_id}, {"error", std::string(promoted.status().message())}});
  }
  return started;
}

int Publishing::MarkPublishedAssemblies(int limit) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> unmarked =
      store_->Unmarked(limit);
  if (!unmarked.ok()) return 0;
  int marked = 0;
  for (const auto& [publish_id, assembly_id] : *unmarked) {
    CallContext call;
    call.deadline = absl::Now() + absl::Seconds(5);
    absl::StatusOr<assembly::v1::Assembly> result = assemblies_->MarkPublished(assembly_id, call);
    if (!result.ok() && result.status().code() != absl::StatusCode::kFailedPrecondition &&
        result.status().code() != absl::StatusCode::kNotFound) {
      continue;  // assembly cannot answer now: the next round tries again
    }
    if (!result.ok()) {
      // The post exists whatever the assembly is now (e.g. rendered again, or deleted).
      Log(LogLevel::kWarning, "posted, but the assembly could not be marked published",
          {{"publish", publish_id},
           {"assembly", assembly_id},
           {"error", std::string(result.status().message())}});
    }
    if (store_->SetMarked(publish_id).ok()) ++marked;
  }
  return marked;
}

}  // namespace cf::publishing
