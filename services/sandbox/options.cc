#include "services/sandbox/options.h"

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cf::sandbox {
namespace {

absl::Status Bad(const std::string& name, const std::string& value, const std::string& want) {
  return absl::InvalidArgumentError(absl::StrCat("--", name, "='", value, "' must be ", want));
}

}  // namespace

absl::StatusOr<int64_t> ParseCents(const std::string& amount) {
  const std::string text(absl::StripAsciiWhitespace(amount));
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  int64_t units = 0;
  int64_t cents = 0;
  const bool digits_only = !whole.empty() && absl::c_all_of(whole, absl::ascii_isdigit) &&
                           absl::c_all_of(fraction, absl::ascii_isdigit);
  if (!digits_only || fraction.size() > 2 || whole.size() > 12 ||
      !absl::SimpleAtoi(whole, &units)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", amount, "' is not an amount such as 10.00"));
  }
  fraction.resize(2, '0');
  absl::SimpleAtoi(fraction, &cents);
  return units * 100 + cents;
}

std::string FormatCents(int64_t cents) {
  return absl::StrFormat("%d.%02d", cents / 100, cents % 100);
}

absl::StatusOr<std::map<std::string, std::string>> ParseFlagMap(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    arg = arg.substr(2);
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", arg, " needs a value"));
    }
  }
  return flags;
}

absl::Status ParseListen(const std::string& value, std::string* host, int* port) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(value.substr(colon + 1), port) || *port < 0 || *port > 65535) {
    return Bad("listen", value, "host:port");
  }
  *host = value.substr(0, colon);
  return absl::OkStatus();
}

absl::StatusOr<Options> ParseFlags(int argc, char** argv) {
  absl::StatusOr<std::map<std::string, std::string>> flags = ParseFlagMap(argc, argv);
  if (!flags.ok()) return flags.status();
  Options options;
  for (const auto& [name, value] : *flags) {
    if (name == "listen") {
      absl::Status listen = ParseListen(value, &options.host, &options.port);
      if (!listen.ok()) return listen;
    } else if (name == "data_dir") {
      if (value.empty()) return Bad(name, value, "a folder");
      options.data_dir = value;
    } else if (name == "rate_scale") {
      if (!absl::SimpleAtod(value, &options.rate_scale) || options.rate_scale < 0) {
        return Bad(name, value, "a number >= 0");
      }
    } else if (name == "processing_ms" || name == "post_id_delay_ms") {
      int64_t ms = 0;
      if (!absl::SimpleAtoi(value, &ms) || ms < 0) return Bad(name, value, "milliseconds >= 0");
      (name == "processing_ms" ? options.processing_ms : options.post_id_delay_ms) = ms;
    } else if (name == "day_seconds") {
      if (!absl::SimpleAtod(value, &options.day_seconds) || !(options.day_seconds > 0)) {
        return Bad(name, value, "seconds > 0");
      }
    } else if (name == "cpm") {
      absl::StatusOr<int64_t> cents = ParseCents(value);
      if (!cents.ok() || *cents <= 0) return Bad(name, value, "an amount > 0 such as 10.00");
      options.cpm_cents = *cents;
    } else if (name == "tiktok_audited") {
      if (value != "true" && value != "false") return Bad(name, value, "true or false");
      options.tiktok_audited = value == "true";
    } else if (name == "truth_required") {
      if (value != "true" && value != "false") return Bad(name, value, "true or false");
      options.truth_required = value == "true";
    } else if (name == "truth_noise") {
      if (!absl::SimpleAtod(value, &options.truth_noise) || !(options.truth_noise >= 0) ||
          options.truth_noise > 2) {
        return Bad(name, value, "a number from 0 to 2");
      }
    } else if (name == "media_fetch_timeout_s") {
      if (!absl::SimpleAtoi(value, &options.media_fetch_timeout_s) ||
          options.media_fetch_timeout_s < 1) {
        return Bad(name, value, "seconds >= 1");
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  return options;
}

}  // namespace cf::sandbox
