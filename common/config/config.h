// Configuration from the environment (CF_<NAME>) with command-line flags (--<name>=value) taking
// precedence. Names are lowercase with underscores: "database_url" reads --database_url and
// CF_DATABASE_URL.
#ifndef CF_COMMON_CONFIG_CONFIG_H_
#define CF_COMMON_CONFIG_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cf {

class Config {
 public:
  // Parses --name=value flags; anything else is an error (a typo must not pass silently).
  static absl::StatusOr<Config> FromArgs(int argc, char** argv);
  // For tests and embedding: explicit flags, the environment still consulted.
  explicit Config(std::map<std::string, std::string> flags = {}) : flags_(std::move(flags)) {}

  std::optional<std::string> Get(absl::string_view name) const;
  std::string GetOr(absl::string_view name, absl::string_view fallback) const;
  // FAILED_PRECONDITION naming both the flag and the variable when missing.
  absl::StatusOr<std::string> Require(absl::string_view name) const;
  // INVALID_ARGUMENT when present but not an integer in [min, max].
  absl::StatusOr<int> GetInt(absl::string_view name, int fallback, int min, int max) const;
  // "true" or "false" (INVALID_ARGUMENT naming the setting otherwise).
  absl::StatusOr<bool> GetBool(absl::string_view name, bool fallback) const;

  // A secret (an API key, a token): from CF_<NAME>, or from the file CF_<NAME>_FILE names (a
  // mounted Kubernetes Secret; one trailing newline dropped). Never from a flag, which would
  // show in `ps` and in logs: a flag for it is an error. nullopt when not set.
  absl::StatusOr<std::optional<std::string>> GetSecret(absl::string_view name) const;
  // The same, FAILED_PRECONDITION when not set.
  absl::StatusOr<std::string> RequireSecret(absl::string_view name) const;
  // The database URL: a secret when it carries a password (env or _FILE only); without one it
  // may also come from --database_url.
  absl::StatusOr<std::string> RequireDatabaseUrl(absl::string_view name = "database_url") const;

  static std::string EnvName(absl::string_view name);

 private:
  // CF_<NAME>, else the contents of the file CF_<NAME>_FILE names.
  static absl::StatusOr<std::optional<std::string>> SecretFromEnvironment(absl::string_view name);
  // The secret, or FAILED_PRECONDITION saying how to set it.
  static absl::StatusOr<std::string> Required(absl::string_view name,
                                              absl::StatusOr<std::optional<std::string>> secret);

  std::map<std::string, std::string> flags_;
};

}  // namespace cf

#endif  // CF_COMMON_CONFIG_CONFIG_H_
