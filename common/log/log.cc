#include "common/log/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cf {
namespace {

std::mutex& LogMutex() {
  static std::mutex mutex;
  return mutex;
}

std::string& ServiceName() {
  static std::string name = "cf";
  return name;
}

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

std::string LogField::FormatNumber(double number) { return absl::StrFormat("%.6g", number); }

void SetLogService(std::string service) {
  std::lock_guard<std::mutex> lock(LogMutex());
  ServiceName() = std::move(service);
}

std::string JsonEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string FormatLogLine(absl::string_view time, LogLevel level, absl::string_view message,
                          const std::vector<LogField>& fields) {
  std::string line =
      absl::StrCat("{\"time\":\"", time, "\",\"level\":\"", LevelName(level), "\",\"service\":\"",
                   JsonEscape(ServiceName()), "\",\"msg\":\"", JsonEscape(message), "\"");
  for (const LogField& field : fields) {
    absl::StrAppend(&line, ",\"", JsonEscape(field.key), "\":");
    if (field.is_number) {
      absl::StrAppend(&line, field.value);
    } else {
      absl::StrAppend(&line, "\"", JsonEscape(field.value), "\"");
    }
  }
  line += "}";
  return line;
}

void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields) {
  std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::lock_guard<std::mutex> lock(LogMutex());
  std::string line = FormatLogLine(time, level, message, fields);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace cf
