#include "services/sandbox/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace cf::sandbox {

int64_t RateLimiter::Scaled(int64_t limit) const {
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(limit * scale_)));
}

std::optional<absl::Duration> RateLimiter::Take(const std::string& key, int64_t limit,
                                                absl::Duration window, absl::Time now,
                                                int64_t cost) {
  if (scale_ <= 0) return std::nullopt;
  const int64_t allowed = Scaled(limit);
  std::lock_guard<std::mutex> lock(mutex_);
  Window& w = windows_[key];
  while (!w.taken.empty() && w.taken.front().first + window <= now) {
    w.used -= w.taken.front().second;
    w.taken.pop_front();
  }
  if (w.used + cost <= allowed) {
    w.taken.emplace_back(now, cost);
    w.used += cost;
    return std::nullopt;
  }
  // Wait until enough of the oldest calls have left the window (all of them when the cost
  // alone exceeds the budget: the window's length then).
  absl::Time free_at = now + window;
  int64_t freed = 0;
  for (const auto& [at, units] : w.taken) {
    freed += units;
    if (w.used - freed + cost <= allowed) {
      free_at = at + window;
      break;
    }
  }
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(free_at - now, absl::Seconds(1))));
  return absl::Seconds(seconds);
}

}  // namespace cf::sandbox
