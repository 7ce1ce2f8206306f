#include "services/publishing/affiliate.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/http/http_client.h"
#include "services/publishing/api_support.h"

namespace cf::publishing {

bool IsMoney(const std::string& text) {
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string cents = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 8 || (dot != std::string::npos && cents.empty()) ||
      cents.size() > 2) {
    return false;
  }
  for (char c : whole + cents) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int64_t CentsOf(const std::string& text) {
  if (!IsMoney(text)) return -1;
  const size_t dot = text.find('.');
  std::string cents = dot == std::string::npos ? "" : text.substr(dot + 1);
  cents.resize(2, '0');
  return std::stoll(text.substr(0, dot)) * 100 + std::stoll(cents);
}

std::string MoneyText(int64_t cents) {
  return absl::StrFormat("%d.%02d", cents / 100, cents % 100);
}

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
