// Money as exact decimal text and whole cents, never binary floating point (DESIGN.md).
#ifndef CF_COMMON_MONEY_MONEY_H_
#define CF_COMMON_MONEY_MONEY_H_

#include <cstdint>
#include <string>

namespace cf {

// True for a non-negative decimal with at most two places and eight whole digits ("12",
// "12.5", "12.50"), which fits the schema's DECIMAL(10,2).
bool IsMoney(const std::string& text);
// Money as whole cents, exactly; -1 when not IsMoney.
int64_t CentsOf(const std::string& text);
// "12.50" for 1250.
std::string MoneyText(int64_t cents);

}  // namespace cf

#endif  // CF_COMMON_MONEY_MONEY_H_
