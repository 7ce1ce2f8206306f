// The control API's fault rules: "make the next N calls of this operation fail this way", or
// "each call with probability p", drawn from a generator seeded by the rules' `seed` so a test
// replays the same failures.
#ifndef CF_SERVICES_SANDBOX_FAULTS_H_
#define CF_SERVICES_SANDBOX_FAULTS_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace cf::sandbox {

// kEmptyAnswer: the call goes through and answers 200 with an empty JSON object, as an answer
// missing the fields its documentation promises (a container status without status_code).
// kGraphError: a Graph API error body with the rule's code, subcode and is_transient, nothing
// done (Instagram and Facebook only): Meta's errors are read by code and subcode.
enum class FaultKind {
  kError500,
  kError503,
  kRateLimit,
  kTokenExpired,
  kSlow,
  kLostAnswer,
  kEmptyAnswer,
  kGraphError
};

struct Fault {
  FaultKind kind = FaultKind::kError500;
  absl::Duration delay;  // slow
  // graph_error: Meta's code, error_subcode (0: none), is_transient, and the HTTP status.
  int code = 0;
  int subcode = 0;
  bool transient = false;
  int http_status = 400;
};

struct FaultRule {
  std::string platform;  // tiktok, tiktok_ads, instagram, facebook, meta, youtube, google
  std::string operation;
  Fault fault;
  int64_t times = 0;  // calls left to fail; -1: by probability instead
  double probability = 0;
};

// OK when `platform` has `operation` (README.md's list); INVALID_ARGUMENT naming the choices.
absl::Status CheckOperation(const std::string& platform, const std::string& operation);

class Faults {
 public:
  // Adds the rules of a control API body {"faults": [...], "seed": N}. Nothing is added when
  // any rule is invalid (INVALID_ARGUMENT saying which). A rule with neither `times` nor
  // `probability` fails the next call once.
  absl::Status Add(const nlohmann::json& body);
  void Clear();
  // The rules now in force, as the control API shows them.
  nlohmann::json ToJson();

  // The fault the next call of (platform, operation) meets, if any; a `times` rule is used up
  // by it. The first matching rule that fires wins.
  std::optional<Fault> Take(const std::string& platform, const std::string& operation);

 private:
  std::mutex mutex_;
  std::vector<FaultRule> rules_;
  std::mt19937_64 random_{0};
};

std::string FaultKindName(FaultKind kind);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_FAULTS_H_
