#include "common/config/config.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cf {

absl::StatusOr<Config> Config::FromArgs(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::StartsWith(arg, "--") || arg.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "': flags are --name=value"));
    }
    arg.remove_prefix(2);
    size_t eq = arg.find('=');
    flags[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
  }
  return Config(std::move(flags));
}

std::string Config::EnvName(absl::string_view name) {
  return absl::StrCat("CF_", absl::AsciiStrToUpper(name));
}

std::optional<std::string> Config::Get(absl::string_view name) const {
  auto it = flags_.find(std::string(name));
  if (it != flags_.end()) return it->second;
  const char* env = std::getenv(EnvName(name).c_str());
  if (env != nullptr && *env != '\0') return std::string(env);
  return std::nullopt;
}

std::string Config::GetOr(absl::string_view name, absl::string_view fallback) const {
  auto value = Get(name);
  return value.has_value() ? *value : std::string(fallback);
}

absl::StatusOr<std::string> Config::Require(absl::string_view name) const {
  auto value = Get(name);
  if (value.has_value()) return *value;
  return absl::FailedPreconditionError(absl::StrCat("missing required configuration: set ",
                                                    EnvName(name), " or pass --", name, "=..."));
}

absl::StatusOr<int> Config::GetInt(absl::string_view name, int fallback, int min, int max) const {
  auto value = Get(name);
  if (!value.has_value()) return fallback;
  int parsed = 0;
  if (!absl::SimpleAtoi(*value, &parsed) || parsed < min || parsed > max) {
    return absl::InvalidArgumentError(absl::StrCat("configuration ", name, "='", *value,
                                                   "' must be an integer from ", min, " to ", max));
  }
  return parsed;
}

}  // namespace cf
