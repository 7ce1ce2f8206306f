#include "services/publishing/tiktok.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status.h"

namespace cf::publishing {
namespace {

constexpr int64_t kOnePieceBelow = 5 << 20;

std::string TikTokPrivacy(const std::string& privacy) {
  if (privacy == "friends") return "MUTUAL_FOLLOW_FRIENDS";
  if (privacy == "private") return "SELF_ONLY";
  return "PUBLIC_TO_EVERYONE";
}

std::string OurPrivacy(const std::string& level) {
  if (level == "PUBLIC_TO_EVERYONE") return "public";
  if (level == "MUTUAL_FOLLOW_FRIENDS") return "friends";
  if (level == "SELF_ONLY") return "private";
  return "";
}

// Chunking per the media transfer guide.
struct Chunks {
  int64_t size = 0;  // every chunk but the last
  int64_t count = 0;
};
Chunks ChunksFor(int64_t video_bytes, int64_t chunk_size) {
  if (video_bytes < kOnePieceBelow || video_bytes <= chunk_size) return {video_bytes, 1};
  return {chunk_size, std::max<int64_t>(1, video_bytes / chunk_size)};
}

// The status an error code in TikTok's envelope means.
absl::Status StatusOfError(const http::Response& response, const nlohmann::json& body) {
  const std::string code = TextAt(ObjectAt(body, "error"), "code");
  const std::string message = TextAt(ObjectAt(body, "error"), "message");
  const std::string said = absl::StrCat(" (TikTok: ", code.empty() ? Answered(response) : code,
                                        message.empty() ? "" : absl::StrCat(": ", message), ")");
  if (code == "rate_limit_exceeded" || response.status == 429) {
    absl::Duration wait = http::RetryAfter(response);
    return WithRetryAfter(absl::ResourceExhaustedError("TikTok's rate limit" + said),
                          wait > absl::ZeroDuration() ? wait : absl::Seconds(60));
  }
  if (code == "spam_risk_too_many_pending_share") {
    // Only the creator can clear it (in the app): waiting would never end.
    return absl::FailedPreconditionError(
        "too many posts are waiting for the creator to finish them in TikTok" + said);
  }
  if (code == "unaudited_client_can_only_post_to_private_accounts") {
    return absl::FailedPreconditionError(
        "this TikTok app is not audited, so it can post only privately (publish with privacy "
        "PRIVATE)" +
        said);
  }
  if (code == "duration_check_failed") {
    return absl::FailedPreconditionError("the video is longer than the creator may post" + said);
  }
  if (code == "access_token_invalid" || response.status == 401) {
    return absl::PermissionDeniedError("TikTok refused the access token" + said);
  }
  if (response.status >= 500 || response.status == 0) {
    return absl::UnavailableError("TikTok is unavailable" + said);
  }
  if (code == "invalid_params" || response.status == 400) {
    return absl::InvalidArgumentError("TikTok refused the request" + said);
  }
  return absl::FailedPreconditionError("TikTok refused the request" + said);
}

bool TokenExpired(const http::Response& response) {
  if (response.status != 401) return false;
  const std::string code = TextAt(ObjectAt(JsonOf(response.body), "error"), "code");
  return code.empty() || code == "access_token_invalid";
}

}  // namespace

absl::Status CheckTikTokRules(bool audited, const std::string& privacy, bool branded) {
  if (!audited && branded) {
    return absl::FailedPreconditionError(
        "an unaudited TikTok app may post only privately, and branded content (the post's paid "
        "or affiliate disclosure) cannot be private: this post can go to TikTok only once the "
        "app is audited (CF_TIKTOK_AUDITED)");
  }
  if (!audited && privacy != "private") {
    return absl::FailedPreconditionError(
        absl::StrCat("an unaudited TikTok app may post only privately (SELF_ONLY); asked for ",
                     privacy, " (set CF_TIKTOK_AUDITED=true once TikTok has audited the app)"));
  }
  if (branded && privacy == "private") {
    return absl::FailedPreconditionError(
        "branded content (the post's paid or affiliate disclosure) cannot be posted privately "
        "on TikTok");
  }
  return absl::OkStatus();
}

std::vector<std::string> CreatorLimitProblems(const CreatorLimits& limits,
                                              const std::string& privacy, double duration_s) {
  std::vector<std::string> problems;
  if (std::find(limits.privacy_options.begin(), limits.privacy_options.end(), privacy) ==
      limits.privacy_options.end()) {
    problems.push_back(absl::StrCat("privacy ", privacy,
                                    " is not offered to this creator (offered: ",
                                    absl::StrJoin(limits.privacy_options, ", "), ")"));
  }
  if (absl::Seconds(duration_s) > limits.max_duration) {
    problems.push_back(absl::StrCat("the creator may post at most ",
                                    absl::FormatDuration(limits.max_duration), " on TikTok"));
  }
  return problems;
}

TokenSource::Renew TikTokRenewal(const TikTokConfig& config) {
  return OAuthRefresh(config.base_url + "/v2/oauth/token/", "TikTok's token endpoint",
                      {{"client_key", config.client_key}, {"client_secret", config.client_secret}},
                      config.timeout);
}

TikTokApi::TikTokApi(TikTokConfig config, std::shared_ptr<TokenSource> tokens)
    : config_(std::move(config)), tokens_(std::move(tokens)) {}

absl::StatusOr<nlohmann::json> TikTokApi::Call(const std::string& path,
                                               const nlohmann::json& body) {
  absl::StatusOr<http::Response> response = SendAuthorized(
      *tokens_,
      [&](const std::string& token) {
        http::Request request;
        request.method = "POST";
        request.url = config_.base_url + path;
        request.timeout = config_.timeout;
        request.headers = {{"Authorization", "Bearer " + token},
                           {"Content-Type", "application/json; charset=UTF-8"}};
        request.body = body.dump();
        return request;
      },
      TokenExpired);
  if (!response.ok()) return response.status();
  nlohmann::json answer = JsonOf(response->body);
  const bool ok_code = TextAt(ObjectAt(answer, "error"), "code") == "ok";
  if (response->status == 200 && ok_code) return ObjectAt(answer, "data");
  if (response->status == 200 && answer.is_discarded()) {
    return absl::UnavailableError("TikTok answered with a body that is not the documented JSON");
  }
  return StatusOfError(*response, answer);
}

absl::StatusOr<CreatorLimits> TikTokApi::Limits() {
  absl::StatusOr<nlohmann::json> data =
      Call("/v2/post/publish/creator_info/query/", nlohmann::json::object());
  if (!data.ok()) return data.status();
  CreatorLimits limits;
  auto options = data->find("privacy_level_options");
  if (options != data->end() && options->is_array()) {
    for (const nlohmann::json& option : *options) {
      if (!option.is_string()) continue;
      const std::string ours = OurPrivacy(option.get<std::string>());
      if (!ours.empty()) limits.privacy_options.push_back(ours);
    }
  }
  const int64_t max_seconds = CountAt(*data, "max_video_post_duration_sec");
  if (max_seconds > 0) limits.max_duration = absl::Seconds(max_seconds);
  std::lock_guard<std::mutex> lock(mutex_);
  username_ = TextAt(*data, "creator_username");
  return limits;
}

std::string TikTokApi::PostUrl(const std::string& post_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return absl::StrCat("https://www.tiktok.com/@", username_, "/video/", post_id);
}

absl::StatusOr<Advanced> TikTokApi::Start(const PostRequest& post, PublishContext& context) {
  if (context.lookup_only()) return NotPosted("no post was started");
  // TikTok asks for creator_info before each post: what the creator may post can have changed
  // since the publish was queued (a scheduled one, days ago).
  absl::Status rules = CheckTikTokRules(config_.audited, post.privacy, post.disclosure);
  if (!rules.ok()) return rules;
  absl::StatusOr<CreatorLimits> limits = Limits();
  if (!limits.ok()) return limits.status();
  const std::vector<std::string> problems =
      CreatorLimitProblems(*limits, post.privacy, post.duration_s);
  if (!problems.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("TikTok's creator_info, asked again as the post goes out: ",
                     absl::StrJoin(problems, "; ")));
  }
  context.SetPhase("uploading");
  const Chunks chunks = ChunksFor(post.video_bytes, config_.chunk_size);
  nlohmann::json body = {{"post_info",
                          {{"title", post.caption},
                           {"privacy_level", TikTokPrivacy(post.privacy)},
                           {"disable_duet", false},
                           {"disable_comment", false},
                           {"disable_stitch", false},
                           {"is_aigc", post.ai_generated},
                           {"brand_content_toggle", post.disclosure},
                           {"brand_organic_toggle", false}}},
                         {"source_info",
                          {{"source", "FILE_UPLOAD"},
                           {"video_size", post.video_bytes},
                           {"chunk_size", chunks.size},
                           {"total_chunk_count", chunks.count}}}};
  absl::StatusOr<nlohmann::json> data = Call("/v2/post/publish/video/init/", body);
  if (!data.ok()) return data.status();
  const std::string publish_id = TextAt(*data, "publish_id");
  const std::string upload_url = TextAt(*data, "upload_url");
  if (publish_id.empty() || upload_url.empty()) {
    return absl::UnavailableError("TikTok's init answer has no publish_id or upload_url");
  }
  // Recorded before the upload: from here on, recovery goes by this publish_id.
  nlohmann::json handle = {{"publish_id", publish_id}, {"upload_url", upload_url}};
  if (!context.RecordHandle(handle.dump())) return absl::CancelledError("the lease was lost");
  absl::Status uploaded = Upload(post, upload_url, 0, context);
  if (!uploaded.ok()) return uploaded;
  context.SetPhase("processing");
  return Advanced{false, {}, config_.poll_interval};
}

absl::Status TikTokApi::Upload(const PostRequest& post, const std::string& upload_url, int64_t from,
                               PublishContext& context) {
  const Chunks chunks = ChunksFor(post.video_bytes, config_.chunk_size);
  for (int64_t index = std::min(from / std::max<int64_t>(1, chunks.size), chunks.count - 1);
       index < chunks.count; ++index) {
    if (context.cancel() != nullptr && context.cancel()->load()) {
      return absl::CancelledError("stopped during the upload");
    }
    const int64_t first = index * chunks.size;
    const int64_t last = index + 1 == chunks.count ? post.video_bytes - 1 : first + chunks.size - 1;
    absl::StatusOr<std::string> bytes = ReadFileRange(post.video_path, first, last - first + 1);
    if (!bytes.ok()) return bytes.status();
    http::Request request;
    request.method = "PUT";
    request.url = upload_url;
    request.timeout = config_.upload_timeout;
    request.cancel = context.cancel();
    request.headers = {
        {"Content-Type", "video/mp4"},
        {"Content-Range", absl::StrCat("bytes ", first, "-", last, "/", post.video_bytes)}};
    request.body = std::move(*bytes);
    absl::StatusOr<http::Response> response = http::Send(request);
    if (!response.ok()) return response.status();
    if (response->status == 404) {
      // The upload URL expired: the next attempt's status fetch says upload_expired and starts
      // again (that publish made no post).
      return absl::UnavailableError("TikTok no longer knows the upload URL");
    }
    if (response->status == 416) {
      // TikTok has other bytes than we thought: the next attempt asks it where it stands.
      return absl::UnavailableError("TikTok expected another chunk; resuming from its count");
    }
    if (response->status != 201 && response->status != 206) {
      return StatusOfError(*response, JsonOf(response->body));
    }
    context.SetProgress(
        static_cast<int>(10 + 60 * (last + 1) / std::max<int64_t>(1, post.video_bytes)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Advanced> TikTokApi::Advance(const PostRequest& post, const std::string& handle,
                                            PublishContext& context) {
  nlohmann::json recorded = JsonOf(handle);
  const std::string publish_id = TextAt(recorded, "publish_id");
  if (publish_id.empty()) return Start(post, context);

  absl::StatusOr<nlohmann::json> data =
      Call("/v2/post/publish/status/fetch/", {{"publish_id", publish_id}});
  if (!data.ok()) return data.status();
  const std::string status = TextAt(*data, "status");
  if (status == "PROCESSING_UPLOAD") {
    context.SetPhase("uploading");
    const int64_t received = std::max<int64_t>(0, CountAt(*data, "uploaded_bytes"));
    if (context.lookup_only()) {
      if (post.video_bytes > 0 && received >= post.video_bytes) {
        return Advanced{false, {}, config_.poll_interval};  // every byte is in: it may yet post
      }
      return NotPosted(absl::StrCat("the upload stopped at ", received, " of ", post.video_bytes,
                                    " bytes; TikTok posts nothing until it has them all"));
    }
    absl::Status uploaded = Upload(post, TextAt(recorded, "upload_url"), received, context);
    if (!uploaded.ok()) return uploaded;
    context.SetPhase("processing");
    return Advanced{false, {}, config_.poll_interval};
  }
  if (status == "PROCESSING_DOWNLOAD") {
    context.SetPhase("processing");
    return Advanced{false, {}, config_.poll_interval};
  }
  if (status == "SEND_TO_USER_INBOX") {
    Advanced done{true, {}, absl::ZeroDuration()};
    done.result.note = "TikTok sent the video to the creator's inbox to finish there; no post id";
    return done;
  }
  if (status == "PUBLISH_COMPLETE") {
    auto ids = data->find("publicaly_available_post_id");
    if (ids != data->end() && ids->is_array() && !ids->empty()) {
      const nlohmann::json& first = (*ids)[0];
      std::string id = first.is_string()           ? first.get<std::string>()
                       : first.is_number_integer() ? std::to_string(first.get<int64_t>())
                                                   : "";
      if (!id.empty()) {
        Limits().IgnoreError();  // learns the creator's name for the post's URL
        return Advanced{true, {id, PostUrl(id), absl::Now(), ""}, absl::ZeroDuration()};
      }
    }
    if (post.privacy == "private") {
      Advanced done{true, {}, absl::ZeroDuration()};
      done.result.note = "a private TikTok post has no public id; it is not collected";
      return done;
    }
    // The id may come minutes later: wait for it, counting from when completion was first seen.
    int64_t seen_ms = CountAt(recorded, "complete_seen_at_ms");
    if (seen_ms <= 0) {
      seen_ms = absl::ToUnixMillis(absl::Now());
      recorded["complete_seen_at_ms"] = seen_ms;
      if (!context.RecordHandle(recorded.dump())) return absl::CancelledError("the lease was lost");
    }
    if (absl::Now() - absl::FromUnixMillis(seen_ms) > config_.post_id_wait) {
      Advanced done{true, {}, absl::ZeroDuration()};
      done.result.note = "TikTok published the post but gave no public id in time; not collected";
      return done;
    }
    return Advanced{false, {}, config_.poll_interval};
  }
  if (status == "FAILED") {
    const std::string reason = TextAt(*data, "fail_reason");
    if (reason == "upload_expired") {
      // That publish never became a post: starting again cannot post twice.
      if (!context.RecordHandle("")) return absl::CancelledError("the lease was lost");
      return Start(post, context);
    }
    // The platform says no post came of it: the handle goes, so the assembly may be published
    // again.
    if (!context.RecordHandle("")) return absl::CancelledError("the lease was lost");
    return absl::FailedPreconditionError(absl::StrCat("TikTok failed the post: ", reason));
  }
  return absl::UnavailableError(absl::StrCat("TikTok answered an unknown status \"", status, "\""));
}

absl::StatusOr<PostFigures> TikTokApi::Figures(const std::string& post_id) {
  absl::StatusOr<nlohmann::json> data =
      Call("/v2/video/query/?fields=id,view_count,like_count,comment_count,share_count",
           {{"filters", {{"video_ids", {post_id}}}}});
  if (!data.ok()) return data.status();
  auto videos = data->find("videos");
  if (videos == data->end() || !videos->is_array()) {
    return absl::UnavailableError("TikTok's video query answer has no videos");
  }
  for (const nlohmann::json& video : *videos) {
    if (TextAt(video, "id") != post_id) continue;
    PostFigures figures;
    figures.unavailable = {"saves"};
    SetFigure(figures, "views", CountAt(video, "view_count"));
    SetFigure(figures, "likes", CountAt(video, "like_count"));
    SetFigure(figures, "comments", CountAt(video, "comment_count"));
    SetFigure(figures, "shares", CountAt(video, "share_count"));
    return figures;
  }
  return absl::NotFoundError(absl::StrCat("TikTok has no video ", post_id));
}

}  // namespace cf::publishing
