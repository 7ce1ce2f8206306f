#include "common/db/values.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cf::db {

std::string MicrosOf(const std::string& column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* timestamp) {
  timestamp->set_seconds(micros / 1000000);
  timestamp->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
}

std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  quoted.reserve(items.size());
  for (const std::string& item : items) {
    std::string escaped;
    for (char c : item) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    quoted.push_back(absl::StrCat("\"", escaped, "\""));
  }
  return absl::StrCat("{", absl::StrJoin(quoted, ","), "}");
}

std::vector<std::string> ReadTextArray(const pqxx::field& field) {
  if (field.is_null()) return {};
  return ParseTextArray(field.c_str());
}

std::vector<std::string> ParseTextArray(const char* text) {
  std::vector<std::string> out;
  pqxx::array_parser parser(text);
  for (;;) {
    auto [juncture, value] = parser.get_next();
    if (juncture == pqxx::array_parser::done) break;
    if (juncture == pqxx::array_parser::string_value) out.push_back(value);
  }
  return out;
}

}  // namespace cf::db
