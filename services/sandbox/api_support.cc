#include "services/sandbox/api_support.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log/log.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

// A short id for a platform's trace field (TikTok's log_id, Meta's fbtrace_id).
std::string TraceId() {
  static std::atomic<uint64_t> counter{0};
  return absl::StrFormat("SBX%d%06d", absl::ToUnixSeconds(absl::Now()), ++counter % 1000000);
}

std::string GoogleStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

void SetRetryAfter(httplib::Response& res, absl::Duration wait) {
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
  res.set_header("Retry-After", std::to_string(seconds));
}

}  // namespace

AudienceClock Env::audience() const {
  AudienceClock audience;
  audience.day = absl::Seconds(options.day_seconds);
  audience.cpm_cents = options.cpm_cents;
  return audience;
}

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // Replacement characters instead of an exception for text that is not UTF-8.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=UTF-8");
}

void SendTikTokError(httplib::Response& res, int status, const std::string& code,
                     const std::string& message) {
  SendJson(res, status,
           {{"data", nlohmann::json::object()},
            {"error", {{"code", code}, {"message", message}, {"log_id", TraceId()}}}});
}

void SendTikTokData(httplib::Response& res, const nlohmann::json& data) {
  SendJson(res, 200,
           {{"data", data}, {"error", {{"code", "ok"}, {"message", ""}, {"log_id", TraceId()}}}});
}

void SendTikTokAdsData(httplib::Response& res, const nlohmann::json& data) {
  SendJson(res, 200, {{"code", 0}, {"message", "OK"}, {"request_id", TraceId()}, {"data", data}});
}

void SendTikTokAdsError(httplib::Response& res, int code, const std::string& message, int status) {
  SendJson(res, status,
           {{"code", code},
            {"message", message},
            {"request_id", TraceId()},
            {"data", nlohmann::json::object()}});
}

void SendGraphError(httplib::Response& res, int status, int code, int subcode,
                    const std::string& message, bool transient) {
  nlohmann::json error = {{"message", message},
                          {"type", "OAuthException"},
                          {"code", code},
                          {"is_transient", transient},
                          {"fbtrace_id", TraceId()}};
  if (subcode != 0) error["error_subcode"] = subcode;
  SendJson(res, status, {{"error", error}});
}

void SendGoogleError(httplib::Response& res, int status, const std::string& reason,
                     const std::string& message, const std::string& domain) {
  SendJson(res, status,
           {{"error",
             {{"code", status},
              {"message", message},
              {"errors", {{{"reason", reason}, {"domain", domain}, {"message", message}}}},
              {"status", GoogleStatus(status)}}}});
}

void SendStandardError(httplib::Response& res, Flavor flavor, int status,
                       const std::string& message, absl::Duration retry_after) {
  switch (flavor) {
    case Flavor::kTikTok: {
      std::string code = "internal_error";
      if (status == 400 || status == 404) code = "invalid_params";
      if (status == 401) code = "access_token_invalid";
      if (status == 403) code = "scope_not_authorized";
      if (status == 429) code = "rate_limit_exceeded";
      SendTikTokError(res, status, code, message);
      break;
    }
    case Flavor::kGraph: {
      int code = 2;
      int subcode = 0;
      if (status == 400 || status == 404) code = 100;
      if (status == 401) code = 190, subcode = 463;
      if (status == 403) code = 10;
      if (status == 429) code = 4;
      SendGraphError(res, status, code, subcode, message);
      break;
    }
    case Flavor::kGoogle: {
      std::string reason = "backendError";
      if (status == 400) reason = "badRequest";
      if (status == 401) reason = "authError";
      if (status == 403) reason = "forbidden";
      if (status == 404) reason = "notFound";
      if (status == 429) reason = "rateLimitExceeded";
      SendGoogleError(res, status, reason, message);
      break;
    }
    case Flavor::kTikTokAds: {
      int code = kAdsInternalError;
      int http_status = 200;
      if (status == 400 || status == 404) code = kAdsInvalidParameter;
      if (status == 401) code = kAdsInvalidToken;
      if (status == 403) code = kAdsNoPermission;
      if (status == 429) code = kAdsTooManyRequests;
      // Only the 5xx faults change the HTTP status; everything else is 200 with a code.
      if (status == 500 || status == 503) http_status = status;
      SendTikTokAdsError(res, code, message, http_status);
      break;
    }
  }
  if (status == 429 || status == 503) SetRetryAfter(res, retry_after);
}

void RunCall(Env& env, Flavor flavor, const std::string& platform, const std::string& operation,
             const httplib::Request& req, httplib::Response& res, const Handler& handler) {
  std::optional<Fault> fault = env.faults->Take(platform, operation);
  const std::string injected = absl::StrCat("sandbox fault on ", platform, " ", operation);
  if (fault.has_value()) {
    switch (fault->kind) {
      case FaultKind::kError500:
        SendStandardError(res, flavor, 500, injected);
        return;
      case FaultKind::kError503:
        SendStandardError(res, flavor, 503, injected, fault->delay);
        return;
      case FaultKind::kRateLimit:
        SendStandardError(res, flavor, 429, injected, fault->delay);
        return;
      case FaultKind::kTokenExpired:
        SendStandardError(
            res, flavor, 401,
            "Error validating access token: the session has expired (" + injected + ")");
        return;
      case FaultKind::kSlow:
        // Nothing is locked here: only this request waits.
        // In steps, so a stopping server does not wait out a long delay.
        for (const absl::Time until = absl::Now() + fault->delay;
             absl::Now() < until && !(env.stopping != nullptr && *env.stopping);) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        break;
      case FaultKind::kGraphError:
        SendGraphError(res, fault->http_status, fault->code, fault->subcode,
                       absl::StrCat("(#", fault->code, ") ", injected), fault->transient);
        return;
      case FaultKind::kLostAnswer:
      case FaultKind::kEmptyAnswer:
        break;
    }
  }
  try {
    handler(req, res);
  } catch (const std::exception& error) {
    Log(LogLevel::kError, "handler failed",
        {{"platform", platform}, {"operation", operation}, {"error", error.what()}});
    res.headers.clear();
    if (flavor == Flavor::kTikTokAds) {
      SendTikTokAdsError(res, kAdsInternalError, "internal error");  // HTTP 200, code 50000
    } else {
      SendStandardError(res, flavor, 500, "internal error");
    }
  }
  if (fault.has_value() && fault->kind == FaultKind::kLostAnswer) {
    // The call went through; the answer is lost on the way back, as behind a broken proxy.
    res.status = 502;
    res.headers.clear();
    res.body.clear();
  }
  if (fault.has_value() && fault->kind == FaultKind::kEmptyAnswer && res.status == 200) {
    res.set_content("{}", "application/json");
  }
}

httplib::Server::HandlerWithContentReader WithFullBody(Handler handler, BodyLimit limit) {
  return [handler = std::move(handler), limit](const httplib::Request& req, httplib::Response& res,
                                               const httplib::ContentReader& reader) {
    const std::string length = req.get_header_value("Content-Length");
    size_t declared = 0;
    if (!length.empty() && absl::SimpleAtoi(length, &declared) && declared > limit.max_bytes) {
      return SendJson(res, 413,
                      {{"error", absl::StrCat("the request body is larger than this route takes (",
                                              limit.max_bytes, " bytes)")}});
    }
    const absl::Time deadline = absl::Now() + limit.max_time;
    size_t received = 0;
    bool too_large = false;
    bool too_slow = false;
    auto take = [&](size_t size) {
      received += size;
      too_large = received > limit.max_bytes;
      too_slow = absl::Now() > deadline;
      return !too_large && !too_slow;
    };
    httplib::Request full = req;
    bool read = false;
    if (req.is_multipart_form_data()) {
      std::vector<httplib::MultipartFormData> parts;
      read = reader(
          [&](const httplib::MultipartFormData& part) {
            parts.push_back(part);
            return true;
          },
          [&](const char* data, size_t size) {
            parts.back().content.append(data, size);
            return take(size);
          });
      for (httplib::MultipartFormData& part : parts) full.files.emplace(part.name, part);
    } else {
      read = reader([&](const char* data, size_t size) {
        full.body.append(data, size);
        return take(size);
      });
      if (read && absl::StartsWith(req.get_header_value("Content-Type"),
                                   "application/x-www-form-urlencoded")) {
        httplib::detail::parse_query_text(full.body, full.params);
      }
    }
    if (too_large) {
      return SendJson(res, 413,
                      {{"error", absl::StrCat("the request body is larger than this route takes (",
                                              limit.max_bytes, " bytes)")}});
    }
    if (too_slow) {
      return SendJson(res, 408,
                      {{"error", absl::StrCat("the request body took longer than ",
                                              absl::FormatDuration(limit.max_time))}});
    }
    if (!read) return SendJson(res, 400, {{"error", "the request body could not be read"}});
    handler(full, res);
  };
}

std::string AccessTokenOf(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  if (absl::StartsWithIgnoreCase(header, "Bearer ")) {
    return std::string(absl::StripAsciiWhitespace(header.substr(7)));
  }
  return Param(req, "access_token");
}

bool Authorize(Env& env, Flavor flavor, const std::string& account, const httplib::Request& req,
               httplib::Response& res) {
  const std::string token = AccessTokenOf(req);
  bool valid = false;
  bool expired = false;
  {
    auto lock = env.store->Lock();
    TokenAccount& tokens = env.store->state().Tokens(account);
    valid = TokenLive(tokens, token, env.NowMs());
    for (const std::string& known : tokens.valid) expired |= !valid && known == token;
    for (const std::string& old : tokens.expired) expired |= !token.empty() && old == token;
  }
  if (valid) return true;
  std::string message = token.empty() ? "No access token was given"
                        : expired     ? "Error validating access token: the session has expired"
                                      : "The access token is invalid";
  SendStandardError(res, flavor, 401, message);
  return false;
}

bool WithinRate(Env& env, Flavor flavor, const std::string& key, int64_t limit,
                absl::Duration window, httplib::Response& res) {
  std::optional<absl::Duration> wait = env.limiter->Take(key, limit, window, env.Now());
  if (!wait.has_value()) return true;
  SendStandardError(res, flavor, 429,
                    absl::StrCat("Rate limit reached: ", env.limiter->Scaled(limit), " calls per ",
                                 absl::FormatDuration(window)),
                    *wait);
  return false;
}

std::string IssueToken(State& state, const std::string& account, int64_t expires_ms) {
  TokenAccount& tokens = state.Tokens(account);
  const std::string token = absl::StrCat("sbx-", account, "-", ++tokens.issued);
  tokens.valid.push_back(token);
  if (expires_ms != 0) tokens.expires_ms[token] = expires_ms;
  return token;
}

bool TokenLive(const TokenAccount& tokens, const std::string& token, int64_t now_ms) {
  if (token.empty() ||
      std::find(tokens.valid.begin(), tokens.valid.end(), token) == tokens.valid.end()) {
    return false;
  }
  auto expiry = tokens.expires_ms.find(token);
  return expiry == tokens.expires_ms.end() || now_ms < expiry->second;
}

void SendOAuthError(httplib::Response& res, int status, const std::string& code,
                    const std::string& description) {
  SendJson(res, status, {{"error", code}, {"error_description", description}});
}

std::string Param(const httplib::Request& req, const std::string& name) {
  if (req.has_param(name.c_str())) return req.get_param_value(name.c_str());
  if (req.has_file(name.c_str())) return req.get_file_value(name.c_str()).content;
  return "";
}

bool HasParam(const httplib::Request& req, const std::string& name) {
  return req.has_param(name.c_str()) || req.has_file(name.c_str());
}

std::optional<nlohmann::json> JsonObjectBody(const httplib::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  return body;
}

std::string TextAt(const nlohmann::json& object, const std::string& name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<int64_t> IntAt(const nlohmann::json& object, const std::string& name) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<bool> BoolAt(const nlohmann::json& object, const std::string& name) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(name);
  if (it == object.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::optional<ContentRange> ParseContentRange(const std::string& header) {
  std::string text(absl::StripAsciiWhitespace(header));
  if (!absl::StartsWithIgnoreCase(text, "bytes ")) return std::nullopt;
  text = std::string(absl::StripAsciiWhitespace(text.substr(6)));
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string range = text.substr(0, slash);
  const std::string total = text.substr(slash + 1);
  ContentRange parsed;
  if (total != "*" && (!absl::SimpleAtoi(total, &parsed.total) || parsed.total < 0)) {
    return std::nullopt;
  }
  if (range == "*") {
    if (parsed.total < 0) return std::nullopt;  // "bytes */*" says nothing
    return parsed;
  }
  const size_t dash = range.find('-');
  if (dash == std::string::npos || !absl::SimpleAtoi(range.substr(0, dash), &parsed.first) ||
      !absl::SimpleAtoi(range.substr(dash + 1), &parsed.last) || parsed.first < 0 ||
      parsed.last < parsed.first || (parsed.total >= 0 && parsed.last >= parsed.total)) {
    return std::nullopt;
  }
  parsed.has_range = true;
  return parsed;
}

std::string BaseUrl(const httplib::Request& req, const Env& env) {
  std::string host = req.get_header_value("Host");
  if (host.empty()) host = absl::StrCat(env.options.host, ":", env.options.port);
  return "http://" + host;
}

std::string FormatTime(int64_t ms, bool zulu) {
  return absl::FormatTime(zulu ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%S%z",
                          absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

Processing ProcessingOf(const Env& env, const Post& post) {
  if (!post.probed || env.NowMs() < post.created_ms + env.options.processing_ms) {
    return Processing::kProcessing;
  }
  return post.fail_reason.empty() ? Processing::kReady : Processing::kFailed;
}

std::string VisiblePostId(const Env& env, const Post& post) {
  if (post.platform != "tiktok") return post.key;
  const bool visible =
      post.privacy != "SELF_ONLY" && ProcessingOf(env, post) == Processing::kReady &&
      env.NowMs() >= post.created_ms + env.options.processing_ms + env.options.post_id_delay_ms;
  return visible ? post.key : "";
}

Promotion PromotionOf(const Post& post) {
  Promotion promotion;
  promotion.earlier_spend_cents = post.promotion_earlier_spend_cents;
  if (!post.promotion_daily_budget.empty()) {
    absl::StatusOr<int64_t> budget = ParseCents(post.promotion_daily_budget);
    if (budget.ok()) {
      promotion.daily_budget_cents = *budget;
      promotion.started_at = absl::FromUnixMillis(post.promotion_started_ms);
      if (post.promotion_ended_ms != 0) {
        promotion.ended_at = absl::FromUnixMillis(post.promotion_ended_ms);
      }
      if (post.promotion_until_ms != 0) {
        promotion.ended_at =
            std::min(promotion.ended_at, absl::FromUnixMillis(post.promotion_until_ms));
      }
    }
  }
  return promotion;
}

Figures FiguresOf(const Env& env, const Post& post) {
  if (post.truth_set_ms == 0) {
    if (env.options.truth_required) return Figures{};  // nothing until its truth is set
    return FiguresAt(post.platform, post.key, absl::FromUnixMillis(post.created_ms), env.Now(),
                     env.audience(), PromotionOf(post));
  }
  Truth truth;
  truth.rates = post.truth;
  truth.since =
      absl::FromUnixMillis(env.options.truth_required ? post.truth_set_ms : post.created_ms);
  truth.daily_noise = env.options.truth_noise;
  return FiguresAt(post.platform, post.key, absl::FromUnixMillis(post.created_ms), env.Now(),
                   env.audience(), PromotionOf(post), &truth);
}

void SetPromotionBudget(Post& post, int64_t daily_budget_cents, int64_t now_ms, absl::Duration day,
                        int64_t until_ms) {
  const Promotion current = PromotionOf(post);
  // A period past its scheduled end has ended at that end.
  const int64_t scheduled_end_ms = post.promotion_until_ms != 0 && post.promotion_until_ms <= now_ms
                                       ? post.promotion_until_ms
                                       : 0;
  if (post.promoted() && scheduled_end_ms != 0) {
    post.promotion_ended_ms = std::max(scheduled_end_ms, post.promotion_started_ms);
  }
  const bool running = post.promoted() && current.daily_budget_cents > 0;
  if (daily_budget_cents <= 0) {
    if (running) post.promotion_ended_ms = std::max(now_ms, post.promotion_started_ms);
    return;
  }
  if (running && current.daily_budget_cents == daily_budget_cents) {
    post.promotion_until_ms = until_ms;
    return;
  }
  // The period so far (running, or ended) becomes earlier spend: the same figure the audience
  // model shows at this moment, so nothing jumps.
  if (current.daily_budget_cents > 0) {
    const int64_t end_ms = running ? now_ms : post.promotion_ended_ms;
    post.promotion_earlier_spend_cents += SpendCents(
        current.daily_budget_cents, absl::Milliseconds(end_ms - post.promotion_started_ms), day);
  }
  post.promotion_daily_budget = FormatCents(daily_budget_cents);
  post.promotion_started_ms = now_ms;
  post.promotion_ended_ms = 0;
  post.promotion_until_ms = until_ms;
}

absl::StatusOr<Post*> CreatePost(Env& env, State& state, const std::string& platform,
                                 const std::string& key, const std::string& file) {
  const std::string video = env.store->VideoPath(platform, key);
  if (file != video) {
    absl::Status moved = MoveFile(file, video);
    if (!moved.ok()) return moved;
  }
  absl::StatusOr<std::string> sha = Sha256OfFile(video);
  if (!sha.ok()) return sha.status();
  Post post;
  post.platform = platform;
  post.key = key;
  post.video_sha256 = *sha;
  post.video_bytes = FileSize(video);
  post.created_ms = env.NowMs();
  state.posts.push_back(post);
  return &state.posts.back();
}

void ProbePost(Env& env, const std::string& platform, const std::string& key, double max_duration_s,
               const std::string& too_long_reason) {
  const VideoCheck check = CheckVideo(env.store->VideoPath(platform, key));
  auto lock = env.store->Lock();
  Post* post = env.store->state().FindPost(platform, key);
  if (post == nullptr) return;
  post->probed = true;
  post->duration_s = check.duration_s;
  if (!check.readable) {
    post->fail_reason = "file_format_check_failed";
    Log(LogLevel::kWarning, "unreadable video",
        {{"platform", platform}, {"key", key}, {"reason", check.reason}});
  } else if (max_duration_s > 0 && check.duration_s > max_duration_s) {
    post->fail_reason = too_long_reason;
  }
  absl::Status saved = env.store->Save();
  if (!saved.ok())
    Log(LogLevel::kError, "cannot save the sandbox state",
        {{"error", std::string(saved.message())}});
}

}  // namespace cf::sandbox
