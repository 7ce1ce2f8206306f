// Structured logs: one JSON object per line on stderr.
#ifndef CF_COMMON_LOG_LOG_H_
#define CF_COMMON_LOG_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace cf {

enum class LogLevel { kInfo, kWarning, kError };

// A field whose value is written as a JSON string, or as a raw number when `number` is set.
struct LogField {
  LogField(std::string key, std::string value) : key(std::move(key)), value(std::move(value)) {}
  LogField(std::string key, const char* value) : key(std::move(key)), value(value) {}
  LogField(std::string key, double number)
      : key(std::move(key)), value(FormatNumber(number)), is_number(true) {}
  LogField(std::string key, int number) : LogField(std::move(key), static_cast<double>(number)) {}
  LogField(std::string key, long number) : LogField(std::move(key), static_cast<double>(number)) {}
  static std::string FormatNumber(double number);
  std::string key;
  std::string value;
  bool is_number = false;
};

// Sets the "service" field of every line this process writes (once, at start).
void SetLogService(std::string service);

// Writes {"time":..., "level":..., "service":..., "msg":..., <fields>} as one line.
void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields = {});

// The JSON line Log writes, without the time (for tests).
std::string FormatLogLine(absl::string_view time, LogLevel level, absl::string_view message,
                          const std::vector<LogField>& fields);

std::string JsonEscape(absl::string_view text);

}  // namespace cf

#endif  // CF_COMMON_LOG_LOG_H_
