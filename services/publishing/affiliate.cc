#include "services/publishing/affiliate.h"

#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "common/money/money.h"
#include "services/publishing/api_support.h"

namespace cf::publishing {

absl::StatusOr<AffiliateFigures> AffiliateReport::For(const std::string& platform,
                                                      const std::string& post_id) {
  if (url_.empty()) return AffiliateFigures{};
  http::Request request;
  request.url = absl::StrCat(url_, url_.find('?') == std::string::npos ? "?" : "&",
                             FormEncode({{"platform", platform}, {"post_id", post_id}}));
  request.timeout = timeout_;
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  absl::Status answered = http::StatusOf(*response, "the affiliate report");
  if (!answered.ok()) return answered;
  nlohmann::json body = JsonOf(response->body);
  AffiliateFigures figures;
  figures.clicks = CountAt(body, "clicks");
  figures.conversions = CountAt(body, "conversions");
  figures.spend = TextAt(body, "spend");
  if (figures.clicks < 0 || figures.conversions < 0 || !IsMoney(figures.spend)) {
    return absl::UnavailableError(
        "the affiliate report answered without clicks, conversions and a decimal spend");
  }
  return figures;
}

}  // namespace cf::publishing
