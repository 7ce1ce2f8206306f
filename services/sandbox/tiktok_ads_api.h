// TikTok's Marketing API under /tiktok-business/open_api/v1.3 (README.md, "TikTok Marketing
// API"): the Spark Ads that promote a posted TikTok video. A campaign, an ad group that carries
// the daily budget, an ad that points at the post; the post's promotion (paid views at --cpm,
// spend in the affiliate report) follows the enabled ad groups of its ads.
#ifndef CF_SERVICES_SANDBOX_TIKTOK_ADS_API_H_
#define CF_SERVICES_SANDBOX_TIKTOK_ADS_API_H_

#include <httplib.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/sandbox/api_support.h"

namespace cf::sandbox {

void RegisterTikTokAds(httplib::Server& server, Env& env);

// The one advertiser the sandbox has (currency USD).
inline constexpr char kAdvertiserId[] = "7000000000000000001";
// The smallest daily budget of an ad group, in cents.
inline constexpr int64_t kMinDailyBudgetCents = 2000;
// Calls per second per advertiser, over all the Marketing API's calls (scaled by --rate_scale).
inline constexpr int64_t kAdsCallsPerSecond = 10;

// The text of a JSON number exactly as the body spells it, for member `name` of the top-level
// object ("25.0", "20", "2.5e1"); nullopt when the body is not an object, the member is absent
// or is not a number. Read this way because a double cannot hold 19.99 exactly.
std::optional<std::string> RawNumberMember(const std::string& body, const std::string& name);

// A JSON number's text as whole cents, exactly: "25" and "25.0" and "2.5e1" are 2500, "19.99"
// is 1999; INVALID_ARGUMENT when it has more than two decimals (after trailing zeros) or is
// negative or too large.
absl::StatusOr<int64_t> ExactCents(const std::string& number);

// The daily budget, in cents, that each promoted post gets from the ads: an enabled ad group's
// budget is shared evenly (in whole cents, the first posts taking the odd cents) among the
// distinct posts its ads point at; a post in several enabled ad groups gets the sum. Every post
// that any ad points at is present, at 0 when none of its ad groups is enabled.
std::map<std::string, int64_t> PromotionBudgets(const State& state);
// When each promoted post's spending ends by itself: the latest scheduled end of its enabled
// ad groups (ms), 0 when one of them has none (SCHEDULE_FROM_NOW).
std::map<std::string, int64_t> PromotionEnds(const State& state);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_TIKTOK_ADS_API_H_
