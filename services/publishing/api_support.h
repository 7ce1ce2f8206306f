// What the platform adapters share: access tokens renewed once on expiry, JSON read without
// throwing, form encoding and reading a file's bytes.
#ifndef CF_SERVICES_PUBLISHING_API_SUPPORT_H_
#define CF_SERVICES_PUBLISHING_API_SUPPORT_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_client.h"

namespace cf::publishing {

// An access token, and how to get a new one when the platform says it expired (TikTok and
// Google refresh with the refresh token; Meta exchanges the current token). Thread-safe.
class TokenSource {
 public:
  // Returns the new access token; may replace `refresh_token` (TikTok rotates it).
  using Renew = std::function<absl::StatusOr<std::string>(const std::string& access_token,
                                                          std::string* refresh_token)>;
  TokenSource(std::string platform, std::string access_token, std::string refresh_token,
              Renew renew);

  std::string Current() const;
  // A token newer than `seen`: renewed now, unless another call already did. A refusal is
  // PERMISSION_DENIED saying what to do (it never carries a token); a token endpoint that is
  // down or busy answers UNAVAILABLE or RESOURCE_EXHAUSTED, retried like any other call.
  absl::StatusOr<std::string> RenewAfter(const std::string& seen);

 private:
  std::string platform_;
  Renew renew_;
  mutable std::mutex mutex_;
  std::string access_token_;
  std::string refresh_token_;
};

// An OAuth 2 refresh (grant_type=refresh_token, form-encoded, with the app's `client` fields)
// at `url`, named `endpoint` in errors. A rotated refresh token in the answer replaces the old.
TokenSource::Renew OAuthRefresh(const std::string& url, const std::string& endpoint,
                                std::vector<std::pair<std::string, std::string>> client,
                                absl::Duration timeout);

// Sends the request `make` builds for a token. When `expired` says the answer means the token
// expired, renews it once and sends again; expired twice is PERMISSION_DENIED. Transport
// failures are statuses; any HTTP answer is a Response.
absl::StatusOr<http::Response> SendAuthorized(
    TokenSource& tokens, const std::function<http::Request(const std::string& token)>& make,
    const std::function<bool(const http::Response&)>& expired);

// The body as JSON; a discarded value (is_discarded()) when it is not JSON.
nlohmann::json JsonOf(const std::string& body);
// Typed reads that never throw: "" / nullopt-like defaults when missing or of another type.
std::string TextAt(const nlohmann::json& object, const char* key);
// A number, or a decimal string holding one (platforms send both); -1 when neither.
int64_t CountAt(const nlohmann::json& object, const char* key);
const nlohmann::json& ObjectAt(const nlohmann::json& object, const char* key);

// application/x-www-form-urlencoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);
std::string UrlEncode(const std::string& text);

// `length` bytes of `path` from `offset`.
absl::StatusOr<std::string> ReadFileRange(const std::string& path, int64_t offset, int64_t length);

// A renewal answer that is not a grant: 5xx UNAVAILABLE, 429 RESOURCE_EXHAUSTED (both
// retried later), anything else PERMISSION_DENIED naming `endpoint`, the code and `error`.
absl::Status RenewalRefused(const std::string& endpoint, const http::Response& response,
                            const std::string& error);

// "... (HTTP 500: <snippet of the body>)" for messages; never includes request data.
std::string Answered(const http::Response& response);

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_API_SUPPORT_H_
