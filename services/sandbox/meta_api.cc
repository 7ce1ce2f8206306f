#include "services/sandbox/meta_api.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/http/http_client.h"
#include "common/log/log.h"
#include "common/platforms/platforms.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

constexpr char kAccount[] = "meta";  // the token Instagram and Facebook share
constexpr char kPrefix[] = "/graph/v21.0";
// Facebook asks for the next chunk in pieces of this size (its end_offset).
constexpr int64_t kFacebookChunk = 4 * 1024 * 1024;
constexpr absl::Duration kContainerLifetime = absl::Hours(24);
// Numeric ids in ranges that look like Meta's, from the store's one counter.
constexpr int64_t kFirstContainerId = 17800000000000000;
constexpr int64_t kFirstMediaId = 17900000000000000;
constexpr int64_t kFirstFacebookVideoId = 1200000000000000;
constexpr int64_t kFirstSessionId = 3100000000000000;

void SendInternal(httplib::Response& res, const absl::Status& status) {
  Log(LogLevel::kError, "graph call failed", {{"error", std::string(status.message())}});
  SendStandardError(res, Flavor::kGraph, 500, "An unexpected error has occurred.");
}

void BadParam(httplib::Response& res, const std::string& message) {
  SendGraphError(res, 400, 100, 0, "(#100) " + message);
}

void NoSuchObject(httplib::Response& res, const std::string& id, const std::string& method) {
  SendGraphError(res, 400, 100, 33,
                 absl::StrCat("Unsupported ", method, " request. Object with ID '", id,
                              "' does not exist, cannot be loaded due to missing permissions, "
                              "or does not support this operation."));
}

// Every Graph call of an account counts against its hourly budget.
bool GraphRate(Env& env, const std::string& account, httplib::Response& res) {
  return WithinRate(env, Flavor::kGraph, "graph:" + account, 200, absl::Hours(1), res);
}

std::vector<std::string> ListParam(const httplib::Request& req, const std::string& name) {
  return absl::StrSplit(Param(req, name), ',', absl::SkipWhitespace());
}

int CountHashtags(const std::string& caption) {
  int count = 0;
  for (size_t i = 0; i + 1 < caption.size(); ++i) {
    if (caption[i] == '#' && !absl::ascii_isspace(caption[i + 1]) && caption[i + 1] != '#') {
      ++count;
    }
  }
  return count;
}

std::string VideoUrl(const httplib::Request& req, const Env& env, const std::string& platform,
                     const std::string& key) {
  return absl::StrCat(BaseUrl(req, env), "/_sandbox/videos/", platform, "/", key, ".mp4");
}

// --- Instagram ---

// A container's status_code now: EXPIRED and PUBLISHED derive from its times and media.
std::string ContainerCode(const Env& env, const Container& container) {
  if (!container.media_key.empty()) return "PUBLISHED";
  if (container.status_code != "ERROR" &&
      env.Now() - absl::FromUnixMillis(container.created_ms) > kContainerLifetime) {
    return "EXPIRED";
  }
  return container.status_code;
}

std::string ContainerStatusText(const std::string& code, const Container& container) {
  if (code == "IN_PROGRESS") return "In Progress: the video is being fetched and processed.";
  if (code == "FINISHED") return "Finished: the media is ready to be published.";
  if (code == "EXPIRED") return "Expired: the container was not published within 24 hours.";
  if (code == "PUBLISHED") return "Published: the media has been published.";
  return container.status;
}

// The background fetch of a container's video_url: FINISHED when the bytes are a readable
// video, else ERROR saying why. Cancelled at shutdown, it leaves the container IN_PROGRESS so
// the next start fetches it again.
void FetchContainer(Env& env, const std::string& id, const std::string& url,
                    const std::atomic<bool>& cancel) {
  http::Request request;
  request.url = url;
  request.timeout = absl::Seconds(env.options.media_fetch_timeout_s);
  request.follow_redirects = true;
  request.max_body_bytes = size_t{1} << 30;  // Reels are at most 1 GB
  request.cancel = &cancel;
  absl::StatusOr<http::Response> response = http::Send(request);
  if (cancel) return;
  std::string error;
  VideoCheck check;
  std::string sha;
  int64_t bytes = 0;
  const std::string path = env.store->ContainerPath(id);
  if (!response.ok()) {
    error =
        absl::StrCat("Error: the video_url could not be fetched: ", response.status().message());
  } else if (response->status != 200) {
    error = absl::StrCat("Error: the video_url answered HTTP ", response->status);
  } else {
    absl::Status written = WriteFileAtomically(path, response->body);
    if (!written.ok()) {
      error = absl::StrCat("Error: ", written.message());
    } else {
      check = CheckVideo(path);
      if (!check.readable) error = "Error: the video cannot be read: " + check.reason;
      sha = Sha256Hex(response->body);
      bytes = static_cast<int64_t>(response->body.size());
    }
  }
  auto lock = env.store->Lock();
  auto it = env.store->state().containers.find(id);
  if (it == env.store->state().containers.end()) return;
  Container& container = it->second;
  container.status_code = error.empty() ? "FINISHED" : "ERROR";
  container.status = error;
  container.video_sha256 = sha;
  container.video_bytes = bytes;
  container.duration_s = check.duration_s;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) {
    Log(LogLevel::kError, "cannot save the sandbox state",
        {{"error", std::string(saved.message())}});
  }
}

void StartFetch(Env& env, const std::string& id, const std::string& url) {
  env.tasks->Run(
      [&env, id, url](const std::atomic<bool>& cancel) { FetchContainer(env, id, url, cancel); });
}

void CreateContainer(Env& env, const std::string& user, const httplib::Request& req,
                     httplib::Response& res) {
  if (user != kInstagramUser) return NoSuchObject(res, user, "post");
  if (Param(req, "media_type") != "REELS") {
    return BadParam(res, "media_type must be REELS (the sandbox takes Reels only)");
  }
  const std::string url = Param(req, "video_url");
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return BadParam(res, "video_url must be an http or https URL");
  }
  const std::string caption = Param(req, "caption");
  if (platforms::CaptionLength(caption) > 2200) {
    return BadParam(res, "The caption is longer than 2200 characters");
  }
  if (CountHashtags(caption) > 30) return BadParam(res, "The caption has more than 30 hashtags");
  nlohmann::json params = nlohmann::json::object();
  for (const char* flag : {"share_to_feed", "is_ai_generated"}) {
    const std::string value = Param(req, flag);
    if (!value.empty() && value != "true" && value != "false") {
      return BadParam(res, absl::StrCat(flag, " must be true or false"));
    }
    params[flag] = value == "true";
  }
  params["branded_content_sponsor"] = Param(req, "branded_content_sponsor");
  Container container;
  {
    auto lock = env.store->Lock();
    State& state = env.store->state();
    container.id = std::to_string(kFirstContainerId + state.NextNumber());
    container.account = user;
    container.video_url = url;
    container.caption = caption;
    container.params = params;
    container.created_ms = env.NowMs();
    state.containers[container.id] = container;
    absl::Status saved = env.store->Save();
    if (!saved.ok()) return SendInternal(res, saved);
  }
  StartFetch(env, container.id, url);
  SendJson(res, 200, {{"id", container.id}});
}

void PublishContainer(Env& env, const std::string& user, const httplib::Request& req,
                      httplib::Response& res) {
  if (user != kInstagramUser) return NoSuchObject(res, user, "post");
  const std::string creation_id = Param(req, "creation_id");
  auto lock = env.store->Lock();
  State& state = env.store->state();
  auto it = state.containers.find(creation_id);
  if (it == state.containers.end() || it->second.account != user) {
    return BadParam(res, absl::StrCat("creation_id '", creation_id, "' is not a container"));
  }
  Container& container = it->second;
  const std::string code = ContainerCode(env, container);
  if (code == "PUBLISHED") {
    return SendGraphError(res, 400, 9007, 0, "media already published");
  }
  if (code != "FINISHED") {
    return SendGraphError(res, 400, 9007, 2207027,
                          absl::StrCat("Media ID is not available: the container is ", code));
  }
  // 50 publishes per 24 h: only a publish that goes through counts.
  std::optional<absl::Duration> wait =
      env.limiter->Take("instagram:publish:" + user, 50, absl::Hours(24), env.Now());
  if (wait.has_value()) {
    return SendStandardError(res, Flavor::kGraph, 429,
                             "Application request limit reached: 50 publishes per 24 hours", *wait);
  }
  const std::string key = std::to_string(kFirstMediaId + state.NextNumber());
  absl::StatusOr<Post*> post =
      CreatePost(env, state, "instagram", key, env.store->ContainerPath(container.id));
  if (!post.ok()) return SendInternal(res, post.status());
  (*post)->account = user;
  (*post)->caption = container.caption;
  (*post)->privacy = "PUBLIC";
  (*post)->flags = container.params;
  (*post)->container_id = container.id;
  (*post)->probed = true;  // the fetch read it
  (*post)->duration_s = container.duration_s;
  container.media_key = key;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendJson(res, 200, {{"id", key}});
}

nlohmann::json MediaJson(const Env& env, const httplib::Request& req, const Post& post,
                         const std::vector<std::string>& fields) {
  const Figures figures = FiguresOf(env, post);
  nlohmann::json media = {{"id", post.key}};
  for (const std::string& field : fields) {
    if (field == "caption") media[field] = post.caption;
    if (field == "timestamp") media[field] = FormatTime(post.created_ms);
    if (field == "permalink") media[field] = VideoUrl(req, env, "instagram", post.key);
    if (field == "media_url") media[field] = VideoUrl(req, env, "instagram", post.key);
    if (field == "media_type") media[field] = "VIDEO";
    if (field == "media_product_type") media[field] = "REELS";
    if (field == "like_count") media[field] = figures.likes;
    if (field == "comments_count") media[field] = figures.comments;
    if (field == "is_shared_to_feed") {
      media[field] = post.flags.is_object() && post.flags.value("share_to_feed", false);
    }
  }
  return media;
}

bool CheckFields(httplib::Response& res, const std::vector<std::string>& fields,
                 const std::set<std::string>& known) {
  for (const std::string& field : fields) {
    if (known.count(field) == 0) {
      BadParam(res, absl::StrCat("Tried accessing nonexisting field (", field, ")"));
      return false;
    }
  }
  return true;
}

const std::set<std::string>& MediaFields() {
  static const auto* fields = new std::set<std::string>{"id",
                                                        "caption",
                                                        "timestamp",
                                                        "permalink",
                                                        "media_url",
                                                        "media_type",
                                                        "media_product_type",
                                                        "like_count",
                                                        "comments_count",
                                                        "is_shared_to_feed"};
  return *fields;
}

void ListMedia(Env& env, const std::string& user, const httplib::Request& req,
               httplib::Response& res) {
  if (user != kInstagramUser) return NoSuchObject(res, user, "get");
  std::vector<std::string> fields = ListParam(req, "fields");
  if (!CheckFields(res, fields, MediaFields())) return;
  int limit = 25;
  if (HasParam(req, "limit") && !absl::SimpleAtoi(Param(req, "limit"), &limit)) {
    return BadParam(res, "limit must be a number");
  }
  limit = std::clamp(limit, 1, 100);
  const std::string after = Param(req, "after");
  auto lock = env.store->Lock();
  const std::vector<Post>& posts = env.store->state().posts;
  nlohmann::json data = nlohmann::json::array();
  bool skipping = !after.empty();
  bool more = false;
  std::string first;
  std::string last;
  for (auto it = posts.rbegin(); it != posts.rend(); ++it) {  // newest first
    if (it->platform != "instagram" || it->account != user) continue;
    if (skipping) {
      skipping = it->key != after;
      continue;
    }
    if (static_cast<int>(data.size()) == limit) {
      more = true;
      break;
    }
    if (first.empty()) first = it->key;
    last = it->key;
    data.push_back(MediaJson(env, req, *it, fields));
  }
  nlohmann::json paging = nlohmann::json::object();
  if (!data.empty()) {
    paging["cursors"] = {{"before", first}, {"after", last}};
    if (more) {
      paging["next"] =
          absl::StrCat(BaseUrl(req, env), kPrefix, "/", user,
                       "/media?fields=", Param(req, "fields"), "&limit=", limit, "&after=", last);
    }
  }
  SendJson(res, 200, {{"data", data}, {"paging", paging}});
}

void Insights(Env& env, const std::string& id, const httplib::Request& req,
              httplib::Response& res) {
  std::vector<std::string> metrics = ListParam(req, "metric");
  if (metrics.empty()) return BadParam(res, "The metric parameter is required");
  auto lock = env.store->Lock();
  const Post* post = env.store->state().FindPost("instagram", id);
  if (post == nullptr) return NoSuchObject(res, id, "get");
  const Figures figures = FiguresOf(env, *post);
  nlohmann::json data = nlohmann::json::array();
  for (const std::string& metric : metrics) {
    int64_t value = 0;
    if (metric == "views") {
      value = figures.views;
    } else if (metric == "likes") {
      value = figures.likes;
    } else if (metric == "comments") {
      value = figures.comments;
    } else if (metric == "shares") {
      value = figures.shares;
    } else if (metric == "saved") {
      value = figures.saves;
    } else if (metric == "reach") {
      value = figures.reach;
    } else if (metric == "total_interactions") {
      value = figures.likes + figures.comments + figures.shares + figures.saves;
    } else {
      return BadParam(res, absl::StrCat("metric[", data.size(),
                                        "] must be one of views, likes, "
                                        "comments, shares, saved, reach, total_interactions (",
                                        metric, " is not supported)"));
    }
    data.push_back({{"name", metric},
                    {"period", "lifetime"},
                    {"values", {{{"value", value}}}},
                    {"id", absl::StrCat(id, "/insights/", metric, "/lifetime")}});
  }
  SendJson(res, 200, {{"data", data}});
}

// --- Facebook ---

nlohmann::json NextRange(const Upload& upload) {
  return {{"start_offset", std::to_string(upload.received_bytes)},
          {"end_offset",
           std::to_string(std::min(upload.total_bytes, upload.received_bytes + kFacebookChunk))}};
}

Upload* FindSession(State& state, const std::string& id, const std::string& page) {
  auto it = state.uploads.find(id);
  if (it == state.uploads.end() || it->second.platform != "facebook" ||
      it->second.account != page) {
    return nullptr;
  }
  return &it->second;
}

void StartUpload(Env& env, const std::string& page, const httplib::Request& req,
                 httplib::Response& res) {
  int64_t size = 0;
  if (!absl::SimpleAtoi(Param(req, "file_size"), &size) || size <= 0) {
    return BadParam(res, "file_size must be a number of bytes > 0");
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  Upload upload;
  upload.platform = "facebook";
  upload.post_key = std::to_string(kFirstFacebookVideoId + state.NextNumber());
  upload.id = std::to_string(kFirstSessionId + state.NextNumber());
  upload.account = page;
  upload.total_bytes = size;
  upload.created_ms = env.NowMs();
  state.uploads[upload.id] = upload;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  nlohmann::json answer = NextRange(upload);
  answer["video_id"] = upload.post_key;
  answer["upload_session_id"] = upload.id;
  SendJson(res, 200, answer);
}

void TransferChunk(Env& env, const std::string& page, const httplib::Request& req,
                   httplib::Response& res) {
  int64_t offset = 0;
  if (!absl::SimpleAtoi(Param(req, "start_offset"), &offset) || offset < 0) {
    return BadParam(res, "start_offset must be a number of bytes");
  }
  const std::string chunk = Param(req, "video_file_chunk");
  if (chunk.empty()) return BadParam(res, "video_file_chunk is required");
  auto lock = env.store->Lock();
  State& state = env.store->state();
  Upload* upload = FindSession(state, Param(req, "upload_session_id"), page);
  if (upload == nullptr) return BadParam(res, "upload_session_id is not an upload session");
  const int64_t end = offset + static_cast<int64_t>(chunk.size());
  if (end > upload->total_bytes) {
    return BadParam(res, absl::StrCat("The chunk ends at byte ", end, ", past file_size ",
                                      upload->total_bytes));
  }
  if (end <= upload->received_bytes) return SendJson(res, 200, NextRange(*upload));  // again
  if (offset != upload->received_bytes) {
    const nlohmann::json range = NextRange(*upload);
    return SendGraphError(res, 400, 6001, 1363037,
                          absl::StrCat("The chunk is at the wrong offset: expected start_offset ",
                                       range["start_offset"].get<std::string>(), " and end_offset ",
                                       range["end_offset"].get<std::string>()));
  }
  absl::Status written = WriteAt(env.store->PartPath(upload->id), offset, chunk);
  if (!written.ok()) return SendInternal(res, written);
  upload->received_bytes = end;
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendJson(res, 200, NextRange(*upload));
}

void FinishUpload(Env& env, const std::string& page, const httplib::Request& req,
                  httplib::Response& res) {
  std::string key;
  {
    auto lock = env.store->Lock();
    State& state = env.store->state();
    Upload* upload = FindSession(state, Param(req, "upload_session_id"), page);
    if (upload == nullptr) return BadParam(res, "upload_session_id is not an upload session");
    if (upload->completed_ms != 0) {
      return SendGraphError(res, 400, 6000, 0, "upload session already finished");
    }
    if (upload->received_bytes < upload->total_bytes) {
      return SendGraphError(res, 400, 6001, 0,
                            absl::StrCat("The upload is incomplete: ", upload->received_bytes,
                                         " of ", upload->total_bytes, " bytes received"));
    }
    key = upload->post_key;
    absl::StatusOr<Post*> post =
        CreatePost(env, state, "facebook", key, env.store->PartPath(upload->id));
    if (!post.ok()) return SendInternal(res, post.status());
    (*post)->account = page;
    (*post)->caption = Param(req, "description");
    (*post)->title = Param(req, "title");
    (*post)->privacy = "EVERYONE";
    (*post)->flags = {{"sponsor_id", Param(req, "sponsor_id")}};
    upload->completed_ms = env.NowMs();
    absl::Status saved = env.store->Save();
    if (!saved.ok()) return SendInternal(res, saved);
  }
  ProbePost(env, "facebook", key);
  SendJson(res, 200, {{"success", true}});
}

void FacebookVideos(Env& env, const std::string& page, const std::string& phase,
                    const httplib::Request& req, httplib::Response& res) {
  if (page != kFacebookPage) return NoSuchObject(res, page, "post");
  if (phase == "start") return StartUpload(env, page, req, res);
  if (phase == "transfer") return TransferChunk(env, page, req, res);
  if (phase == "finish") return FinishUpload(env, page, req, res);
  BadParam(res,
           "upload_phase must be start, transfer or finish (the sandbox takes resumable "
           "uploads only)");
}

void FacebookVideo(Env& env, const std::string& id, const httplib::Request& req,
                   httplib::Response& res) {
  std::vector<std::string> fields = ListParam(req, "fields");
  if (!CheckFields(res, fields,
                   {"id", "status", "permalink_url", "published", "description", "title",
                    "created_time", "length"})) {
    return;
  }
  auto lock = env.store->Lock();
  State& state = env.store->state();
  const Upload* upload = nullptr;
  for (const auto& [session, candidate] : state.uploads) {
    if (candidate.platform == "facebook" && candidate.post_key == id) upload = &candidate;
  }
  if (upload == nullptr) return NoSuchObject(res, id, "get");
  const Post* post = state.FindPost("facebook", id);
  std::string video_status = "upload_incomplete";
  std::string processing = "not_started";
  if (post != nullptr) {
    switch (ProcessingOf(env, *post)) {
      case Processing::kProcessing:
        video_status = "processing", processing = "in_progress";
        break;
      case Processing::kReady:
        video_status = "ready", processing = "complete";
        break;
      case Processing::kFailed:
        video_status = "error", processing = "error";
        break;
    }
  }
  const bool published = video_status == "ready";
  nlohmann::json video = {{"id", id}};
  for (const std::string& field : fields) {
    if (field == "status") {
      video[field] = {
          {"video_status", video_status},
          {"uploading_phase",
           {{"status", upload->received_bytes == upload->total_bytes ? "complete" : "in_progress"},
            {"bytes_transferred", upload->received_bytes}}},
          {"processing_phase", {{"status", processing}}},
          {"publishing_phase",
           {{"status", published ? "complete" : "not_started"},
            {"publish_status", published ? "published" : "not_published"}}}};
    }
    if (field == "permalink_url") video[field] = VideoUrl(req, env, "facebook", id);
    if (field == "published") video[field] = published;
    if (field == "description") video[field] = post != nullptr ? post->caption : "";
    if (field == "title") video[field] = post != nullptr ? post->title : "";
    if (field == "created_time") video[field] = FormatTime(upload->created_ms);
    if (field == "length") video[field] = post != nullptr ? post->duration_s : 0.0;
  }
  SendJson(res, 200, video);
}

void VideoInsights(Env& env, const std::string& id, const httplib::Request& req,
                   httplib::Response& res) {
  std::vector<std::string> metrics = ListParam(req, "metric");
  if (metrics.empty()) {
    metrics = {"total_video_views", "total_video_reactions_by_type_total",
               "total_video_stories_by_action_type"};
  }
  auto lock = env.store->Lock();
  const Post* post = env.store->state().FindPost("facebook", id);
  if (post == nullptr) return NoSuchObject(res, id, "get");
  const Figures figures = FiguresOf(env, *post);
  nlohmann::json data = nlohmann::json::array();
  for (const std::string& metric : metrics) {
    nlohmann::json value;
    if (metric == "total_video_views" || metric == "total_video_impressions") {
      value = figures.views;
    } else if (metric == "total_video_views_unique" || metric == "total_video_impressions_unique") {
      value = figures.reach;
    } else if (metric == "total_video_reactions_by_type_total") {
      value = {{"like", figures.likes}};
    } else if (metric == "total_video_stories_by_action_type") {
      value = {{"like", figures.likes}, {"comment", figures.comments}, {"share", figures.shares}};
    } else {
      return BadParam(res, absl::StrCat("metric ", metric, " is not supported"));
    }
    data.push_back({{"name", metric},
                    {"period", "lifetime"},
                    {"values", {{{"value", value}}}},
                    {"id", absl::StrCat(id, "/video_insights/", metric, "/lifetime")}});
  }
  SendJson(res, 200, {{"data", data}});
}

// --- Token exchange ---

void Exchange(Env& env, const httplib::Request& req, httplib::Response& res) {
  if (Param(req, "grant_type") != "fb_exchange_token") {
    return BadParam(res, "grant_type must be fb_exchange_token");
  }
  if (Param(req, "client_id") != "sandbox-app" || Param(req, "client_secret") != "sandbox-secret") {
    return SendGraphError(res, 400, 101, 0,
                          "Error validating application. Invalid application ID.");
  }
  const std::string old = Param(req, "fb_exchange_token");
  auto lock = env.store->Lock();
  State& state = env.store->state();
  TokenAccount& tokens = state.Tokens(kAccount);
  auto known = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), old) != list.end();
  };
  if (old.empty() || (!known(tokens.valid) && !known(tokens.expired))) {
    return SendGraphError(res, 400, 190, 0,
                          "Invalid OAuth access token - Cannot parse access token");
  }
  if (tokens.refresh_revoked) {
    return SendGraphError(
        res, 400, 190, 458,
        "Error validating access token: The user has not authorized application.");
  }
  // As Meta: only a live token is exchanged. One that has expired needs the user to sign in.
  if (!TokenLive(tokens, old, env.NowMs())) {
    return SendGraphError(res, 400, 190, 463,
                          "Error validating access token: Session has expired.");
  }
  // A long-lived token: 60 sandbox days.
  const int64_t lifetime_ms = static_cast<int64_t>(60 * env.options.day_seconds * 1000);
  const std::string token = IssueToken(state, kAccount, env.NowMs() + lifetime_ms);
  absl::Status saved = env.store->Save();
  if (!saved.ok()) return SendInternal(res, saved);
  SendJson(res, 200,
           {{"access_token", token},
            {"token_type", "bearer"},
            {"expires_in", std::max<int64_t>(1, lifetime_ms / 1000)}});
}

// Runs a Graph call for `platform` and `operation`: fault, token, the account's hourly budget.
void GraphCall(Env& env, const std::string& platform, const std::string& operation,
               const httplib::Request& req, httplib::Response& res, const Handler& handler) {
  RunCall(env, Flavor::kGraph, platform, operation, req, res,
          [&](const httplib::Request& r, httplib::Response& s) {
            if (!Authorize(env, Flavor::kGraph, kAccount, r, s)) return;
            const std::string account = platform == "instagram" ? kInstagramUser : kFacebookPage;
            if (!GraphRate(env, account, s)) return;
            handler(r, s);
          });
}

}  // namespace

void ResumeInstagramFetches(Env& env) {
  std::vector<std::pair<std::string, std::string>> pending;
  {
    auto lock = env.store->Lock();
    for (const auto& [id, container] : env.store->state().containers) {
      if (container.status_code == "IN_PROGRESS" && container.media_key.empty()) {
        pending.emplace_back(id, container.video_url);
      }
    }
  }
  for (const auto& [id, url] : pending) StartFetch(env, id, url);
}

void RegisterMeta(httplib::Server& server, Env& env) {
  const std::string prefix = R"(/graph/v21\.0)";
  auto exchange = [&env](const httplib::Request& req, httplib::Response& res) {
    RunCall(env, Flavor::kGraph, "meta", "token", req, res,
            [&](const httplib::Request& r, httplib::Response& s) { Exchange(env, r, s); });
  };
  server.Get(prefix + "/oauth/access_token", exchange);
  server.Post(prefix + "/oauth/access_token", WithFullBody(exchange));

  server.Post(prefix + R"(/(\d+)/media)",
              WithFullBody([&env](const httplib::Request& req, httplib::Response& res) {
                const std::string user = req.matches[1];
                GraphCall(env, "instagram", "create_container", req, res,
                          [&](const httplib::Request& r, httplib::Response& s) {
                            CreateContainer(env, user, r, s);
                          });
              }));
  server.Post(prefix + R"(/(\d+)/media_publish)",
              WithFullBody([&env](const httplib::Request& req, httplib::Response& res) {
                const std::string user = req.matches[1];
                GraphCall(env, "instagram", "publish", req, res,
                          [&](const httplib::Request& r, httplib::Response& s) {
                            PublishContainer(env, user, r, s);
                          });
              }));
  server.Post(prefix + R"(/(\d+)/videos)",
              WithFullBody(
                  [&env](const httplib::Request& req, httplib::Response& res) {
                    const std::string page = req.matches[1];
                    const std::string phase = Param(req, "upload_phase");
                    const std::string operation =
                        phase == "transfer" || phase == "finish" ? phase : "start";
                    GraphCall(env, "facebook", operation, req, res,
                              [&](const httplib::Request& r, httplib::Response& s) {
                                FacebookVideos(env, page, phase, r, s);
                              });
                  },
                  kVideoBody));
  server.Get(prefix + R"(/(\d+)/media)", [&env](const httplib::Request& req,
                                                httplib::Response& res) {
    const std::string user = req.matches[1];
    GraphCall(env, "instagram", "list_media", req, res,
              [&](const httplib::Request& r, httplib::Response& s) { ListMedia(env, user, r, s); });
  });
  server.Get(prefix + R"(/(\d+)/insights)", [&env](const httplib::Request& req,
                                                   httplib::Response& res) {
    const std::string id = req.matches[1];
    GraphCall(env, "instagram", "insights", req, res,
              [&](const httplib::Request& r, httplib::Response& s) { Insights(env, id, r, s); });
  });
  server.Get(prefix + R"(/(\d+)/video_insights)",
             [&env](const httplib::Request& req, httplib::Response& res) {
               const std::string id = req.matches[1];
               GraphCall(env, "facebook", "insights", req, res,
                         [&](const httplib::Request& r, httplib::Response& s) {
                           VideoInsights(env, id, r, s);
                         });
             });
  server.Get(prefix + R"(/(\d+))", [&env](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    // Which object the id names decides the operation (and so the fault rules that apply).
    enum { kUnknown, kContainer, kMedia, kFacebookVideo } kind = kUnknown;
    {
      auto lock = env.store->Lock();
      State& state = env.store->state();
      if (state.containers.count(id) > 0) {
        kind = kContainer;
      } else if (state.FindPost("instagram", id) != nullptr) {
        kind = kMedia;
      } else {
        for (const auto& [session, upload] : state.uploads) {
          if (upload.platform == "facebook" && upload.post_key == id) kind = kFacebookVideo;
        }
      }
    }
    if (kind == kFacebookVideo) {
      return GraphCall(
          env, "facebook", "video_status", req, res,
          [&](const httplib::Request& r, httplib::Response& s) { FacebookVideo(env, id, r, s); });
    }
    GraphCall(env, "instagram", kind == kMedia ? "list_media" : "container_status", req, res,
              [&](const httplib::Request& r, httplib::Response& s) {
                if (kind == kUnknown) return NoSuchObject(s, id, "get");
                std::vector<std::string> fields = ListParam(r, "fields");
                if (kind == kMedia) {
                  if (!CheckFields(s, fields, MediaFields())) return;
                  auto lock = env.store->Lock();
                  const Post* post = env.store->state().FindPost("instagram", id);
                  if (post == nullptr) return NoSuchObject(s, id, "get");
                  return SendJson(s, 200, MediaJson(env, r, *post, fields));
                }
                if (!CheckFields(s, fields, {"id", "status_code", "status", "video_url"})) return;
                auto lock = env.store->Lock();
                const Container& container = env.store->state().containers.at(id);
                const std::string code = ContainerCode(env, container);
                nlohmann::json answer = {{"id", id}};
                for (const std::string& field : fields) {
                  if (field == "status_code") answer[field] = code;
                  if (field == "status") answer[field] = ContainerStatusText(code, container);
                  if (field == "video_url") answer[field] = container.video_url;
                }
                SendJson(s, 200, answer);
              });
  });
}

}  // namespace cf::sandbox
