#include "services/publishing/tiktok_ads.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/status.h"

namespace cf::publishing {
namespace {

// The Marketing API answers HTTP 200 with a code (developers' "Return codes" page).
constexpr int64_t kOk = 0;
constexpr int64_t kNoPermission = 40001;
constexpr int64_t kBadParameter = 40002;
constexpr int64_t kTooManyRequests = 40100;
constexpr int64_t kTokenInvalid = 40105;

absl::Status StatusOfCode(int64_t code, const std::string& message,
                          const http::Response& response) {
  const std::string said =
      absl::StrCat(" (TikTok Ads: code ", code, message.empty() ? "" : ": " + message, ")");
  if (code == kTooManyRequests || response.status == 429) {
    absl::Duration wait = http::RetryAfter(response);
    return WithRetryAfter(absl::ResourceExhaustedError("TikTok Ads' rate limit" + said),
                          wait > absl::ZeroDuration() ? wait : absl::Seconds(10));
  }
  if (code == kTokenInvalid) {
    return absl::PermissionDeniedError(
        "TikTok Ads refused the access token: set a new CF_TIKTOK_ADS_ACCESS_TOKEN" + said);
  }
  if (code == kNoPermission) {
    return absl::PermissionDeniedError("the ad account refused this request" + said);
  }
  if (code == kBadParameter) return absl::FailedPreconditionError("TikTok Ads refused it" + said);
  if (response.status >= 500 || code >= 50000) {
    return absl::UnavailableError("TikTok Ads is unavailable" + said);
  }
  return absl::FailedPreconditionError("TikTok Ads refused it" + said);
}

}  // namespace

absl::StatusOr<nlohmann::json> TikTokSparkAds::Call(const std::string& method,
                                                    const std::string& path,
                                                    const nlohmann::json& body,
                                                    const std::string& query) {
  http::Request request;
  request.method = method;
  request.url = config_.base_url + path + (query.empty() ? "" : "?" + query);
  request.timeout = config_.timeout;
  request.headers = {{"Access-Token", tokens_->Current()}, {"Content-Type", "application/json"}};
  request.secret_headers.push_back("access-token");
  if (method != "GET") request.body = body.dump();
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  const nlohmann::json answer = JsonOf(response->body);
  const int64_t code = CountAt(answer, "code");
  if (response->status == 200 && code == kOk) return ObjectAt(answer, "data");
  if (response->status == 200 && code < 0) {
    return absl::UnavailableError(
        "TikTok Ads answered with a body that is not the documented JSON");
  }
  return StatusOfCode(code, TextAt(answer, "message"), *response);
}

absl::Status TikTokSparkAds::Start(const std::string& post_id, int64_t daily_budget_cents,
                                   absl::Time ends_at, std::string* handle,
                                   const std::function<absl::Status(const std::string&)>& record) {
  nlohmann::json made = JsonOf(*handle);
  if (!made.is_object()) made = nlohmann::json::object();
  auto keep = [&](const char* key, const std::string& id) {
    made[key] = id;
    *handle = made.dump();
    return record(*handle);
  };
  const std::string name = "cf-" + post_id;
  if (TextAt(made, "campaign_id").empty()) {
    absl::StatusOr<nlohmann::json> campaign = Call("POST", "/campaign/create/",
                                                   {{"advertiser_id", config_.advertiser_id},
                                                    {"campaign_name", name},
                                                    {"objective_type", "VIDEO_VIEWS"},
                                                    {"budget_mode", "BUDGET_MODE_INFINITE"}});
    if (!campaign.ok()) return campaign.status();
    const std::string campaign_id = TextAt(*campaign, "campaign_id");
    if (campaign_id.empty()) return absl::UnavailableError("TikTok Ads' answer has no campaign id");
    if (absl::Status kept = keep("campaign_id", campaign_id); !kept.ok()) return kept;
  }
  if (TextAt(made, "adgroup_id").empty()) {
    // An earlier attempt may have made it and lost the answer: look first.
    absl::StatusOr<nlohmann::json> found = Call(
        "GET", "/adgroup/get/", {},
        FormEncode({{"advertiser_id", config_.advertiser_id},
                    {"filtering",
                     nlohmann::json{{"campaign_ids", {TextAt(made, "campaign_id")}}}.dump()}}));
    // A lookup that fails says nothing: making one now could make a second, spending twice.
    if (!found.ok()) return found.status();
    std::string adgroup;
    if (found->contains("list") && (*found)["list"].is_array() && !(*found)["list"].empty()) {
      adgroup = TextAt((*found)["list"][0], "adgroup_id");
    }
    if (adgroup.empty()) {
      const std::string start =
          absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::Now(), absl::UTCTimeZone());
      const std::string end = absl::FormatTime("%Y-%m-%d %H:%M:%S", ends_at, absl::UTCTimeZone());
      absl::StatusOr<nlohmann::json> created =
          Call("POST", "/adgroup/create/",
               {{"advertiser_id", config_.advertiser_id},
                {"campaign_id", TextAt(made, "campaign_id")},
                {"adgroup_name", name},
                {"placement_type", "PLACEMENT_TYPE_NORMAL"},
                {"placements", {"PLACEMENT_TIKTOK"}},
                {"budget_mode", "BUDGET_MODE_DAY"},
                // A JSON number with two decimals, as the API takes it; cents are exact below 2^53.
                {"budget", static_cast<double>(daily_budget_cents) / 100},
                // An end of its own: it never spends on until someone remembers it.
                {"schedule_type", "SCHEDULE_START_END"},
                {"schedule_start_time", start},
                {"schedule_end_time", end},
                {"optimization_goal", "REACH"},
                {"billing_event", "CPM"},
                {"bid_type", "BID_TYPE_NO_BID"}});
      if (!created.ok()) return created.status();
      adgroup = TextAt(*created, "adgroup_id");
    }
    if (absl::Status kept = keep("adgroup_id", adgroup); !kept.ok()) return kept;
  }
  if (TextAt(made, "ad_id").empty()) {
    absl::StatusOr<nlohmann::json> ad = Call("POST", "/ad/create/",
                                             {{"advertiser_id", config_.advertiser_id},
                                              {"adgroup_id", TextAt(made, "adgroup_id")},
                                              {"creatives",
                                               {{{"ad_name", name},
                                                 {"identity_type", "TT_USER"},
                                                 {"identity_id", config_.identity_id},
                                                 {"ad_format", "SINGLE_VIDEO"},
                                                 {"tiktok_item_id", post_id}}}}});
    if (!ad.ok()) return ad.status();
    std::string ad_id;
    auto ids = ad->find("ad_ids");
    if (ids != ad->end() && ids->is_array() && !ids->empty()) {
      ad_id = (*ids)[0].is_string()           ? (*ids)[0].get<std::string>()
              : (*ids)[0].is_number_integer() ? std::to_string((*ids)[0].get<int64_t>())
                                              : "";
    }
    if (ad_id.empty()) return absl::UnavailableError("TikTok Ads' answer has no ad id");
    if (absl::Status kept = keep("ad_id", ad_id); !kept.ok()) return kept;
  }
  return absl::OkStatus();
}

absl::Status TikTokSparkAds::Stop(const std::string& handle) {
  const std::string adgroup = TextAt(JsonOf(handle), "adgroup_id");
  if (adgroup.empty()) return absl::OkStatus();  // nothing spends without an ad group
  return Call("POST", "/adgroup/status/update/",
              {{"advertiser_id", config_.advertiser_id},
               {"adgroup_ids", {adgroup}},
               {"operation_status", "DISABLE"}})
      .status();
}

}  // namespace cf::publishing
