#include "services/sandbox/youtube_api.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"
#include "common/platforms/platforms.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

constexpr char kAccount[] = "google";
constexpr char kChannel[] = "UCsandbox0000000000000001";
constexpr char kUploadPath[] = "/youtube/upload/youtube/v3/videos";
// Quota units of the daily 10,000 (scaled by --rate_scale).
constexpr int64_t kDailyQuota = 10000;
constexpr int64_t kInsertCost = 1600;

void SendInternal(httplib::Response& res, const absl::Status& status) {
  Log(LogLevel::kError, "youtube call failed", {{"error", std::string(status.message())}});
  SendStandardError(res, Flavor::kGoogle, 500, "Backend Error");
}

bool WithinQuota(Env& env, int64_t cost, httplib::Response& res) {
  std::optional<absl::Duration> wait =
      env.limiter->Take("youtube:quota", kDailyQuota, absl::Hours(24), env.Now(), cost);
  if (!wait.has_value()) return true;
  SendGoogleError(res, 403, "quotaExceeded",
                  "The request cannot be completed because you have exceeded your quota.",
                  "youtube.quota");
  res.set_header("Retry-After", std::to_string(absl::ToInt64Seconds(*wait)));
  return false;
}

// The video resource as insert and the last PUT answer it.
nlohmann::json VideoResource(const Post& post, const nlohmann::json& request) {
  nlohmann::json snippet = request.contains("snippet") && request["snippet"].is_object()
                               ? request["snippet"]
                               : nlohmann::json::object();
  snippet["publishedAt"] = FormatTime(post.created_ms, true);
  snippet["channelId"] = kChannel;
  snippet["channelTitle"] = "Sandbox Channel";
  nlohmann::json status = request.contains("status") && request["status"].is_object()
                              ? request["status"]
                              : nlohmann::json::object();
  status["uploadStatus"] = "uploaded";
  status["privacyStatus"] = post.privacy;
  nlohmann::json video = {{"kind", "youtube#video"},
                          {"etag", post.video_sha256.substr(0, 27)},
                          {"id", post.key},
                          {"snippet", snippet},
                          {"status", status}};
  if (request.contains("paidProductPlacementDetails")) {
    video["paidProductPlacementDetails"] = request["paidProductPlacementDetails"];
  }
  return video;
}

// Checks the video resource insert takes; "" when it is fine, else the reason and message.
std::pair<std::string, std::string> CheckResource(const nlohmann::json& resource) {
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& snippet =
      resource.contains("snippet") && resource["snippet"].is_object() ? resource["snippet"] : empty;
  const nlohmann::json& status =
      resource.contains("status") && resource["status"].is_object() ? resource["status"] : empty;
  const std::string title = TextAt(snippet, "title");
  if (title.empty())
    return {"invalidTitle", "The request metadata specifies an empty video title."};
  if (platforms::CaptionLength(title) > 100 || absl::StrContains(title, "<") ||
      absl::StrContains(title, ">")) {
    return {"invalidTitle", "The video title is longer than 100 characters or contains < or >."};
  }
  const std::string description = TextAt(snippet, "description");
  if (description.size() > 5000 || absl::StrContains(description, "<") ||
      absl::StrContains(description, ">")) {
    return {"invalidDescription",
            "The video description is longer than 5000 bytes or contains < or >."};
  }
  if (snippet.contains("tags") && !snippet["tags"].is_array()) {
    return {"invalidTags", "snippet.tags must be a list of strings."};
  }
  if (!BoolAt(status, "selfDeclaredMadeForKids").has_value()) {
    return {"invalidVideoMetadata", "status.selfDeclaredMadeForKids must be set (true or false)."};
  }
  const std::string privacy = TextAt(status, "privacyStatus");
  if (!privacy.empty() && privacy != "public" && privacy != "unlisted" && privacy != "private") {
    return {"invalidVideoMetadata", "status.privacyStatus must be public, unlisted or private."};
  }
  return {"", ""};
}

void Insert(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(env, Flavor::kGoogle, kAccount, req, res)) return;
  if (Param(req, "uploadType") != "resumable") {
    return SendGoogleError(res, 400, "badRequest",
                           "The sandbox takes resumable uploads only (uploadType=resumable).");
  }
  std::set<std::string> parts = absl::StrSplit(Param(req, "part"), ',', absl::SkipWhitespace());
  if (parts.empty()) {
    return SendGoogleError(res, 400, "required", "Required parameter: part");
  }
  std::optional<nlohmann::json> resource = JsonObjectBody(req);
  if (!resource.has_value()) {
    return SendGoogleError(res, 400, "parseError", "The video resource is not a JSON object.");
  }
  auto [reason, message] = CheckResource(*resource);
  if (!reason.empty()) return SendGoogleError(res, 400, reason, message);
  int64_t length = 0;
  const std::string length_header = req.get_header_value("X-Upload-Content-Length");
  if (!length_header.empty() && (!absl::SimpleAtoi(length_header, &length) || length <= 0)) {
    return SendGoogleError(res, 400, "badRequest", "X-Upload-Content-Length must be > 0.");
  }
  const std::string type = req.get_header_value("X-Upload-Content-Type");
  if (!type.empty() && !absl::StartsWith(type, "video/") && type != "application/octet-stream") {
    return SendGoogleError(res, 400, "badContent", "X-Upload-Content-Type must be a video type.");
  }
  if (!WithinQuota(env, kInsertCost, res)) return;
  auto lock = env.store->Lock();
  State& state = env.store->state();
  Upload upload;
  upload.platform = "youtube";
  upload.id = absl::StrCat("ytu", state.NextNumber());
  upload.account = kChannel;
  upload.total_bytes = length;
  upload.created_ms = env.NowMs();
  upload.request = *resource;
  state.uploads[upload.id] = upload;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  res.status = 200;
  res.set_header("Location", absl::StrCat(BaseUrl(req, env), kUploadPath,
                                          "?uploadType=resumable&upload_id=", upload.id));
  res.set_header("X-GUploader-UploadID", upload.id);
}

// Answers where an upload stands: 200 with the resource once complete, else 308 with the
// bytes received so far.
void UploadState(State& state, const Upload& upload, httplib::Response& res) {
  if (upload.completed_ms != 0) {
    const Post* post = state.FindPost("youtube", upload.post_key);
    if (post != nullptr) return SendJson(res, 200, VideoResource(*post, upload.request));
  }
  res.status = 308;
  if (upload.received_bytes > 0) {
    res.set_header("Range", absl::StrCat("bytes=0-", upload.received_bytes - 1));
  }
}

void Put(Env& env, const httplib::Request& req, httplib::Response& res) {
  const std::string header = req.get_header_value("Content-Range");
  std::optional<ContentRange> range;
  if (header.empty()) {
    // One PUT with the whole video.
    if (req.body.empty()) {
      return SendGoogleError(res, 400, "badRequest", "Content-Range or a body is required.");
    }
    const int64_t size = static_cast<int64_t>(req.body.size());
    range = ContentRange{true, 0, size - 1, size};
  } else {
    range = ParseContentRange(header);
  }
  if (!range.has_value()) {
    return SendGoogleError(res, 400, "badRequest",
                           "Content-Range must be bytes FIRST-LAST/TOTAL or bytes */TOTAL.");
  }
  std::string completed_key;
  {
    auto lock = env.store->Lock();
    State& state = env.store->state();
    auto it = state.uploads.find(Param(req, "upload_id"));
    if (it == state.uploads.end() || it->second.platform != "youtube") {
      return SendGoogleError(res, 404, "notFound", "The upload session does not exist.");
    }
    Upload& upload = it->second;
    if (range->total >= 0) {
      if (upload.total_bytes > 0 && range->total != upload.total_bytes) {
        return SendGoogleError(res, 400, "badRequest",
                               absl::StrCat("Content-Range's total ", range->total,
                                            " is not the upload's length ", upload.total_bytes));
      }
      if (range->total < upload.received_bytes || range->total == 0) {
        return SendGoogleError(res, 400, "badRequest", "Content-Range's total is too small.");
      }
      upload.total_bytes = range->total;
    }
    if (!range->has_range) {
      if (!req.body.empty()) {
        return SendGoogleError(res, 400, "badRequest", "bytes */TOTAL takes no body.");
      }
      return UploadState(state, upload, res);
    }
    if (static_cast<int64_t>(req.body.size()) != range->last - range->first + 1) {
      return SendGoogleError(res, 400, "badRequest",
                             "The body's length does not match Content-Range.");
    }
    if (upload.completed_ms == 0 && range->first <= upload.received_bytes &&
        range->last >= upload.received_bytes) {
      // Keep the bytes not yet received (a resent chunk may overlap what is in).
      const int64_t skip = upload.received_bytes - range->first;
      absl::Status written =
          WriteAt(env.store->PartPath(upload.id), upload.received_bytes, req.body.substr(skip));
      if (!written.ok()) return SendInternal(res, written);
      upload.received_bytes = range->last + 1;
      if (upload.received_bytes == upload.total_bytes) {
        const std::string key = YouTubeVideoId(state.NextNumber());
        absl::StatusOr<Post*> post =
            CreatePost(env, state, "youtube", key, env.store->PartPath(upload.id));
        if (!post.ok()) return SendInternal(res, post.status());
        const nlohmann::json& snippet = upload.request["snippet"];
        const nlohmann::json& status = upload.request["status"];
        (*post)->account = upload.account;
        (*post)->title = TextAt(snippet, "title");
        (*post)->caption = TextAt(snippet, "description");
        (*post)->privacy =
            TextAt(status, "privacyStatus").empty() ? "public" : TextAt(status, "privacyStatus");
        (*post)->flags = {
            {"selfDeclaredMadeForKids", BoolAt(status, "selfDeclaredMadeForKids").value_or(false)},
            {"containsSyntheticMedia", BoolAt(status, "containsSyntheticMedia").value_or(false)},
            {"hasPaidProductPlacement",
             upload.request.contains("paidProductPlacementDetails")
                 ? BoolAt(upload.request["paidProductPlacementDetails"], "hasPaidProductPlacement")
                       .value_or(false)
                 : false}};
        upload.post_key = key;
        upload.completed_ms = env.NowMs();
        completed_key = key;
      }
      absl::Status saved = env.store->Save();
      if (!saved.ok()) return SendInternal(res, saved);
    }
    // A chunk past what is in is not kept: the 308's Range says where to resume.
    UploadState(state, upload, res);
  }
  if (!completed_key.empty()) ProbePost(env, "youtube", completed_key);
}

void VideosList(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(env, Flavor::kGoogle, kAccount, req, res)) return;
  static const std::set<std::string> kParts = {"id", "snippet", "status", "processingDetails",
                                               "statistics"};
  std::vector<std::string> parts = absl::StrSplit(Param(req, "part"), ',', absl::SkipWhitespace());
  if (parts.empty()) return SendGoogleError(res, 400, "required", "Required parameter: part");
  for (const std::string& part : parts) {
    if (kParts.count(part) == 0) {
      return SendGoogleError(res, 400, "unknownPart", absl::StrCat("Unknown part: ", part));
    }
  }
  std::vector<std::string> ids = absl::StrSplit(Param(req, "id"), ',', absl::SkipWhitespace());
  if (ids.empty()) return SendGoogleError(res, 400, "required", "Required parameter: id");
  if (ids.size() > 50) return SendGoogleError(res, 400, "badRequest", "At most 50 ids.");
  if (!WithinQuota(env, 1, res)) return;
  auto lock = env.store->Lock();
  State& state = env.store->state();
  nlohmann::json items = nlohmann::json::array();
  for (const std::string& id : ids) {
    const Post* post = state.FindPost("youtube", id);
    if (post == nullptr) continue;
    const Upload* upload = nullptr;
    for (const auto& [upload_id, candidate] : state.uploads) {
      if (candidate.platform == "youtube" && candidate.post_key == id) upload = &candidate;
    }
    const nlohmann::json request = upload != nullptr ? upload->request : nlohmann::json::object();
    const Processing processing = ProcessingOf(env, *post);
    nlohmann::json item = {{"kind", "youtube#video"}, {"id", id}};
    for (const std::string& part : parts) {
      if (part == "snippet") item["snippet"] = VideoResource(*post, request)["snippet"];
      if (part == "status") {
        nlohmann::json status = VideoResource(*post, request)["status"];
        status["uploadStatus"] = processing == Processing::kProcessing ? "uploaded"
                                 : processing == Processing::kReady    ? "processed"
                                                                       : "failed";
        if (processing == Processing::kFailed) status["failureReason"] = "invalidFile";
        item["status"] = status;
      }
      if (part == "processingDetails") {
        nlohmann::json details = {
            {"processingStatus", processing == Processing::kProcessing ? "processing"
                                 : processing == Processing::kReady    ? "succeeded"
                                                                       : "failed"}};
        if (processing == Processing::kFailed) details["processingFailureReason"] = "other";
        item["processingDetails"] = details;
      }
      if (part == "statistics") {
        const Figures figures = FiguresOf(env, *post);
        item["statistics"] = {{"viewCount", std::to_string(figures.views)},
                              {"likeCount", std::to_string(figures.likes)},
                              {"favoriteCount", "0"},
                              {"commentCount", std::to_string(figures.comments)}};
      }
    }
    items.push_back(item);
  }
  SendJson(res, 200,
           {{"kind", "youtube#videoListResponse"},
            {"pageInfo", {{"totalResults", items.size()}, {"resultsPerPage", items.size()}}},
            {"items", items}});
}

void GoogleToken(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (Param(req, "client_id") != "sandbox-client" ||
      Param(req, "client_secret") != "sandbox-secret") {
    return SendOAuthError(res, 401, "invalid_client", "The OAuth client was not found.");
  }
  if (Param(req, "grant_type") != "refresh_token") {
    return SendOAuthError(res, 400, "unsupported_grant_type",
                          "Invalid grant_type: " + Param(req, "grant_type"));
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  if (Param(req, "refresh_token") != "sandbox-refresh" || state.Tokens(kAccount).refresh_revoked) {
    return SendOAuthError(res, 400, "invalid_grant", "Token has been expired or revoked.");
  }
  const std::string token = IssueToken(state, kAccount);
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendJson(res, 200,
           {{"access_token", token},
            {"expires_in", 3599},
            {"token_type", "Bearer"},
            {"scope",
             "https://www.googleapis.com/auth/youtube.upload "
             "https://www.googleapis.com/auth/youtube.readonly"}});
}

}  // namespace

std::string YouTubeVideoId(int64_t number) {
  // SplitMix64 is a bijection on 64 bits, so distinct numbers give distinct ids.
  uint64_t x = static_cast<uint64_t>(number) + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string id;
  for (int i = 0; i < 11; ++i) {
    id.push_back(kAlphabet[x & 63]);
    x >>= 6;
  }
  return id;
}

void RegisterYouTube(httplib::Server& server, Env& env) {
  auto call = [&env](const char* platform, std::string operation,
                     void (*handler)(Env&, const httplib::Request&, httplib::Response&)) {
    return
        [&env, platform, operation, handler](const httplib::Request& req, httplib::Response& res) {
          RunCall(env, Flavor::kGoogle, platform, operation, req, res,
                  [&](const httplib::Request& r, httplib::Response& s) { handler(env, r, s); });
        };
  };
  server.Post(kUploadPath, WithFullBody(call("youtube", "insert", Insert)));
  // A PUT with "bytes */TOTAL" and no body asks where the upload stands ("status").
  auto upload = call("youtube", "upload", Put);
  auto status = call("youtube", "status", Put);
  server.Put(kUploadPath,
             WithFullBody(
                 [upload, status](const httplib::Request& req, httplib::Response& res) {
                   const bool query =
                       req.body.empty() &&
                       absl::StartsWith(
                           absl::StripAsciiWhitespace(req.get_header_value("Content-Range")),
                           "bytes */");
                   (query ? status : upload)(req, res);
                 },
                 kVideoBody));
  server.Get("/youtube/youtube/v3/videos", call("youtube", "videos_list", VideosList));
  server.Post("/google/token", WithFullBody(call("google", "token", GoogleToken)));
}

}  // namespace cf::sandbox
