// PostgreSQL text[] values through libpqxx 6.4: array literals for parameters, arrays read back.
#ifndef CF_COMMON_DB_ARRAYS_H_
#define CF_COMMON_DB_ARRAYS_H_

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace cf::db {

// {"a","b"} with quotes and backslashes escaped; pass it as a parameter cast to text[].
std::string TextArrayLiteral(const std::vector<std::string>& items);

template <typename Container>
std::string TextArrayLiteralOf(const Container& items) {
  return TextArrayLiteral(std::vector<std::string>(items.begin(), items.end()));
}

// The strings of a text[] field (NULL and NULL elements read as nothing).
std::vector<std::string> ReadTextArray(const pqxx::field& field);

}  // namespace cf::db

#endif  // CF_COMMON_DB_ARRAYS_H_
