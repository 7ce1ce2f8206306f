#include "common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cf {
namespace {

// Set once at start; read by every line without a lock (an older name is never freed).
std::atomic<const std::string*> service_name{new std::string("cf")};

const std::string& ServiceName() { return *service_name.load(std::memory_order_acquire); }

// "2026-11-25T21:03:07.123Z". The part up to the seconds changes once a second, so each thread
// keeps its last one instead of formatting the whole time for every line.
std::string TimeNow() {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached_prefix;
  const absl::Time now = absl::Now();
  const int64_t millis = absl::ToUnixMillis(now);
  const int64_t second = millis / 1000;
  if (second != cached_second) {
    cached_second = second;
    cached_prefix = absl::FormatTime("%Y-%m-%dT%H:%M:%S", now, absl::UTCTimeZone());
  }
  return absl::StrFormat("%s.%03dZ", cached_prefix, static_cast<int>(millis % 1000));
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
  service_name.store(new std::string(std::move(service)), std::memory_order_release);
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
  std::string line = FormatLogLine(TimeNow(), level, message, fields);
  line += '\n';
  // Formatted outside the lock; the lock only keeps a long line (more than a pipe takes at once)
  // from interleaving with others.
  static std::mutex* write_mutex = new std::mutex;
  std::lock_guard<std::mutex> lock(*write_mutex);
  for (size_t written = 0; written < line.size();) {
    ssize_t n = write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to
    written += static_cast<size_t>(n);
  }
}

}  // namespace cf
