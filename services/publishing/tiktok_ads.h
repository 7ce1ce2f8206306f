// Promotion on TikTok: a Spark Ad through the Marketing API (business-api.tiktok.com): a
// campaign, an ad group that carries the daily budget (at least 20 a day in the ad account's
// currency), and an ad that points at the posted video under the creator's identity. Each id
// is recorded as soon as it exists, so a retried start continues; a lost answer to the ad group
// is looked up (adgroup/get) before one is made again. (The API has no lookup for ads: a lost
// answer to the ad makes a second ad in the same ad group, which shares its budget.)
#ifndef CF_SERVICES_PUBLISHING_TIKTOK_ADS_H_
#define CF_SERVICES_PUBLISHING_TIKTOK_ADS_H_

#include <memory>
#include <string>

#include "services/publishing/api_support.h"
#include "services/publishing/platform_api.h"

namespace cf::publishing {

struct TikTokAdsConfig {
  std::string base_url = "https://business-api.tiktok.com/open_api/v1.3";
  std::string advertiser_id;
  std::string identity_id;  // the creator's TikTok identity the ad runs under
  absl::Duration timeout = absl::Seconds(30);
};

class TikTokSparkAds final : public PromotionApi {
 public:
  // Marketing API tokens are long-lived and not refreshed: `tokens` has no renewal.
  TikTokSparkAds(TikTokAdsConfig config, std::shared_ptr<TokenSource> tokens)
      : config_(std::move(config)), tokens_(std::move(tokens)) {}

  int64_t MinimumDailyBudgetCents() const override { return 2000; }
  absl::Status Start(const std::string& post_id, int64_t daily_budget_cents, absl::Time ends_at,
                     std::string* handle,
                     const std::function<absl::Status(const std::string&)>& record) override;
  absl::Status Stop(const std::string& handle) override;

 private:
  // POSTs (or GETs, with `query`) and returns `data`, or the status the answer's code means.
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path,
                                      const nlohmann::json& body, const std::string& query = "");

  TikTokAdsConfig config_;
  std::shared_ptr<TokenSource> tokens_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_TIKTOK_ADS_H_
