#include "services/sandbox/faults.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cf::sandbox {
namespace {

const std::map<std::string, std::vector<std::string>>& Operations() {
  static const auto* operations = new std::map<std::string, std::vector<std::string>>{
      {"tiktok", {"creator_info", "init", "upload", "status", "video_query", "token"}},
      {"tiktok_ads", {"campaign", "adgroup", "ad", "status", "get"}},
      {"instagram", {"create_container", "container_status", "publish", "list_media", "insights"}},
      {"facebook", {"start", "transfer", "finish", "video_status", "insights"}},
      {"meta", {"token"}},
      {"youtube", {"insert", "upload", "status", "videos_list"}},
      {"google", {"token"}},
  };
  return *operations;
}

const std::vector<std::pair<std::string, FaultKind>>& Kinds() {
  static const auto* kinds = new std::vector<std::pair<std::string, FaultKind>>{
      {"error_500", FaultKind::kError500},
      {"error_503", FaultKind::kError503},
      {"rate_limit", FaultKind::kRateLimit},
      {"token_expired", FaultKind::kTokenExpired},
      {"slow", FaultKind::kSlow},
      {"lost_answer", FaultKind::kLostAnswer},
      {"empty_answer", FaultKind::kEmptyAnswer},
      {"graph_error", FaultKind::kGraphError},
  };
  return *kinds;
}

std::string Text(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

absl::Status ParseRule(const nlohmann::json& json, size_t index, FaultRule* rule) {
  const std::string where = absl::StrCat("faults[", index, "]");
  if (!json.is_object()) return absl::InvalidArgumentError(where + " must be an object");
  rule->platform = Text(json, "platform");
  rule->operation = Text(json, "operation");
  absl::Status operation = CheckOperation(rule->platform, rule->operation);
  if (!operation.ok())
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", operation.message()));
  const std::string kind = Text(json, "kind");
  bool known = false;
  std::vector<std::string> names;
  for (const auto& [name, value] : Kinds()) {
    names.push_back(name);
    if (name == kind) {
      rule->fault.kind = value;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".kind '", kind, "' is not one of ", absl::StrJoin(names, ", ")));
  }
  auto times = json.find("times");
  auto probability = json.find("probability");
  if (times != json.end() && probability != json.end()) {
    return absl::InvalidArgumentError(where + " has both times and probability: choose one");
  }
  if (probability != json.end()) {
    if (!probability->is_number() || probability->get<double>() < 0 ||
        probability->get<double>() > 1) {
      return absl::InvalidArgumentError(where + ".probability must be a number from 0 to 1");
    }
    rule->times = -1;
    rule->probability = probability->get<double>();
  } else if (times != json.end()) {
    if (!times->is_number_integer() || times->get<int64_t>() < 1) {
      return absl::InvalidArgumentError(where + ".times must be an integer >= 1");
    }
    rule->times = times->get<int64_t>();
  } else {
    rule->times = 1;
  }
  if (rule->fault.kind == FaultKind::kGraphError) {
    if (rule->platform != "instagram" && rule->platform != "facebook") {
      return absl::InvalidArgumentError(where + ": a graph_error is for instagram or facebook");
    }
    auto code = json.find("code");
    if (code == json.end() || !code->is_number_integer()) {
      return absl::InvalidArgumentError(where + ": a graph_error needs an integer code");
    }
    rule->fault.code = code->get<int>();
    auto subcode = json.find("subcode");
    if (subcode != json.end()) {
      if (!subcode->is_number_integer() || subcode->get<int64_t>() < 0) {
        return absl::InvalidArgumentError(where + ".subcode must be an integer >= 0");
      }
      rule->fault.subcode = subcode->get<int>();
    }
    auto transient = json.find("is_transient");
    if (transient != json.end()) {
      if (!transient->is_boolean()) {
        return absl::InvalidArgumentError(where + ".is_transient must be true or false");
      }
      rule->fault.transient = transient->get<bool>();
    }
    auto status = json.find("status");
    if (status != json.end()) {
      if (!status->is_number_integer() || status->get<int>() < 400 || status->get<int>() > 599) {
        return absl::InvalidArgumentError(where + ".status must be an HTTP error status");
      }
      rule->fault.http_status = status->get<int>();
    }
  }
  auto delay = json.find("delay_ms");
  if (delay != json.end()) {
    if (!delay->is_number_integer() || delay->get<int64_t>() < 0 ||
        delay->get<int64_t>() > 600000) {
      return absl::InvalidArgumentError(where + ".delay_ms must be an integer from 0 to 600000");
    }
    rule->fault.delay = absl::Milliseconds(delay->get<int64_t>());
  } else if (rule->fault.kind == FaultKind::kSlow) {
    return absl::InvalidArgumentError(where + ": a slow fault needs delay_ms");
  }
  return absl::OkStatus();
}

}  // namespace

std::string FaultKindName(FaultKind kind) {
  for (const auto& [name, value] : Kinds()) {
    if (value == kind) return name;
  }
  return "";
}

absl::Status CheckOperation(const std::string& platform, const std::string& operation) {
  auto it = Operations().find(platform);
  if (it == Operations().end()) {
    std::vector<std::string> platforms;
    for (const auto& [name, unused] : Operations()) platforms.push_back(name);
    return absl::InvalidArgumentError(
        absl::StrCat("platform '", platform, "' is not one of ", absl::StrJoin(platforms, ", ")));
  }
  for (const std::string& known : it->second) {
    if (known == operation) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("operation '", operation, "' of ", platform,
                                                 " is not one of ",
                                                 absl::StrJoin(it->second, ", ")));
}

absl::Status Faults::Add(const nlohmann::json& body) {
  if (!body.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  auto list = body.find("faults");
  if (list == body.end() || !list->is_array()) {
    return absl::InvalidArgumentError("faults must be an array of rules");
  }
  std::vector<FaultRule> added;
  for (size_t i = 0; i < list->size(); ++i) {
    FaultRule rule;
    absl::Status parsed = ParseRule((*list)[i], i, &rule);
    if (!parsed.ok()) return parsed;
    added.push_back(rule);
  }
  auto seed = body.find("seed");
  if (seed != body.end() && !seed->is_number_integer()) {
    return absl::InvalidArgumentError("seed must be an integer");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (seed != body.end()) random_.seed(static_cast<uint64_t>(seed->get<int64_t>()));
  rules_.insert(rules_.end(), added.begin(), added.end());
  return absl::OkStatus();
}

void Faults::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.clear();
}

nlohmann::json Faults::ToJson() {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json rules = nlohmann::json::array();
  for (const FaultRule& rule : rules_) {
    nlohmann::json json = {{"platform", rule.platform},
                           {"operation", rule.operation},
                           {"kind", FaultKindName(rule.fault.kind)},
                           {"delay_ms", absl::ToInt64Milliseconds(rule.fault.delay)}};
    if (rule.times >= 0) {
      json["times"] = rule.times;
    } else {
      json["probability"] = rule.probability;
    }
    rules.push_back(json);
  }
  return {{"faults", rules}};
}

std::optional<Fault> Faults::Take(const std::string& platform, const std::string& operation) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (it->platform != platform || it->operation != operation) continue;
    if (it->times < 0) {
      // One draw per matching rule and call, so a seed replays the same sequence.
      const double draw = static_cast<double>(random_() >> 11) * 0x1.0p-53;  // [0, 1)
      if (draw >= it->probability) continue;
      return it->fault;
    }
    Fault fault = it->fault;
    if (--it->times == 0) rules_.erase(it);
    return fault;
  }
  return std::nullopt;
}

}  // namespace cf::sandbox
