#include "common/config/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

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

absl::StatusOr<bool> Config::GetBool(absl::string_view name, bool fallback) const {
  auto value = Get(name);
  if (!value.has_value()) return fallback;
  if (*value == "true") return true;
  if (*value == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("configuration ", name, "='", *value, "' must be true or false"));
}

absl::StatusOr<std::optional<std::string>> Config::GetSecret(absl::string_view name) const {
  if (flags_.count(std::string(name)) > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " is a secret and is not taken as a flag: set ", EnvName(name),
                     " or ", EnvName(name), "_FILE (a file holding it)"));
  }
  return SecretFromEnvironment(name);
}

absl::StatusOr<std::optional<std::string>> Config::SecretFromEnvironment(absl::string_view name) {
  const char* value = std::getenv(EnvName(name).c_str());
  if (value != nullptr && *value != '\0') return std::optional<std::string>(value);
  const std::string file_variable = EnvName(name) + "_FILE";
  const char* path = std::getenv(file_variable.c_str());
  if (path == nullptr || *path == '\0') return std::optional<std::string>();
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", file_variable, " (", path, ")"));
  }
  std::stringstream content;
  content << file.rdbuf();
  std::string secret = content.str();
  if (absl::EndsWith(secret, "\n")) secret.pop_back();
  if (absl::EndsWith(secret, "\r")) secret.pop_back();
  if (secret.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(file_variable, " names an empty file"));
  }
  return std::optional<std::string>(secret);
}

absl::StatusOr<std::string> Config::RequireSecret(absl::string_view name) const {
  return Required(name, GetSecret(name));
}

absl::StatusOr<std::string> Config::Required(absl::string_view name,
                                             absl::StatusOr<std::optional<std::string>> secret) {
  if (!secret.ok()) return secret.status();
  if (secret->has_value()) return **secret;
  return absl::FailedPreconditionError(absl::StrCat("missing required configuration: set ",
                                                    EnvName(name), " or ", EnvName(name), "_FILE"));
}

namespace {

// "password=..." in key=value form, or "user:password@" in a URI.
bool CarriesPassword(const std::string& url) {
  if (url.find("password=") != std::string::npos) return true;
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  size_t at = url.find('@', scheme);
  size_t colon = url.find(':', scheme + 3);
  return at != std::string::npos && colon != std::string::npos && colon < at;
}

}  // namespace

absl::StatusOr<std::string> Config::RequireDatabaseUrl(absl::string_view name) const {
  auto flag = flags_.find(std::string(name));
  if (flag != flags_.end()) {
    if (CarriesPassword(flag->second)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name,
                       " carries a password, which a flag would show to every user of the "
                       "machine: set ",
                       EnvName(name), " or ", EnvName(name), "_FILE instead"));
    }
    return flag->second;
  }
  return Required(name, SecretFromEnvironment(name));
}

}  // namespace cf
