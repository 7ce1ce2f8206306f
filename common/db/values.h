// Values passed to and read from libpqxx 6.4 that need care: NULL for empty optional text,
// text[] literals and arrays, and timestamps read as microseconds since the epoch.
#ifndef CF_COMMON_DB_VALUES_H_
#define CF_COMMON_DB_VALUES_H_

#include <google/protobuf/timestamp.pb.h>

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace cf::db {

// NULL (a null pointer parameter) for an empty optional text column.
inline const char* NullIfEmpty(const std::string& value) {
  return value.empty() ? nullptr : value.c_str();
}

// SQL for a timestamptz column as integer microseconds (exact, unlike float seconds).
std::string MicrosOf(const std::string& column);
// Microseconds since the epoch (as MicrosOf selects them) into a protobuf Timestamp.
void SetTimestamp(int64_t micros, google::protobuf::Timestamp* timestamp);

// {"a","b"} with quotes and backslashes escaped; pass it as a parameter cast to text[].
std::string TextArrayLiteral(const std::vector<std::string>& items);

template <typename Container>
std::string TextArrayLiteralOf(const Container& items) {
  return TextArrayLiteral(std::vector<std::string>(items.begin(), items.end()));
}

// The strings of a text[] field (NULL and NULL elements read as nothing).
std::vector<std::string> ReadTextArray(const pqxx::field& field);
// The same from a text[] value's text form, in an encoding whose multibyte characters hold no
// ASCII bytes (UTF-8, which the schema's databases use).
std::vector<std::string> ParseTextArray(const char* text);

}  // namespace cf::db

#endif  // CF_COMMON_DB_VALUES_H_
