// What the platform adapters share: access tokens renewed once on expiry, JSON read without
// throwing, form encoding and reading a file's bytes.
#ifndef CF_SERVICES_PUBLISHING_API_SUPPORT_H_
#define CF_SERVICES_PUBLISHING_API_SUPPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_client.h"

namespace cf::publishing {

// What a platform granted: an access token, the refresh token that renews it (TikTok's rotate:
// a renewal may hand back a new one), and when the access token expires, when known.
struct Grant {
  std::string access_token;
  std::string refresh_token;
  absl::Time issued_at = absl::InfinitePast();     // InfinitePast: unknown
  absl::Time expires_at = absl::InfiniteFuture();  // InfiniteFuture: unknown
};

// An access token, and how to get a new one (TikTok and Google refresh with the refresh token;
// Meta exchanges the current token, which it refuses once it has expired, so Meta's is renewed
// ahead of its expiry). Thread-safe: a renewal, which calls the platform, never blocks
// Current().
class TokenSource {
 public:
  // The new grant, from the current one.
  using Renew = std::function<absl::StatusOr<Grant>(const Grant& current)>;

  // Where renewed grants are kept, so that a restart and every replica use the newest
  // (TokenVault keeps them in the database, sealed).
  class Store {
   public:
    virtual ~Store() = default;
    // The grant stored from the same configured credentials, if any.
    virtual absl::StatusOr<std::optional<Grant>> Load() = 0;
    // Under a lock every replica shares: when the stored access token is still `seen`,
    // `renew` of the stored grant, stored; otherwise the stored grant (another replica has
    // renewed it already).
    virtual absl::StatusOr<Grant> RenewLocked(const std::string& seen, const Renew& renew) = 0;
  };

  // `renew_ahead`: renew once less than this fraction of a grant's lifetime is left, or at
  // once when it was never renewed here (its expiry is unknown; a renewal that states none
  // means it does not expire) (RenewIfExpiring); 0: only when the platform says the token
  // expired.
  TokenSource(std::string platform, std::string access_token, std::string refresh_token,
              Renew renew, double renew_ahead = 0);

  // Keeps renewed grants in `store` from now on, starting from the one it holds (if any).
  absl::Status UseStore(std::unique_ptr<Store> store);

  std::string Current() const;
  Grant CurrentGrant() const;
  // A token newer than `seen`: renewed now, unless another call (or replica) already did. A
  // refusal is PERMISSION_DENIED saying what to do (it never carries a token); a token
  // endpoint that is down or busy answers UNAVAILABLE or RESOURCE_EXHAUSTED, retried like any
  // other call.
  absl::StatusOr<std::string> RenewAfter(const std::string& seen);
  // Renews ahead of expiry (see renew_ahead): OK when nothing was due or the renewal worked.
  absl::Status RenewIfExpiring(absl::Time now);
  const std::string& platform() const { return platform_; }

 private:
  bool Expiring(const Grant& grant, absl::Time now) const;

  const std::string platform_;
  const Renew renew_;
  const double renew_ahead_;
  std::mutex renew_mutex_;    // one renewal at a time, held across the platform's call
  mutable std::mutex mutex_;  // the grant, held only to read or replace it
  Grant grant_;
  std::unique_ptr<Store> store_;
};

// Stamps `grant` as issued at `asked` (when the renewal was asked for), expiring after the
// answer's expires_in seconds when it gives them (a token endpoint's or Meta's exchange).
void SetLifetime(Grant& grant, absl::Time asked, const nlohmann::json& answer);

// An OAuth 2 refresh (grant_type=refresh_token, form-encoded, with the app's `client` fields)
// at `url`, named `endpoint` in errors. A rotated refresh token in the answer replaces the old,
// and expires_in sets the expiry.
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
