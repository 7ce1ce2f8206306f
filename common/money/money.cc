#include "common/money/money.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace cf {

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
  const char* sign = cents < 0 ? "-" : "";
  const int64_t magnitude = cents < 0 ? -cents : cents;
  return absl::StrFormat("%s%d.%02d", sign, magnitude / 100, magnitude % 100);
}

}  // namespace cf
