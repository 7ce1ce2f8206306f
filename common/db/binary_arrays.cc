#include "common/db/binary_arrays.h"

#include "absl/strings/str_cat.h"

namespace cf::db {
namespace {

// Element type OIDs (pg_type.h); fixed since PostgreSQL's early releases.
constexpr uint32_t kInt4Oid = 23;
constexpr uint32_t kInt8Oid = 20;
constexpr uint32_t kDateOid = 1082;
constexpr uint32_t kUuidOid = 2950;

void AppendBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

// The header of a one-dimensional array without NULLs: dimensions, has-null flag, element type,
// then length and lower bound (1) of the one dimension. An empty array has no dimension.
std::string Header(uint32_t element_oid, size_t count, size_t element_size) {
  std::string out;
  out.reserve(20 + count * (4 + element_size));
  AppendBigEndian(count == 0 ? 0 : 1, 4, &out);
  AppendBigEndian(0, 4, &out);
  AppendBigEndian(element_oid, 4, &out);
  if (count > 0) {
    AppendBigEndian(count, 4, &out);
    AppendBigEndian(1, 4, &out);
  }
  return out;
}

template <typename Int>
pqxx::binarystring IntArray(uint32_t element_oid, const std::vector<Int>& values) {
  std::string out = Header(element_oid, values.size(), sizeof(Int));
  for (Int value : values) {
    AppendBigEndian(sizeof(Int), 4, &out);
    AppendBigEndian(static_cast<uint64_t>(value), sizeof(Int), &out);
  }
  return pqxx::binarystring(out);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The 16 bytes of a text UUID (8-4-4-4-12 hex digits), or false.
bool AppendUuidBytes(const std::string& text, std::string* out) {
  if (text.size() != 36) return false;
  int high = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      continue;
    }
    int digit = HexValue(text[i]);
    if (digit < 0) return false;
    if (high < 0) {
      high = digit;
    } else {
      out->push_back(static_cast<char>(high << 4 | digit));
      high = -1;
    }
  }
  return true;
}

}  // namespace

pqxx::binarystring Int4Array(const std::vector<int32_t>& values) {
  return IntArray(kInt4Oid, values);
}

pqxx::binarystring Int8Array(const std::vector<int64_t>& values) {
  return IntArray(kInt8Oid, values);
}

pqxx::binarystring DateArray(const std::vector<absl::CivilDay>& days) {
  // A date travels as its day count from PostgreSQL's epoch, 2000-01-01.
  const absl::CivilDay epoch(2000, 1, 1);
  std::vector<int32_t> offsets;
  offsets.reserve(days.size());
  for (absl::CivilDay day : days) offsets.push_back(static_cast<int32_t>(day - epoch));
  return IntArray(kDateOid, offsets);  // the same four bytes per element as an int4
}

absl::StatusOr<pqxx::binarystring> UuidArray(const std::vector<std::string>& uuids) {
  std::string out = Header(kUuidOid, uuids.size(), 16);
  for (size_t i = 0; i < uuids.size(); ++i) {
    AppendBigEndian(16, 4, &out);
    if (!AppendUuidBytes(uuids[i], &out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", i, " is not a UUID: \"", uuids[i], "\""));
    }
  }
  return pqxx::binarystring(out);
}

}  // namespace cf::db
