#include "common/db/conninfo.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace cf::db {
namespace {

bool IsUri(const std::string& conninfo) {
  return absl::StartsWith(conninfo, "postgresql://") || absl::StartsWith(conninfo, "postgres://");
}

// Whether `conninfo` already sets `key` (as "key=" in either form).
bool Names(const std::string& conninfo, const std::string& key) {
  const std::string needle = key + "=";
  for (size_t at = conninfo.find(needle); at != std::string::npos;
       at = conninfo.find(needle, at + 1)) {
    if (at == 0) return true;
    char before = conninfo[at - 1];
    if (before == ' ' || before == '?' || before == '&') return true;
  }
  return false;
}

// Appends key=value to `conninfo` (in its own form) unless `original` sets the key already.
void AddSetting(const std::string& original, const std::string& key, const std::string& value,
                std::string* conninfo) {
  if (Names(original, key)) return;
  if (IsUri(original)) {
    absl::StrAppend(conninfo, conninfo->find('?') == std::string::npos ? "?" : "&", key, "=",
                    value);
  } else {
    absl::StrAppend(conninfo, conninfo->empty() ? "" : " ", key, "=", value);
  }
}

}  // namespace

std::string WithApplicationName(const std::string& conninfo, const std::string& name) {
  std::string result = conninfo;
  AddSetting(conninfo, "application_name", name, &result);
  return result;
}

std::string WithLimits(const std::string& conninfo, const ConnectionLimits& limits) {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"connect_timeout",
       absl::StrCat(std::max<int64_t>(2, absl::ToInt64Seconds(limits.connect_timeout)))},
      {"keepalives", "1"},
      {"keepalives_idle", absl::StrCat(absl::ToInt64Seconds(limits.keepalive_idle))},
      {"keepalives_interval", absl::StrCat(absl::ToInt64Seconds(limits.keepalive_interval))},
      {"keepalives_count", absl::StrCat(limits.keepalive_count)},
  };
  std::string result = conninfo;
  const bool uri = IsUri(conninfo);
  auto add = [&](const std::string& key, const std::string& value) {
    AddSetting(conninfo, key, value, &result);
  };
  for (const auto& [key, value] : settings) add(key, value);
  // The timeouts travel as server options; in a URI, spaces and '=' are escaped.
  if (!Names(conninfo, "options")) {
    std::string options =
        absl::StrCat("-c statement_timeout=", absl::ToInt64Milliseconds(limits.statement_timeout),
                     " -c idle_in_transaction_session_timeout=",
                     absl::ToInt64Milliseconds(limits.idle_in_transaction_timeout));
    if (uri) {
      absl::StrReplaceAll({{" ", "%20"}, {"=", "%3D"}}, &options);
      add("options", options);
    } else {
      add("options", absl::StrCat("'", options, "'"));
    }
  }
  return result;
}

}  // namespace cf::db
