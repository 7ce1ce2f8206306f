// Sliding-window rate limits with the platforms' real numbers, multiplied by --rate_scale.
// A call that is refused is not counted; the answer says when to come back (Retry-After).
#ifndef CF_SERVICES_SANDBOX_RATE_LIMITER_H_
#define CF_SERVICES_SANDBOX_RATE_LIMITER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"

namespace cf::sandbox {

class RateLimiter {
 public:
  // `scale` multiplies every limit (at least 1 call stays allowed); 0 turns limits off.
  explicit RateLimiter(double scale) : scale_(scale) {}

  // Takes `cost` units of `key`'s budget of `limit` per `window` at `now`. nullopt when
  // allowed (and counted); else how long until the call would be allowed (>= 1 s, whole
  // seconds, as Retry-After says it).
  std::optional<absl::Duration> Take(const std::string& key, int64_t limit, absl::Duration window,
                                     absl::Time now, int64_t cost = 1);

  // The limit after scaling.
  int64_t Scaled(int64_t limit) const;

 private:
  struct Window {
    std::deque<std::pair<absl::Time, int64_t>> taken;  // oldest first
    int64_t used = 0;
  };
  const double scale_;
  std::mutex mutex_;
  std::map<std::string, Window> windows_;
};

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_RATE_LIMITER_H_
