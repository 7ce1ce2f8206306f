// Clicks, conversions and spend are not platform metrics: they come from the shop or affiliate
// dashboard and the ads account. This reads one report endpoint (CF_AFFILIATE_REPORT_URL; the
// sandbox serves one) for a post's lifetime totals.
#ifndef CF_SERVICES_PUBLISHING_AFFILIATE_H_
#define CF_SERVICES_PUBLISHING_AFFILIATE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/money/money.h"

namespace cf::publishing {

struct AffiliateFigures {
  int64_t clicks = 0;
  int64_t conversions = 0;
  std::string spend = "0.00";  // exact decimal
};

class AffiliateReport {
 public:
  // `url` "" means none is configured: every post has zero clicks, conversions and spend.
  AffiliateReport(std::string url, absl::Duration timeout)
      : url_(std::move(url)), timeout_(timeout) {}
  bool configured() const { return !url_.empty(); }
  absl::StatusOr<AffiliateFigures> For(const std::string& platform, const std::string& post_id);

 private:
  std::string url_;
  absl::Duration timeout_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_AFFILIATE_H_
