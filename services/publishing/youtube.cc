#include "services/publishing/youtube.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status/status.h"

namespace cf::publishing {
namespace {

std::string Reason(const nlohmann::json& body) {
  const nlohmann::json& error = ObjectAt(body, "error");
  auto errors = error.find("errors");
  if (errors != error.end() && errors->is_array() && !errors->empty()) {
    return TextAt((*errors)[0], "reason");
  }
  return "";
}

absl::Status StatusOfGoogleError(const http::Response& response) {
  const nlohmann::json body = JsonOf(response.body);
  const std::string reason = Reason(body);
  const std::string message = TextAt(ObjectAt(body, "error"), "message");
  const std::string said = absl::StrCat(" (YouTube: ", reason.empty() ? "" : reason + ": ",
                                        message.empty() ? Answered(response) : message, ")");
  if (reason == "quotaExceeded" || reason == "uploadLimitExceeded") {
    return WithRetryAfter(absl::ResourceExhaustedError("YouTube's daily quota is used up" + said),
                          absl::Hours(1));
  }
  if (response.status == 429 || reason == "rateLimitExceeded" ||
      reason == "userRateLimitExceeded") {
    absl::Duration wait = http::RetryAfter(response);
    return WithRetryAfter(absl::ResourceExhaustedError("YouTube's rate limit" + said),
                          wait > absl::ZeroDuration() ? wait : absl::Seconds(60));
  }
  if (response.status == 401)
    return absl::PermissionDeniedError("YouTube refused the token" + said);
  if (response.status >= 500) return absl::UnavailableError("YouTube is unavailable" + said);
  if (response.status == 400) return absl::InvalidArgumentError("YouTube refused the video" + said);
  return absl::FailedPreconditionError("YouTube refused the request" + said);
}

std::string GooglePrivacy(const std::string& privacy) {
  if (privacy == "private") return "private";
  if (privacy == "unlisted") return "unlisted";
  return "public";
}

// The last byte YouTube has, from a 308's "Range: bytes=0-N" (-1 when it has none).
int64_t LastByteReceived(const http::Response& response) {
  auto range = response.headers.find("range");
  if (range == response.headers.end()) return -1;
  absl::string_view value = range->second;
  size_t dash = value.rfind('-');
  int64_t last = -1;
  if (dash == absl::string_view::npos || !absl::SimpleAtoi(value.substr(dash + 1), &last)) {
    return -1;
  }
  return last;
}

}  // namespace

namespace {

absl::TimeZone Pacific() {
  absl::TimeZone pacific;
  if (!absl::LoadTimeZone("America/Los_Angeles", &pacific)) {
    pacific = absl::FixedTimeZone(-8 * 60 * 60);
  }
  return pacific;
}

}  // namespace

absl::CivilDay YouTubeQuotaDay(absl::Time time) { return absl::ToCivilDay(time, Pacific()); }

absl::Time NextYouTubeQuotaDay(absl::Time time) {
  return absl::FromCivil(YouTubeQuotaDay(time) + 1, Pacific());
}

TokenSource::Renew GoogleRenewal(const YouTubeConfig& config) {
  return OAuthRefresh(config.token_url, "Google's token endpoint",
                      {{"client_id", config.client_id}, {"client_secret", config.client_secret}},
                      config.timeout);
}

YouTubeApi::YouTubeApi(YouTubeConfig config, std::shared_ptr<TokenSource> tokens,
                       ChargeUpload charge_upload)
    : config_(std::move(config)),
      tokens_(std::move(tokens)),
      charge_upload_(std::move(charge_upload)) {}

absl::StatusOr<http::Response> YouTubeApi::Send(
    const std::string& method, const std::string& url,
    std::vector<std::pair<std::string, std::string>> headers, std::string body,
    absl::Duration timeout, const std::atomic<bool>* cancel) {
  return SendAuthorized(
      *tokens_,
      [&](const std::string& token) {
        http::Request request;
        request.method = method;
        request.url = url;
        request.timeout = timeout;
        request.cancel = cancel;
        request.headers = headers;
        request.headers.push_back({"Authorization", "Bearer " + token});
        request.body = body;
        return request;
      },
      [](const http::Response& response) { return response.status == 401; });
}

absl::StatusOr<std::string> YouTubeApi::Upload(const PostRequest& post, const std::string& session,
                                               int64_t from, PublishContext& context) {
  int64_t start = from;
  while (true) {
    if (start >= post.video_bytes) {
      return absl::UnavailableError("YouTube has every byte but answered no video yet");
    }
    const int64_t length = std::min(config_.chunk_size, post.video_bytes - start);
    absl::StatusOr<std::string> bytes = ReadFileRange(post.video_path, start, length);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<http::Response> response =
        Send("PUT", session,
             {{"Content-Type", "video/mp4"},
              {"Content-Range",
               absl::StrCat("bytes ", start, "-", start + length - 1, "/", post.video_bytes)}},
             std::move(*bytes), config_.upload_timeout, context.cancel());
    if (!response.ok()) return response.status();
    if (response->status == 200 || response->status == 201) {
      const std::string id = TextAt(JsonOf(response->body), "id");
      if (id.empty()) return absl::UnavailableError("YouTube's upload answer has no video id");
      return id;
    }
    if (response->status != 308) return StatusOfGoogleError(*response);
    start = LastByteReceived(*response) + 1;
    context.SetProgress(static_cast<int>(10 + 60 * start / std::max<int64_t>(1, post.video_bytes)));
  }
}

absl::StatusOr<Advanced> YouTubeApi::Processing(const PostRequest& post,
                                                const std::string& video_id,
                                                PublishContext& context) {
  context.SetPhase("processing");
  absl::StatusOr<http::Response> response =
      Send("GET",
           config_.base_url +
               "/youtube/v3/videos?part=status,processingDetails&id=" + UrlEncode(video_id),
           {}, "", config_.timeout, context.cancel());
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusOfGoogleError(*response);
  nlohmann::json body = JsonOf(response->body);
  auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty()) {
    // Listing can lag just after an upload; the handle keeps asking (bounded by the publish's
    // deadline).
    return absl::UnavailableError(absl::StrCat("YouTube does not list video ", video_id, " yet"));
  }
  const nlohmann::json& video = (*items)[0];
  const std::string upload = TextAt(ObjectAt(video, "status"), "uploadStatus");
  const std::string processing = TextAt(ObjectAt(video, "processingDetails"), "processingStatus");
  if (upload == "failed" || upload == "rejected" || upload == "deleted" || processing == "failed" ||
      processing == "terminated") {
    // The platform says no post came of it: the handle goes, so the assembly may be
    // published again.
    if (!context.RecordHandle("")) return absl::CancelledError("the lease was lost");
    return absl::FailedPreconditionError(
        absl::StrCat("YouTube could not process the video (", upload, ", ", processing, ")"));
  }
  if (upload == "processed" || processing == "succeeded") {
    const bool short_video = post.height > post.width;  // 9:16; a 16:9 video is no Short
    return Advanced{true,
                    {video_id,
                     short_video ? "https://www.youtube.com/shorts/" + video_id
                                 : "https://www.youtube.com/watch?v=" + video_id,
                     absl::InfinitePast(), ""},
                    absl::ZeroDuration()};
  }
  return Advanced{false, {}, config_.poll_interval};
}

absl::StatusOr<Advanced> YouTubeApi::Advance(const PostRequest& post, const std::string& handle,
                                             PublishContext& context) {
  nlohmann::json recorded = JsonOf(handle);
  const std::string video_id = TextAt(recorded, "video_id");
  if (!video_id.empty()) return Processing(post, video_id, context);

  std::string session = TextAt(recorded, "session");
  int64_t from = 0;
  if (!session.empty()) {
    // Where does the upload stand?
    absl::StatusOr<http::Response> response =
        Send("PUT", session,
             {{"Content-Range",
               // The size is unknown here when the file is gone (a lookup can still ask).
               post.video_bytes > 0 ? absl::StrCat("bytes */", post.video_bytes) : "bytes */*"}},
             "", config_.timeout, context.cancel());
    if (!response.ok()) return response.status();
    if (response->status == 200 || response->status == 201) {
      const std::string id = TextAt(JsonOf(response->body), "id");
      if (id.empty()) return absl::UnavailableError("YouTube's session answer has no video id");
      recorded["video_id"] = id;
      if (!context.RecordHandle(recorded.dump())) return absl::CancelledError("the lease was lost");
      return Processing(post, id, context);
    }
    if (response->status == 404 || response->status == 410) {
      session.clear();  // the session is gone and made no video
    } else if (response->status == 308) {
      from = LastByteReceived(*response) + 1;
    } else {
      return StatusOfGoogleError(*response);
    }
  }
  if (context.lookup_only()) {
    return NotPosted(session.empty()
                         ? std::string("no upload session holds a video")
                         : absl::StrCat("the upload stopped at ", from, " of ", post.video_bytes,
                                        " bytes; YouTube makes no video until it has them all"));
  }
  context.SetPhase("uploading");
  if (session.empty()) {
    nlohmann::json resource = {
        {"snippet",
         {{"title", post.title.empty() ? post.caption.substr(0, 100) : post.title},
          {"description", post.caption},
          {"tags", post.hashtags},
          {"categoryId", "22"}}},
        {"status",
         {{"privacyStatus", GooglePrivacy(post.privacy)},
          {"selfDeclaredMadeForKids", false},
          {"containsSyntheticMedia", post.ai_generated}}},
        {"paidProductPlacementDetails", {{"hasPaidProductPlacement", post.disclosure}}}};
    // YouTube counts each request that opens a session, retries included.
    if (charge_upload_) {
      absl::Status charged = charge_upload_();
      if (!charged.ok()) return charged;
    }
    absl::StatusOr<http::Response> response =
        Send("POST",
             config_.base_url +
                 "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status,"
                 "paidProductPlacementDetails",
             {{"Content-Type", "application/json; charset=UTF-8"},
              {"X-Upload-Content-Length", std::to_string(post.video_bytes)},
              {"X-Upload-Content-Type", "video/mp4"}},
             resource.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
             config_.timeout, context.cancel());
    if (!response.ok()) return response.status();
    if (response->status != 200) return StatusOfGoogleError(*response);
    auto location = response->headers.find("location");
    if (location == response->headers.end() || location->second.empty()) {
      return absl::UnavailableError("YouTube's answer has no upload session (Location)");
    }
    session = std::string(absl::StripAsciiWhitespace(location->second));
    if (http::OriginOf(session) != http::OriginOf(config_.base_url)) {
      // The access token goes with every PUT: never to a host other than YouTube's.
      return absl::UnavailableError(absl::StrCat("YouTube's upload session is on another host (",
                                                 http::OriginOf(session), ")"));
    }
    // Recorded before any byte: the video exists only once the last one is in.
    if (!context.RecordHandle(nlohmann::json{{"session", session}}.dump())) {
      return absl::CancelledError("the lease was lost");
    }
  }
  absl::StatusOr<std::string> id = Upload(post, session, from, context);
  if (!id.ok()) return id.status();
  if (!context.RecordHandle(nlohmann::json{{"session", session}, {"video_id", *id}}.dump())) {
    return absl::CancelledError("the lease was lost");
  }
  return Processing(post, *id, context);
}

absl::StatusOr<PostFigures> YouTubeApi::Figures(const std::string& post_id) {
  absl::StatusOr<http::Response> response =
      Send("GET", config_.base_url + "/youtube/v3/videos?part=statistics&id=" + UrlEncode(post_id),
           {}, "", config_.timeout, nullptr);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusOfGoogleError(*response);
  nlohmann::json body = JsonOf(response->body);
  auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty()) {
    return absl::NotFoundError(absl::StrCat("YouTube has no video ", post_id));
  }
  const nlohmann::json& statistics = ObjectAt((*items)[0], "statistics");
  PostFigures figures;
  figures.unavailable = {"shares", "saves"};
  // YouTube leaves likeCount out when the owner hides likes, commentCount when comments are
  // off: unavailable, not 0.
  SetFigure(figures, "views", CountAt(statistics, "viewCount"));
  SetFigure(figures, "likes", CountAt(statistics, "likeCount"));
  SetFigure(figures, "comments", CountAt(statistics, "commentCount"));
  return figures;
}

}  // namespace cf::publishing
