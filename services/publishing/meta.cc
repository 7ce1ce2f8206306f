#include "services/publishing/meta.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status/status.h"

namespace cf::publishing {
namespace {

constexpr char kCodePayload[] = "type.cf/meta.error_code";

// Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling).
// Instagram's subcodes: developers.facebook.com/docs/instagram-platform/instagram-graph-api/
// reference/error-codes.
constexpr int kTokenExpired = 190;
constexpr int kParameter = 100;
constexpr int kAlreadyPublished = 9007;
constexpr int kMediaNotReady = 2207027;       // with 9007: poll again in 30 s to 2 min
constexpr int kSpamRestricted = 2207051;      // with 4: a refusal, not a rate limit
constexpr int kMediaExpired = 2207020;        // with -2: make a new container
constexpr int kUnknownUploadError = 2207053;  // with -1: make a new container
constexpr int kSessionFinished = 6000;
constexpr int kWrongOffset = 6001;
// Pages of 50 of the account's media read back to find a post by caption.
constexpr int kMediaPages = 20;

bool IsRateLimit(int code) { return code == 4 || code == 17 || code == 32 || code == 613; }
bool IsServerError(int code) { return code == -1 || code == -2 || code == 1 || code == 2; }

// Keeps Meta's code and subcode with the status ("9007:0"): 9007 with subcode 2207027 ("not
// ready") is not 9007 alone ("already published").
absl::Status WithCode(absl::Status status, int64_t code, int64_t subcode) {
  status.SetPayload(kCodePayload, absl::Cord(absl::StrCat(code, ":", subcode)));
  return status;
}

// An integer field of Meta's error, 0 when absent (Meta's codes include -1 and -2).
int64_t ErrorField(const nlohmann::json& error, const char* key) {
  auto it = error.is_object() ? error.find(key) : error.end();
  return it != error.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

absl::Status StatusOfGraphError(const http::Response& response) {
  const nlohmann::json body = JsonOf(response.body);
  const nlohmann::json& error = ObjectAt(body, "error");
  const int64_t code = ErrorField(error, "code");
  const std::string message = TextAt(error, "message");
  const std::string said =
      absl::StrCat(" (Meta: ", code != 0 ? absl::StrCat("code ", code, ": ") : "",
                   message.empty() ? Answered(response) : message, ")");
  const int64_t subcode = ErrorField(error, "error_subcode");
  auto transient = error.find("is_transient");
  const bool is_transient =
      error.is_object() && transient != error.end() && transient->is_boolean() && *transient;
  absl::Status status;
  if (code == 4 && subcode == kSpamRestricted) {
    // Meta restricts the account's activity: waiting does not lift it.
    status = absl::FailedPreconditionError("Instagram restricted this as possible spam" + said);
  } else if (code == kAlreadyPublished && subcode == kMediaNotReady) {
    status = WithRetryAfter(absl::UnavailableError("Instagram's media is not ready yet" + said),
                            absl::Seconds(30));
  } else if (IsRateLimit(static_cast<int>(code)) || response.status == 429) {
    absl::Duration wait = http::RetryAfter(response);
    status = WithRetryAfter(absl::ResourceExhaustedError("Meta's rate limit" + said),
                            wait > absl::ZeroDuration() ? wait : absl::Minutes(5));
  } else if (code == kWrongOffset) {
    // Another attempt moved the upload on: resume from what Facebook has.
    status = absl::UnavailableError("Facebook expected another chunk" + said);
  } else if (code == kTokenExpired || response.status == 401) {
    status = absl::PermissionDeniedError("Meta refused the access token" + said);
  } else if (response.status >= 500 || IsServerError(static_cast<int>(code)) || is_transient) {
    status = absl::UnavailableError("Meta is unavailable" + said);
  } else if (code == kParameter) {
    status = absl::InvalidArgumentError("Meta refused the request" + said);
  } else {
    status = absl::FailedPreconditionError("Meta refused the request" + said);
  }
  return WithCode(status, code, subcode);
}

bool TokenExpired(const http::Response& response) {
  if (response.status < 400) return false;
  return CountAt(ObjectAt(JsonOf(response.body), "error"), "code") == kTokenExpired;
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& fields) {
  return fields.empty() ? "" : "?" + FormEncode(fields);
}

}  // namespace

bool NeedsNewContainer(const absl::Status& status) {
  const GraphError error = GraphErrorOf(status);
  return (error.code == -2 && error.subcode == kMediaExpired) ||
         (error.code == -1 && error.subcode == kUnknownUploadError);
}

GraphError GraphErrorOf(const absl::Status& status) {
  auto payload = status.GetPayload(kCodePayload);
  GraphError error;
  if (!payload.has_value()) return error;
  const std::string text(*payload);
  const size_t colon = text.find(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(0, colon), &error.code) ||
      !absl::SimpleAtoi(text.substr(colon + 1), &error.subcode)) {
    return GraphError{};
  }
  return error;
}

TokenSource::Renew MetaExchange(const MetaConfig& config) {
  return [config](const Grant& current) -> absl::StatusOr<Grant> {
    http::Request request;
    request.url = config.graph_base_url + "/oauth/access_token" +
                  Query({{"grant_type", "fb_exchange_token"},
                         {"client_id", config.app_id},
                         {"client_secret", config.app_secret},
                         {"fb_exchange_token", current.access_token}});
    request.timeout = config.timeout;
    const absl::Time asked = absl::Now();
    absl::StatusOr<http::Response> response = http::Send(request);
    if (!response.ok()) return response.status();
    const nlohmann::json body = JsonOf(response->body);
    Grant renewed;
    renewed.access_token = TextAt(body, "access_token");
    if (response->status != 200 || renewed.access_token.empty()) {
      const nlohmann::json& error = ObjectAt(body, "error");
      return RenewalRefused("Meta's token exchange", *response,
                            absl::StrCat("code ", ErrorField(error, "code"), " subcode ",
                                         ErrorField(error, "error_subcode"),
                                         ErrorField(error, "code") == kTokenExpired
                                             ? ": Meta does not exchange a token that has expired"
                                             : ""));
    }
    SetLifetime(renewed, asked, body);
    return renewed;
  };
}

absl::StatusOr<nlohmann::json> GraphClient::Answer(const absl::StatusOr<http::Response>& response) {
  if (!response.ok()) return response.status();
  if (response->status >= 200 && response->status < 300) {
    nlohmann::json body = JsonOf(response->body);
    if (!body.is_object()) {
      return absl::UnavailableError("Meta answered with a body that is not the documented JSON");
    }
    return body;
  }
  return StatusOfGraphError(*response);
}

absl::StatusOr<nlohmann::json> GraphClient::Call(
    const std::string& method, const std::string& base, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& fields,
    const std::atomic<bool>* cancel) {
  return Answer(SendAuthorized(
      *tokens_,
      [&](const std::string& token) {
        http::Request request;
        request.method = method;
        request.timeout = config_.timeout;
        request.cancel = cancel;
        request.headers = {{"Authorization", "Bearer " + token}};
        if (method == "GET") {
          request.url = base + path + Query(fields);
        } else {
          request.url = base + path;
          request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
          request.body = FormEncode(fields);
        }
        return request;
      },
      TokenExpired));
}

absl::StatusOr<nlohmann::json> GraphClient::PostChunk(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& fields,
    const std::string& file_field, const std::string& bytes, const std::atomic<bool>* cancel) {
  thread_local std::mt19937_64 random(std::random_device{}());
  const std::string boundary = absl::StrCat("cf-boundary-", random());
  std::string body;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"", name,
                    "\"\r\n\r\n", value, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"", file_field,
                  "\"; filename=\"chunk.mp4\"\r\nContent-Type: video/mp4\r\n\r\n");
  body.append(bytes);
  absl::StrAppend(&body, "\r\n--", boundary, "--\r\n");
  return Answer(SendAuthorized(
      *tokens_,
      [&](const std::string& token) {
        http::Request request;
        request.method = "POST";
        request.url = config_.video_base_url + path;
        request.timeout = config_.upload_timeout;
        request.cancel = cancel;
        request.headers = {{"Authorization", "Bearer " + token},
                           {"Content-Type", "multipart/form-data; boundary=" + boundary}};
        request.body = body;
        return request;
      },
      TokenExpired));
}

// --- Instagram ---

absl::StatusOr<Advanced> InstagramApi::Advance(const PostRequest& post, const std::string& handle,
                                               PublishContext& context) {
  const MetaConfig& config = graph_->config();
  nlohmann::json recorded = JsonOf(handle);
  std::string container = TextAt(recorded, "container_id");
  int64_t started_ms = CountAt(recorded, "started_at_ms");
  if (container.empty()) {
    if (context.lookup_only()) return NotPosted("no container was made");
    context.SetPhase("uploading");
    started_ms = absl::ToUnixMillis(absl::Now());
    std::vector<std::pair<std::string, std::string>> fields = {
        {"media_type", "REELS"},
        {"video_url", post.video_url},
        {"caption", post.caption},
        {"share_to_feed", "true"},
        {"is_ai_generated", post.ai_generated ? "true" : "false"}};
    if (post.disclosure && !config.sponsor_id.empty()) {
      fields.push_back({"branded_content_sponsor", config.sponsor_id});
    }
    absl::StatusOr<nlohmann::json> made =
        graph_->Call("POST", config.graph_base_url, "/" + config.instagram_user_id + "/media",
                     fields, context.cancel());
    if (!made.ok()) return made.status();
    container = TextAt(*made, "id");
    if (container.empty()) return absl::UnavailableError("Meta's answer has no container id");
    nlohmann::json next = {{"container_id", container}, {"started_at_ms", started_ms}};
    if (!context.RecordHandle(next.dump())) return absl::CancelledError("the lease was lost");
    context.SetPhase("processing");
    return Advanced{false, {}, config.poll_interval};
  }
  absl::StatusOr<nlohmann::json> state =
      graph_->Call("GET", config.graph_base_url, "/" + container,
                   {{"fields", "status_code,status"}}, context.cancel());
  if (!state.ok() && NeedsNewContainer(state.status())) return Remade(post, context);
  if (!state.ok()) return state.status();
  const std::string code = TextAt(*state, "status_code");
  if (code == "IN_PROGRESS") {
    context.SetPhase("processing");
    return Advanced{false, {}, config.poll_interval};
  }
  if (code == "FINISHED") return Publish(container, started_ms, post, context);
  if (code == "PUBLISHED") return FindPublished(started_ms, post, context);
  if (code == "EXPIRED") return Remade(post, context);
  if (code == "ERROR") {
    // The platform says no post came of it: the handle goes, so the assembly may be published
    // again.
    if (!context.RecordHandle("")) return absl::CancelledError("the lease was lost");
    return absl::FailedPreconditionError(
        absl::StrCat("Instagram could not take the video (", TextAt(*state, "status"), ")"));
  }
  // A status missing or unknown to this adapter says nothing about whether the container was
  // published: the handle stays, and the publish asks again until its deadline.
  return absl::UnavailableError(code.empty()
                                    ? std::string("Instagram's container answer has no status_code")
                                    : absl::StrCat("Instagram's container status \"", code,
                                                   "\" is not one this "
                                                   "adapter knows"));
}

absl::StatusOr<Advanced> InstagramApi::Publish(const std::string& container, int64_t started_ms,
                                               const PostRequest& post, PublishContext& context) {
  const MetaConfig& config = graph_->config();
  if (context.lookup_only()) {
    return NotPosted(absl::StrCat("container ", container, " is ready and was never published"));
  }
  absl::StatusOr<nlohmann::json> published =
      graph_->Call("POST", config.graph_base_url, "/" + config.instagram_user_id + "/media_publish",
                   {{"creation_id", container}}, context.cancel());
  if (published.ok()) {
    const std::string media = TextAt(*published, "id");
    if (media.empty()) return absl::UnavailableError("Meta's publish answer has no media id");
    return Found(media);
  }
  const GraphError refusal = GraphErrorOf(published.status());
  if (refusal.code == kAlreadyPublished && refusal.subcode == kMediaNotReady) {
    context.SetPhase("processing");
    return Advanced{false, {}, std::max(config.poll_interval, RetryAfterOf(published.status()))};
  }
  if (NeedsNewContainer(published.status())) return Remade(post, context);
  if (refusal.code != kAlreadyPublished || refusal.subcode != 0) return published.status();
  return FindPublished(started_ms, post, context);
}

absl::StatusOr<Advanced> InstagramApi::Remade(const PostRequest& post, PublishContext& context) {
  // The container was never published (it expired, or Meta asks for a new one): a new
  // container cannot make a second post.
  if (!context.RecordHandle("")) return absl::CancelledError("the lease was lost");
  return Advance(post, "", context);
}

absl::StatusOr<Advanced> InstagramApi::FindPublished(int64_t started_ms, const PostRequest& post,
                                                     PublishContext& context) {
  const MetaConfig& config = graph_->config();
  // The container was published by an earlier attempt whose answer was lost. Instagram's media
  // do not name the container they came from, so the post is found by what it shows: among
  // the account's newest media, those with this caption made since the publish began, less
  // those another publish has recorded. Only one left is an answer.
  // Newest first, page after page, until the media are older than this publish (bounded: an
  // account posting thousands of media since would be asked again later).
  const absl::Time since = absl::FromUnixMillis(started_ms) - absl::Minutes(1);
  std::vector<std::string> candidates;
  std::string after;
  bool older_reached = false;
  for (int page = 0; page < kMediaPages && !older_reached; ++page) {
    std::vector<std::pair<std::string, std::string>> fields = {{"fields", "id,caption,timestamp"},
                                                               {"limit", "50"}};
    if (!after.empty()) fields.push_back({"after", after});
    absl::StatusOr<nlohmann::json> media =
        graph_->Call("GET", config.graph_base_url, "/" + config.instagram_user_id + "/media",
                     fields, context.cancel());
    if (!media.ok()) return media.status();
    auto items = media->find("data");
    if (items == media->end() || !items->is_array() || items->empty()) break;
    for (const nlohmann::json& item : *items) {
      absl::Time at;
      std::string error;
      if (!absl::ParseTime("%Y-%m-%dT%H:%M:%S%z", TextAt(item, "timestamp"), &at, &error)) {
        continue;
      }
      if (at < since) {
        older_reached = true;
        continue;
      }
      const std::string id = TextAt(item, "id");
      if (!id.empty() && TextAt(item, "caption") == post.caption) candidates.push_back(id);
    }
    after = TextAt(ObjectAt(ObjectAt(*media, "paging"), "cursors"), "after");
    if (after.empty() ||
        ObjectAt(*media, "paging").find("next") == ObjectAt(*media, "paging").end()) {
      break;
    }
  }
  absl::StatusOr<std::set<std::string>> taken = context.RecordedElsewhere(candidates);
  if (!taken.ok()) return taken.status();
  std::vector<std::string> mine;
  for (const std::string& id : candidates) {
    if (taken->count(id) == 0) mine.push_back(id);
  }
  if (mine.size() == 1) return Found(mine[0]);
  if (mine.empty()) {
    return absl::UnavailableError(
        "Instagram says the container was published, but its post is not among the account's "
        "newest media yet");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("Instagram says the container was published, and ", mine.size(),
                   " unrecorded media share its caption (", absl::StrJoin(mine, ", "),
                   "): which is this publish's cannot be told"));
}

absl::StatusOr<Advanced> InstagramApi::Found(const std::string& media_id) {
  const MetaConfig& config = graph_->config();
  Advanced done{true, {media_id, "", absl::InfinitePast(), ""}, absl::ZeroDuration()};
  absl::StatusOr<nlohmann::json> media = graph_->Call("GET", config.graph_base_url, "/" + media_id,
                                                      {{"fields", "id,permalink,timestamp"}});
  if (media.ok()) {
    done.result.url = TextAt(*media, "permalink");
    absl::Time at;
    std::string error;
    if (absl::ParseTime("%Y-%m-%dT%H:%M:%S%z", TextAt(*media, "timestamp"), &at, &error)) {
      done.result.posted_at = at;
    }
  }
  if (done.result.url.empty()) done.result.url = "https://www.instagram.com/reel/" + media_id;
  return done;
}

absl::StatusOr<PostFigures> InstagramApi::Figures(const std::string& post_id) {
  absl::StatusOr<nlohmann::json> insights =
      graph_->Call("GET", graph_->config().graph_base_url, "/" + post_id + "/insights",
                   {{"metric", "views,likes,comments,shares,saved,reach"}});
  if (!insights.ok()) return insights.status();
  PostFigures figures;
  auto data = insights->find("data");
  if (data == insights->end() || !data->is_array()) {
    return absl::UnavailableError("Instagram's insights answer has no data");
  }
  // A metric missing from the answer is unavailable, not 0.
  std::map<std::string, int64_t> read;
  for (const nlohmann::json& metric : *data) {
    auto values = metric.find("values");
    if (values == metric.end() || !values->is_array() || values->empty()) continue;
    read[TextAt(metric, "name")] = CountAt((*values)[0], "value");
  }
  auto value = [&](const char* name) {
    auto it = read.find(name);
    return it == read.end() ? -1 : it->second;
  };
  SetFigure(figures, "views", value("views"));
  SetFigure(figures, "likes", value("likes"));
  SetFigure(figures, "comments", value("comments"));
  SetFigure(figures, "shares", value("shares"));
  SetFigure(figures, "saves", value("saved"));
  return figures;
}

// --- Facebook ---

absl::StatusOr<Advanced> FacebookApi::Advance(const PostRequest& post, const std::string& handle,
                                              PublishContext& context) {
  const MetaConfig& config = graph_->config();
  const std::string videos = "/" + config.facebook_page_id + "/videos";
  nlohmann::json recorded = JsonOf(handle);
  std::string video_id = TextAt(recorded, "video_id");
  std::string session = TextAt(recorded, "upload_session_id");
  if (video_id.empty()) {
    if (context.lookup_only()) return NotPosted("no upload was started");
    context.SetPhase("uploading");
    absl::StatusOr<nlohmann::json> started =
        graph_->Call("POST", config.video_base_url, videos,
                     {{"upload_phase", "start"}, {"file_size", std::to_string(post.video_bytes)}},
                     context.cancel());
    if (!started.ok()) return started.status();
    video_id = TextAt(*started, "video_id");
    session = TextAt(*started, "upload_session_id");
    if (video_id.empty() || session.empty()) {
      return absl::UnavailableError("Meta's start answer has no video id or upload session");
    }
    nlohmann::json next = {{"video_id", video_id}, {"upload_session_id", session}};
    if (!context.RecordHandle(next.dump())) return absl::CancelledError("the lease was lost");
    absl::Status sent =
        TransferAndFinish(post, session, CountAt(*started, "start_offset"), context);
    if (!sent.ok()) return sent;
    context.SetPhase("processing");
    return Advanced{false, {}, config.poll_interval};
  }
  absl::StatusOr<nlohmann::json> video =
      graph_->Call("GET", config.graph_base_url, "/" + video_id,
                   {{"fields", "status,permalink_url,published,created_time"}}, context.cancel());
  if (!video.ok()) return video.status();
  const nlohmann::json& status = ObjectAt(*video, "status");
  const std::string state = TextAt(status, "video_status");
  if (state == "upload_incomplete") {
    // The finish never went through: no post yet. Send what Facebook lacks, then finish.
    context.SetPhase("uploading");
    const int64_t received =
        std::max<int64_t>(0, CountAt(ObjectAt(status, "uploading_phase"), "bytes_transferred"));
    absl::Status sent = TransferAndFinish(post, session, received, context);
    if (!sent.ok()) return sent;
    context.SetPhase("processing");
    return Advanced{false, {}, config.poll_interval};
  }
  if (state == "processing") {
    context.SetPhase("processing");
    return Advanced{false, {}, config.poll_interval};
  }
  if (state == "ready") {
    Advanced done{true,
                  {video_id, TextAt(*video, "permalink_url"), absl::InfinitePast(), ""},
                  absl::ZeroDuration()};
    if (!done.result.url.empty() && done.result.url[0] == '/') {
      done.result.url = "https://www.facebook.com" + done.result.url;
    }
    if (done.result.url.empty()) done.result.url = "https://www.facebook.com/watch/?v=" + video_id;
    absl::Time at;
    std::string error;
    if (absl::ParseTime("%Y-%m-%dT%H:%M:%S%z", TextAt(*video, "created_time"), &at, &error)) {
      done.result.posted_at = at;
    }
    return done;
  }
  if (state == "error") {
    // The platform says no post came of it: the handle goes, so the assembly may be
    // published again.
    if (!context.RecordHandle("")) return absl::CancelledError("the lease was lost");
    return absl::FailedPreconditionError("Facebook could not process the video");
  }
  // A status this adapter does not know: the post exists; keep asking (bounded by the
  // publish's deadline).
  return absl::UnavailableError(absl::StrCat("Facebook's video status is \"", state, "\""));
}

absl::Status FacebookApi::TransferAndFinish(const PostRequest& post, const std::string& session,
                                            int64_t offset, PublishContext& context) {
  if (context.lookup_only()) {
    return NotPosted(absl::StrCat("the upload was never finished (Facebook had ", offset, " of ",
                                  post.video_bytes, " bytes)"));
  }
  const MetaConfig& config = graph_->config();
  const std::string videos = "/" + config.facebook_page_id + "/videos";
  int64_t start = std::max<int64_t>(0, offset);
  while (start < post.video_bytes) {
    const int64_t length = std::min(config.chunk_size, post.video_bytes - start);
    absl::StatusOr<std::string> bytes = ReadFileRange(post.video_path, start, length);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<nlohmann::json> sent =
        graph_->PostChunk(videos,
                          {{"upload_phase", "transfer"},
                           {"upload_session_id", session},
                           {"start_offset", std::to_string(start)}},
                          "video_file_chunk", *bytes, context.cancel());
    if (!sent.ok()) return sent.status();
    const int64_t next = CountAt(*sent, "start_offset");
    if (next <= start && next < post.video_bytes) {
      return absl::UnavailableError("Facebook did not take the chunk; resuming from its count");
    }
    start = next;
    context.SetProgress(static_cast<int>(10 + 60 * start / std::max<int64_t>(1, post.video_bytes)));
  }
  std::vector<std::pair<std::string, std::string>> fields = {{"upload_phase", "finish"},
                                                             {"upload_session_id", session},
                                                             {"description", post.caption},
                                                             {"title", post.title}};
  if (post.disclosure && !config.sponsor_id.empty()) {
    fields.push_back({"sponsor_id", config.sponsor_id});
  }
  absl::StatusOr<nlohmann::json> finished =
      graph_->Call("POST", config.video_base_url, videos, fields, context.cancel());
  if (!finished.ok() && GraphErrorOf(finished.status()).code != kSessionFinished) {
    return finished.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<PostFigures> FacebookApi::Figures(const std::string& post_id) {
  absl::StatusOr<nlohmann::json> insights =
      graph_->Call("GET", graph_->config().graph_base_url, "/" + post_id + "/video_insights",
                   {{"metric",
                     "total_video_views,total_video_reactions_by_type_total,"
                     "total_video_stories_by_action_type"}});
  if (!insights.ok()) return insights.status();
  PostFigures figures;
  figures.unavailable = {"saves"};
  auto data = insights->find("data");
  if (data == insights->end() || !data->is_array()) {
    return absl::UnavailableError("Facebook's insights answer has no data");
  }
  // A metric missing from the answer is unavailable, not 0 (within one, Facebook leaves out
  // the action types nobody took: those are 0).
  std::set<std::string> seen;
  for (const nlohmann::json& metric : *data) {
    auto values = metric.find("values");
    if (values == metric.end() || !values->is_array() || values->empty()) continue;
    const nlohmann::json& value = (*values)[0].is_object() ? (*values)[0] : nlohmann::json();
    const std::string name = TextAt(metric, "name");
    seen.insert(name);
    if (name == "total_video_views") SetFigure(figures, "views", CountAt(value, "value"));
    const nlohmann::json& counts = ObjectAt(value, "value");
    if (name == "total_video_reactions_by_type_total") {
      for (const auto& [reaction, count] : counts.items()) {
        if (count.is_number_integer()) figures.likes += std::max<int64_t>(0, count.get<int64_t>());
      }
    }
    if (name == "total_video_stories_by_action_type") {
      figures.comments = std::max<int64_t>(0, CountAt(counts, "comment"));
      figures.shares = std::max<int64_t>(0, CountAt(counts, "share"));
      if (figures.likes == 0) figures.likes = std::max<int64_t>(0, CountAt(counts, "like"));
    }
  }
  if (seen.count("total_video_views") == 0) SetFigure(figures, "views", -1);
  if (seen.count("total_video_stories_by_action_type") == 0) {
    SetFigure(figures, "comments", -1);
    SetFigure(figures, "shares", -1);
    if (seen.count("total_video_reactions_by_type_total") == 0) SetFigure(figures, "likes", -1);
  }
  return figures;
}

}  // namespace cf::publishing
