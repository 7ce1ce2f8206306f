// What the four platform APIs share: the sandbox's parts (Env), each platform's error bodies,
// the fault wrapper every call goes through, tokens, rate limits, request parsing, and turning
// a finished upload into a post.
#ifndef CF_SERVICES_SANDBOX_API_SUPPORT_H_
#define CF_SERVICES_SANDBOX_API_SUPPORT_H_

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/sandbox/audience.h"
#include "services/sandbox/background_tasks.h"
#include "services/sandbox/faults.h"
#include "services/sandbox/options.h"
#include "services/sandbox/rate_limiter.h"
#include "services/sandbox/sandbox_store.h"

namespace cf::sandbox {

// The sandbox's parts, shared by every handler. The clock is injectable so tests can move
// time on instead of waiting for it.
struct Env {
  Options options;
  SandboxStore* store = nullptr;
  Faults* faults = nullptr;
  RateLimiter* limiter = nullptr;
  BackgroundTasks* tasks = nullptr;
  std::function<absl::Time()> clock;
  // Set when the server is stopping: slow faults stop waiting.
  const std::atomic<bool>* stopping = nullptr;

  absl::Time Now() const { return clock(); }
  int64_t NowMs() const { return absl::ToUnixMillis(clock()); }
  AudienceClock audience() const;
};

// Whose error bodies a call answers with. kTikTokAds is TikTok's Marketing API: HTTP 200 with a
// numeric `code` for most errors.
enum class Flavor { kTikTok, kGraph, kGoogle, kTikTokAds };

void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
// {"data": {}, "error": {"code", "message", "log_id"}}
void SendTikTokError(httplib::Response& res, int status, const std::string& code,
                     const std::string& message);
// {"data": data, "error": {"code": "ok", "message": "", "log_id"}}
void SendTikTokData(httplib::Response& res, const nlohmann::json& data);
// TikTok's Marketing API: {"code": 0, "message": "OK", "request_id", "data": data}.
void SendTikTokAdsData(httplib::Response& res, const nlohmann::json& data);
// {"code": code, "message", "request_id", "data": {}} with HTTP `status` (200 but for the
// error_500 and error_503 faults).
void SendTikTokAdsError(httplib::Response& res, int code, const std::string& message,
                        int status = 200);
// The Marketing API's codes.
inline constexpr int kAdsInvalidToken = 40105;
inline constexpr int kAdsTooManyRequests = 40100;
inline constexpr int kAdsInvalidParameter = 40002;
inline constexpr int kAdsNoPermission = 40001;
inline constexpr int kAdsInternalError = 50000;
// {"error": {"message", "type": "OAuthException", "code", "error_subcode", "fbtrace_id"}};
// error_subcode only when nonzero.
void SendGraphError(httplib::Response& res, int status, int code, int subcode,
                    const std::string& message, bool transient = false);
// {"error": {"code", "message", "errors": [{"reason", "domain", "message"}], "status"}}
void SendGoogleError(httplib::Response& res, int status, const std::string& reason,
                     const std::string& message, const std::string& domain = "global");
// The platform's usual answer for an HTTP status (400, 401, 403, 404, 429, 500, 503): TikTok
// invalid_params / access_token_invalid / rate_limit_exceeded / internal_error; Graph codes
// 100 / 190 (subcode 463) / 4 / 2; Google badRequest / authError / rateLimitExceeded /
// backendError; the Marketing API's HTTP 200 with 40002 / 40105 / 40001 / 40100, and 50000
// with HTTP 500 or 503. A 429 (and a 503) carries Retry-After.
void SendStandardError(httplib::Response& res, Flavor flavor, int status,
                       const std::string& message, absl::Duration retry_after = absl::Seconds(1));

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Runs one platform call: a fault rule for (platform, operation) first (README.md, control
// API), then `handler`. An exception from the handler becomes the platform's 500.
void RunCall(Env& env, Flavor flavor, const std::string& platform, const std::string& operation,
             const httplib::Request& req, httplib::Response& res, const Handler& handler);

// How much a request may send, and for how long: an API call's body is kilobytes; only the
// routes that carry a video take more. A body over its cap is 413, one that takes longer than
// its time 408, so a slow or oversized client cannot hold the server's threads.
struct BodyLimit {
  size_t max_bytes;
  absl::Duration max_time;
};
inline constexpr BodyLimit kApiBody{256 << 10, absl::Seconds(30)};
inline constexpr BodyLimit kVideoBody{size_t{1} << 30, absl::Minutes(10)};

// Wraps a POST or PUT handler so that it reads the body itself, within `limit`: httplib parses
// urlencoded forms only up to 8 KB (answering 413 beyond), and a 2,200-character caption can be
// longer than that once encoded. Forms (urlencoded or multipart) land in params/files as usual.
httplib::Server::HandlerWithContentReader WithFullBody(Handler handler, BodyLimit limit = kApiBody);

// The token of a call: `Authorization: Bearer T`, else an access_token parameter.
std::string AccessTokenOf(const httplib::Request& req);
// True when the call carries a live token of `account` (tiktok, meta, google); otherwise
// answers the platform's 401 and returns false.
bool Authorize(Env& env, Flavor flavor, const std::string& account, const httplib::Request& req,
               httplib::Response& res);
// True when `key` may make one more call (`limit` real calls per `window`, scaled); otherwise
// answers the platform's 429 with Retry-After and returns false.
bool WithinRate(Env& env, Flavor flavor, const std::string& key, int64_t limit,
                absl::Duration window, httplib::Response& res);

// With the store locked: a new access token of `account` ("sbx-<account>-<n>"), valid until
// expired through the control API, or until `expires_ms` when that is not 0.
std::string IssueToken(State& state, const std::string& account, int64_t expires_ms = 0);
// With the store locked: whether `token` of `account` works at `now_ms`.
bool TokenLive(const TokenAccount& tokens, const std::string& token, int64_t now_ms);
// The OAuth token endpoints' error body {"error": code, "error_description": description}.
void SendOAuthError(httplib::Response& res, int status, const std::string& code,
                    const std::string& description);

// A parameter from the query string, a urlencoded form body or a multipart form ("" when
// absent).
std::string Param(const httplib::Request& req, const std::string& name);
bool HasParam(const httplib::Request& req, const std::string& name);
// The body as a JSON object (nullopt when it is not one).
std::optional<nlohmann::json> JsonObjectBody(const httplib::Request& req);

// Typed reads that never throw.
std::string TextAt(const nlohmann::json& object, const std::string& name);
std::optional<int64_t> IntAt(const nlohmann::json& object, const std::string& name);
std::optional<bool> BoolAt(const nlohmann::json& object, const std::string& name);

// "bytes FIRST-LAST/TOTAL", "bytes */TOTAL" (no range) or ".../*" (total unknown: -1).
struct ContentRange {
  bool has_range = false;
  int64_t first = 0;
  int64_t last = -1;
  int64_t total = -1;
};
std::optional<ContentRange> ParseContentRange(const std::string& header);

// "http://<Host header>" (the address the client used), else the listen address.
std::string BaseUrl(const httplib::Request& req, const Env& env);

// "2025-01-02T03:04:05+0000" (Graph), or with `zulu` "2025-01-02T03:04:05Z" (Google).
std::string FormatTime(int64_t ms, bool zulu = false);

// A post's processing as its platform shows it: processing while --processing_ms has not
// passed since it came to exist or ffprobe has not looked at it yet.
enum class Processing { kProcessing, kReady, kFailed };
Processing ProcessingOf(const Env& env, const Post& post);

// The id the platform has given the client for the post: its key, except for a TikTok post
// before its public id appears (processed, then --post_id_delay_ms) or a SELF_ONLY one ("").
std::string VisiblePostId(const Env& env, const Post& post);

// A post's promotion as the audience model takes it (none without a readable budget).
Promotion PromotionOf(const Post& post);
// A post's lifetime figures now.
Figures FiguresOf(const Env& env, const Post& post);

// Sets what a post's promotion spends a day from `now_ms` on (0: stop). A period that ran, or
// ran and ended, is folded into the earlier spend before a new one starts, so the spend never
// goes back; stopping records the end, so the spend stops growing. The same budget as the
// running one changes nothing. `day` is the sandbox day (--day_seconds).
// `until_ms`: when the period stops spending by itself (0: not until it is changed).
void SetPromotionBudget(Post& post, int64_t daily_budget_cents, int64_t now_ms, absl::Duration day,
                        int64_t until_ms = 0);

// With the store locked: moves `file` to the post's video path, records its size and SHA-256
// and appends a post created now. The caller fills in the platform's fields and saves.
absl::StatusOr<Post*> CreatePost(Env& env, State& state, const std::string& platform,
                                 const std::string& key, const std::string& file);

// Without the lock: runs ffprobe on the post's video and records the verdict (a video longer
// than `max_duration_s`, when > 0, fails with `too_long_reason`). Saves.
void ProbePost(Env& env, const std::string& platform, const std::string& key,
               double max_duration_s = 0, const std::string& too_long_reason = "");

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_API_SUPPORT_H_
