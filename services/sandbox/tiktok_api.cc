#include "services/sandbox/tiktok_api.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"
#include "common/platforms/platforms.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

constexpr char kAccount[] = "tiktok";
constexpr int64_t kMB = 1024 * 1024;
// An init not uploaded within this time fails with upload_expired.
constexpr absl::Duration kUploadLifetime = absl::Hours(1);
// 19-digit video ids, below 2^63 so they fit an int64 (publicaly_available_post_id is one).
constexpr int64_t kFirstVideoId = 7300000000000000000;

const std::vector<std::string>& AllPrivacyLevels() {
  static const auto* levels = new std::vector<std::string>{
      "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"};
  return *levels;
}

std::vector<std::string> PrivacyOptions(const Env& env) {
  if (env.options.tiktok_audited) return AllPrivacyLevels();
  return {"SELF_ONLY"};
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void SendInternal(httplib::Response& res, const absl::Status& status) {
  Log(LogLevel::kError, "tiktok call failed", {{"error", std::string(status.message())}});
  SendStandardError(res, Flavor::kTikTok, 500, "internal error");
}

void CreatorInfo(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(env, Flavor::kTikTok, kAccount, req, res)) return;
  if (!WithinRate(env, Flavor::kTikTok, "tiktok:creator_info", 20, absl::Minutes(1), res)) return;
  SendTikTokData(res, {{"creator_avatar_url", ""},
                       {"creator_username", "sandbox_creator"},
                       {"creator_nickname", "Sandbox Creator"},
                       {"privacy_level_options", PrivacyOptions(env)},
                       {"comment_disabled", false},
                       {"duet_disabled", false},
                       {"stitch_disabled", false},
                       {"max_video_post_duration_sec", kTikTokMaxSeconds}});
}

void Init(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(env, Flavor::kTikTok, kAccount, req, res)) return;
  if (!WithinRate(env, Flavor::kTikTok, "tiktok:init", 6, absl::Minutes(1), res)) return;
  auto bad = [&](const std::string& message) {
    SendTikTokError(res, 400, "invalid_params", message);
  };
  std::optional<nlohmann::json> body = JsonObjectBody(req);
  if (!body.has_value()) return bad("The request body is not a JSON object");
  auto post_info = body->find("post_info");
  auto source_info = body->find("source_info");
  if (post_info == body->end() || !post_info->is_object()) return bad("post_info is required");
  if (source_info == body->end() || !source_info->is_object()) {
    return bad("source_info is required");
  }
  const std::string source = TextAt(*source_info, "source");
  if (source != "FILE_UPLOAD") {
    return bad(source == "PULL_FROM_URL"
                   ? "The sandbox takes source FILE_UPLOAD only (PULL_FROM_URL is not supported)"
                   : "source_info.source must be FILE_UPLOAD");
  }
  const std::string privacy = TextAt(*post_info, "privacy_level");
  if (!Contains(PrivacyOptions(env), privacy)) {
    if (!env.options.tiktok_audited && Contains(AllPrivacyLevels(), privacy)) {
      SendTikTokError(res, 403, "unaudited_client_can_only_post_to_private_accounts",
                      "An unaudited client can only post with privacy_level SELF_ONLY");
      return;
    }
    return bad(absl::StrCat("privacy_level '", privacy, "' is not among the creator's options"));
  }
  if (post_info->contains("title") && !(*post_info)["title"].is_string()) {
    return bad("post_info.title must be a string");
  }
  const std::string title = TextAt(*post_info, "title");
  if (platforms::CaptionLength(title) > 2200) {
    return bad("post_info.title is longer than 2200 UTF-16 code units");
  }
  for (const char* flag : {"disable_duet", "disable_comment", "disable_stitch", "is_aigc",
                           "brand_content_toggle", "brand_organic_toggle"}) {
    if (post_info->contains(flag) && !(*post_info)[flag].is_boolean()) {
      return bad(absl::StrCat("post_info.", flag, " must be a boolean"));
    }
  }
  // TikTok's content sharing guidelines: branded content cannot be private.
  auto branded = post_info->find("brand_content_toggle");
  if (branded != post_info->end() && branded->is_boolean() && branded->get<bool>() &&
      privacy == "SELF_ONLY") {
    return bad(
        "branded content (brand_content_toggle) cannot be posted with privacy_level "
        "SELF_ONLY");
  }
  std::optional<int64_t> video_size = IntAt(*source_info, "video_size");
  std::optional<int64_t> chunk_size = IntAt(*source_info, "chunk_size");
  std::optional<int64_t> chunk_count = IntAt(*source_info, "total_chunk_count");
  if (!video_size || !chunk_size || !chunk_count) {
    return bad("source_info needs integer video_size, chunk_size and total_chunk_count");
  }
  absl::Status chunks = CheckChunks(*video_size, *chunk_size, *chunk_count);
  if (!chunks.ok()) return bad(std::string(chunks.message()));

  auto lock = env.store->Lock();
  State& state = env.store->state();
  const int64_t number = state.NextNumber();
  Upload upload;
  upload.platform = kAccount;
  upload.id = absl::StrCat("tt", number);
  upload.publish_id = absl::StrCat("v_pub_file~v2-1.", number);
  upload.account = kAccount;
  upload.total_bytes = *video_size;
  upload.chunk_size = *chunk_size;
  upload.chunk_count = *chunk_count;
  upload.created_ms = env.NowMs();
  upload.request = *post_info;
  state.uploads[upload.id] = upload;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendTikTokData(res, {{"publish_id", upload.publish_id},
                       {"upload_url", BaseUrl(req, env) + "/tiktok/upload/" + upload.id}});
}

void UploadChunk(Env& env, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  std::optional<ContentRange> range = ParseContentRange(req.get_header_value("Content-Range"));
  if (!range.has_value() || !range->has_range) {
    return SendTikTokError(res, 400, "invalid_params",
                           "Content-Range must be bytes FIRST-LAST/TOTAL");
  }
  std::string completed_key;
  {
    auto lock = env.store->Lock();
    State& state = env.store->state();
    auto it = state.uploads.find(id);
    if (it == state.uploads.end() || it->second.platform != kAccount) {
      return SendTikTokError(res, 404, "invalid_params", "No such upload");
    }
    Upload& upload = it->second;
    if (upload.completed_ms == 0 &&
        env.Now() - absl::FromUnixMillis(upload.created_ms) > kUploadLifetime) {
      return SendTikTokError(res, 404, "invalid_params", "The upload URL has expired");
    }
    if (range->total != upload.total_bytes) {
      return SendTikTokError(res, 400, "invalid_params",
                             absl::StrCat("Content-Range total ", range->total,
                                          " is not the video_size ", upload.total_bytes));
    }
    if (static_cast<int64_t>(req.body.size()) != range->last - range->first + 1) {
      return SendTikTokError(res, 400, "invalid_params",
                             "The body's length does not match Content-Range");
    }
    const bool last_chunk = range->last == upload.total_bytes - 1;
    if (range->last < upload.received_bytes) {
      // Received before (its answer was lost): answered again, stored once.
      res.status = last_chunk ? 201 : 206;
      return;
    }
    if (range->first != upload.received_bytes) {
      res.set_header("Content-Range", absl::StrCat("bytes */", upload.total_bytes));
      return SendTikTokError(res, 416, "invalid_params",
                             absl::StrCat("Chunks are sequential: send the chunk starting at byte ",
                                          upload.received_bytes));
    }
    const int64_t index = range->first / upload.chunk_size;
    const int64_t expected_last = index == upload.chunk_count - 1
                                      ? upload.total_bytes - 1
                                      : (index + 1) * upload.chunk_size - 1;
    if (range->last != expected_last) {
      return SendTikTokError(res, 400, "invalid_params",
                             absl::StrCat("Chunk ", index + 1, " of ", upload.chunk_count,
                                          " must be bytes ", range->first, "-", expected_last));
    }
    absl::Status written = WriteAt(env.store->PartPath(id), range->first, req.body);
    if (!written.ok()) return SendInternal(res, written);
    upload.received_bytes = range->last + 1;
    if (upload.received_bytes == upload.total_bytes) {
      const std::string key = std::to_string(kFirstVideoId + state.NextNumber());
      absl::StatusOr<Post*> post = CreatePost(env, state, kAccount, key, env.store->PartPath(id));
      if (!post.ok()) return SendInternal(res, post.status());
      (*post)->account = upload.account;
      (*post)->caption = TextAt(upload.request, "title");
      (*post)->privacy = TextAt(upload.request, "privacy_level");
      (*post)->publish_id = upload.publish_id;
      for (const char* flag : {"is_aigc", "brand_content_toggle", "brand_organic_toggle",
                               "disable_duet", "disable_comment", "disable_stitch"}) {
        (*post)->flags[flag] = BoolAt(upload.request, flag).value_or(false);
      }
      upload.post_key = key;
      upload.completed_ms = env.NowMs();
      completed_key = key;
    }
    absl::Status saved = env.store->Save();
    if (!saved.ok()) return SendInternal(res, saved);
    res.status = last_chunk ? 201 : 206;
  }
  // Processing starts now: ffprobe's verdict decides PUBLISH_COMPLETE or FAILED.
  if (!completed_key.empty()) {
    ProbePost(env, kAccount, completed_key, kTikTokMaxSeconds, "duration_check_failed");
  }
}

void StatusFetch(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(env, Flavor::kTikTok, kAccount, req, res)) return;
  if (!WithinRate(env, Flavor::kTikTok, "tiktok:status", 30, absl::Minutes(1), res)) return;
  std::optional<nlohmann::json> body = JsonObjectBody(req);
  const std::string publish_id = body.has_value() ? TextAt(*body, "publish_id") : "";
  if (publish_id.empty()) {
    return SendTikTokError(res, 400, "invalid_params", "publish_id is required");
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  const Upload* upload = nullptr;
  for (const auto& [id, candidate] : state.uploads) {
    if (candidate.platform == kAccount && candidate.publish_id == publish_id) upload = &candidate;
  }
  if (upload == nullptr) {
    return SendTikTokError(res, 400, "invalid_publish_id", "No such publish_id");
  }
  nlohmann::json data = {{"uploaded_bytes", upload->received_bytes},
                         {"publicaly_available_post_id", nlohmann::json::array()}};
  const Post* post =
      upload->completed_ms != 0 ? state.FindPost(kAccount, upload->post_key) : nullptr;
  if (post == nullptr) {
    if (env.Now() - absl::FromUnixMillis(upload->created_ms) > kUploadLifetime) {
      data["status"] = "FAILED";
      data["fail_reason"] = "upload_expired";
    } else {
      data["status"] = "PROCESSING_UPLOAD";
    }
  } else {
    switch (ProcessingOf(env, *post)) {
      case Processing::kProcessing:
        data["status"] = "PROCESSING_DOWNLOAD";
        break;
      case Processing::kFailed:
        data["status"] = "FAILED";
        data["fail_reason"] = post->fail_reason;
        break;
      case Processing::kReady:
        data["status"] = "PUBLISH_COMPLETE";
        // A JSON number, as TikTok sends it (19 digits fit an int64).
        int64_t id = 0;
        if (!VisiblePostId(env, *post).empty() && absl::SimpleAtoi(post->key, &id)) {
          data["publicaly_available_post_id"].push_back(id);
        }
        break;
    }
  }
  SendTikTokData(res, data);
}

void VideoQuery(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(env, Flavor::kTikTok, kAccount, req, res)) return;
  auto bad = [&](const std::string& message) {
    SendTikTokError(res, 400, "invalid_params", message);
  };
  static const std::set<std::string> kFields = {
      "id",         "create_time",   "title",       "duration", "view_count",
      "like_count", "comment_count", "share_count", "share_url"};
  std::vector<std::string> fields =
      absl::StrSplit(Param(req, "fields"), ',', absl::SkipWhitespace());
  if (fields.empty()) return bad("fields is required");
  for (const std::string& field : fields) {
    if (kFields.count(field) == 0) return bad(absl::StrCat("Unknown field '", field, "'"));
  }
  std::optional<nlohmann::json> body = JsonObjectBody(req);
  const nlohmann::json* ids = nullptr;
  if (body.has_value() && body->contains("filters") && (*body)["filters"].is_object() &&
      (*body)["filters"].contains("video_ids")) {
    ids = &(*body)["filters"]["video_ids"];
  }
  if (ids == nullptr || !ids->is_array() || ids->empty() || ids->size() > 20) {
    return bad("filters.video_ids must list 1 to 20 video ids");
  }
  nlohmann::json videos = nlohmann::json::array();
  auto lock = env.store->Lock();
  State& state = env.store->state();
  for (const nlohmann::json& id : *ids) {
    std::string key = id.is_string()           ? id.get<std::string>()
                      : id.is_number_integer() ? std::to_string(id.get<int64_t>())
                                               : "";
    const Post* post = state.FindPost(kAccount, key);
    if (post == nullptr || VisiblePostId(env, *post).empty()) continue;
    const Figures figures = FiguresOf(env, *post);
    nlohmann::json video;
    for (const std::string& field : fields) {
      if (field == "id") video["id"] = post->key;
      if (field == "create_time") video["create_time"] = post->created_ms / 1000;
      if (field == "title") video["title"] = post->caption;
      if (field == "duration") video["duration"] = static_cast<int64_t>(post->duration_s + 0.5);
      if (field == "view_count") video["view_count"] = figures.views;
      if (field == "like_count") video["like_count"] = figures.likes;
      if (field == "comment_count") video["comment_count"] = figures.comments;
      if (field == "share_count") video["share_count"] = figures.shares;
      if (field == "share_url") {
        video["share_url"] = BaseUrl(req, env) + "/_sandbox/videos/tiktok/" + post->key + ".mp4";
      }
    }
    video["id"] = post->key;
    videos.push_back(video);
  }
  SendTikTokData(res, {{"videos", videos}, {"cursor", 0}, {"has_more", false}});
}

void Token(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (Param(req, "client_key") != "sandbox-client" ||
      Param(req, "client_secret") != "sandbox-secret") {
    return SendOAuthError(res, 401, "invalid_client", "Client key or secret is invalid");
  }
  if (Param(req, "grant_type") != "refresh_token") {
    return SendOAuthError(res, 400, "unsupported_grant_type", "grant_type must be refresh_token");
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  TokenAccount& tokens = state.Tokens(kAccount);
  const std::string used = Param(req, "refresh_token");
  const bool current = !used.empty() && used == tokens.refresh_current;
  const bool previous = !used.empty() && used == tokens.refresh_previous;
  if ((!current && !previous) || tokens.refresh_revoked) {
    return SendOAuthError(res, 400, "invalid_grant", "Refresh token is invalid or expired");
  }
  // TikTok rotates the refresh token: each refresh issues a new one. The one used stays good
  // until the new one has been used once, so a client whose answer was lost can ask again.
  if (current) tokens.refresh_previous = used;
  tokens.refresh_current = absl::StrCat("sbx-tiktok-refresh-", ++tokens.refreshes_issued);
  const std::string token = IssueToken(state, kAccount);
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendJson(res, 200,
           {{"access_token", token},
            {"expires_in", 86400},
            {"open_id", "sandbox-open-id"},
            {"refresh_token", tokens.refresh_current},
            {"refresh_expires_in", 31536000},
            {"scope", "user.info.basic,video.publish,video.upload,video.list"},
            {"token_type", "Bearer"}});
}

}  // namespace

absl::Status CheckChunks(int64_t video_size, int64_t chunk_size, int64_t chunk_count) {
  if (video_size <= 0) return absl::InvalidArgumentError("video_size must be > 0");
  if (video_size < 5 * kMB) {
    if (chunk_size != video_size || chunk_count != 1) {
      return absl::InvalidArgumentError(
          "A video under 5 MB is uploaded whole: chunk_size = video_size, total_chunk_count = 1");
    }
    return absl::OkStatus();
  }
  if (chunk_size < 5 * kMB || chunk_size > 64 * kMB) {
    return absl::InvalidArgumentError("chunk_size must be from 5 MB to 64 MB");
  }
  if (chunk_count != video_size / chunk_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("total_chunk_count must be video_size / chunk_size rounded down: ",
                     video_size / chunk_size));
  }
  if (chunk_count < 1 || chunk_count > 1000) {
    return absl::InvalidArgumentError("total_chunk_count must be from 1 to 1000");
  }
  if (video_size - (chunk_count - 1) * chunk_size > 128 * kMB) {
    return absl::InvalidArgumentError("the last chunk would be larger than 128 MB");
  }
  return absl::OkStatus();
}

void RegisterTikTok(httplib::Server& server, Env& env) {
  auto route = [&env](const std::string& operation,
                      void (*handler)(Env&, const httplib::Request&, httplib::Response&)) {
    return [&env, operation, handler](const httplib::Request& req, httplib::Response& res) {
      RunCall(env, Flavor::kTikTok, kAccount, operation, req, res,
              [&](const httplib::Request& r, httplib::Response& s) { handler(env, r, s); });
    };
  };
  server.Post(R"(/tiktok/v2/post/publish/creator_info/query/?)",
              WithFullBody(route("creator_info", CreatorInfo)));
  server.Post(R"(/tiktok/v2/post/publish/video/init/?)", WithFullBody(route("init", Init)));
  server.Put(R"(/tiktok/upload/([A-Za-z0-9_-]+))",
             WithFullBody(route("upload", UploadChunk), kVideoBody));
  server.Post(R"(/tiktok/v2/post/publish/status/fetch/?)",
              WithFullBody(route("status", StatusFetch)));
  server.Post(R"(/tiktok/v2/video/query/?)", WithFullBody(route("video_query", VideoQuery)));
  server.Post(R"(/tiktok/v2/oauth/token/?)", WithFullBody(route("token", Token)));
}

}  // namespace cf::sandbox
