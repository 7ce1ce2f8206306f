#include "common/db/binary_arrays.h"

#include <cstdio>
#include <limits>

#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::db {
namespace {

// Each array goes to a real server as a binary parameter and comes back as text, to be compared
// with what the server makes of the same values written as a literal.
class BinaryArraysTest : public ::testing::Test {
 protected:
  BinaryArraysTest() : connection_(database_.OwnerConninfo()), txn_(connection_) {}

  std::string AsText(const std::string& cast, const pqxx::binarystring& array) {
    return txn_.exec_params1("SELECT ($1::" + cast + ")::text", array)[0].c_str();
  }

  cf::testing::TestDatabase database_;
  pqxx::connection connection_;
  pqxx::nontransaction txn_;
};

TEST_F(BinaryArraysTest, IntegersKeepTheirSignsAndExtremes) {
  EXPECT_EQ(AsText("int4[]", Int4Array({0, 1, -1, 2147483647, -2147483647 - 1, 300})),
            "{0,1,-1,2147483647,-2147483648,300}");
  EXPECT_EQ(AsText("int8[]", Int8Array({0, -5, std::numeric_limits<int64_t>::max(),
                                        std::numeric_limits<int64_t>::min(), 999999999999})),
            "{0,-5,9223372036854775807,-9223372036854775808,999999999999}");
}

TEST_F(BinaryArraysTest, DatesCountFromTheServersEpoch) {
  EXPECT_EQ(AsText("date[]", DateArray({absl::CivilDay(2000, 1, 1), absl::CivilDay(1999, 12, 31),
                                        absl::CivilDay(2026, 11, 26), absl::CivilDay(2024, 2, 29),
                                        absl::CivilDay(1970, 1, 1), absl::CivilDay(1, 1, 1),
                                        absl::CivilDay(9999, 12, 31)})),
            "{2000-01-01,1999-12-31,2026-11-26,2024-02-29,1970-01-01,0001-01-01,9999-12-31}");
}

// A full ingest batch: the count fills more than the header's lowest byte, and every element
// lands in its place.
TEST_F(BinaryArraysTest, TenThousandElementsArriveInOrder) {
  constexpr int kCount = 10000;
  std::vector<int32_t> ints;
  std::vector<int64_t> longs;
  std::vector<absl::CivilDay> days;
  std::vector<std::string> uuids;
  for (int i = 0; i < kCount; ++i) {
    ints.push_back(i * 7 - 3);
    longs.push_back(int64_t{i} * 1000000007);
    days.push_back(absl::CivilDay(2020, 1, 1) + i);
    char uuid[37];
    std::snprintf(uuid, sizeof(uuid), "%08X-0000-4000-8000-%012x", i, i * 3);
    uuids.push_back(uuid);
  }
  absl::StatusOr<pqxx::binarystring> uuid_array = UuidArray(uuids);
  ASSERT_TRUE(uuid_array.ok()) << uuid_array.status();
  pqxx::row row = txn_.exec_params1(
      "SELECT count(*), sum(n), sum(l)::text, min(d)::text, max(d)::text, "
      "       count(*) FILTER (WHERE n <> (o::int - 1) * 7 - 3 OR d <> DATE '2020-01-01' + o::int "
      "- 1"
      "                         OR u <> format('%s-0000-4000-8000-%s', lpad(to_hex(o::int - 1), 8, "
      "                                        '0'), lpad(to_hex((o::int - 1) * 3), 12, "
      "'0'))::uuid)"
      "  FROM unnest($1::int4[], $2::int8[], $3::date[], $4::uuid[]) WITH ORDINALITY "
      "    AS t(n, l, d, u, o)",
      Int4Array(ints), Int8Array(longs), DateArray(days), *uuid_array);
  EXPECT_EQ(row[0].as<int>(), kCount);
  EXPECT_EQ(row[1].as<int64_t>(), int64_t{7} * kCount * (kCount - 1) / 2 - 3 * kCount);
  EXPECT_EQ(row[2].as<std::string>(),
            std::to_string(int64_t{1000000007} * kCount * (kCount - 1) / 2));
  EXPECT_EQ(row[3].as<std::string>(), "2020-01-01");
  EXPECT_EQ(row[4].as<std::string>(), absl::FormatCivilTime(absl::CivilDay(2020, 1, 1) + 9999));
  EXPECT_EQ(row[5].as<int>(), 0);  // elements out of place
}

TEST_F(BinaryArraysTest, UuidsInAnyCase) {
  absl::StatusOr<pqxx::binarystring> array =
      UuidArray({"00000000-0000-0000-0000-000000000000", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                 "ffffffff-ffff-ffff-ffff-fffffffffffe"});
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(AsText("uuid[]", *array),
            "{00000000-0000-0000-0000-000000000000,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"
            "ffffffff-ffff-ffff-ffff-fffffffffffe}");
}

TEST_F(BinaryArraysTest, EmptyArraysAreEmpty) {
  EXPECT_EQ(AsText("int4[]", Int4Array({})), "{}");
  EXPECT_EQ(AsText("date[]", DateArray({})), "{}");
  absl::StatusOr<pqxx::binarystring> no_uuids = UuidArray({});
  ASSERT_TRUE(no_uuids.ok()) << no_uuids.status();
  EXPECT_EQ(AsText("uuid[]", *no_uuids), "{}");
  EXPECT_EQ(txn_.exec_params1("SELECT cardinality($1::int8[])", Int8Array({}))[0].as<int>(), 0);
}

TEST_F(BinaryArraysTest, ArraysUnnestSideBySide) {
  pqxx::row row = txn_.exec_params1(
      "SELECT string_agg(format('%s/%s/%s', u, d, n), ' ') "
      "FROM unnest($1::uuid[], $2::date[], $3::int4[]) AS t(u, d, n)",
      *UuidArray({"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"}),
      DateArray({absl::CivilDay(2026, 1, 2), absl::CivilDay(2026, 3, 4)}), Int4Array({7, 8}));
  EXPECT_EQ(std::string(row[0].c_str()),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11/2026-01-02/7 "
            "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12/2026-03-04/8");
}

TEST_F(BinaryArraysTest, TheServerRefusesAMismatchedCast) {
  // The element type travels with the array: an int4[] is not taken for an int8[].
  EXPECT_THROW(AsText("int8[]", Int4Array({1})), pqxx::sql_error);
}

TEST(UuidArrayTest, NamesTheFirstMalformedElement) {
  for (const std::string bad :
       {"", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
        "a0eebc999c0b-4ef8-bb6d-6bb9bd380a11-", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd38-a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a\xc3\xa9"}) {
    absl::StatusOr<pqxx::binarystring> array =
        UuidArray({"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", bad});
    ASSERT_FALSE(array.ok()) << bad;
    EXPECT_EQ(array.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(array.status().message().find("element 1"), std::string::npos)
        << array.status().message();
  }
}

}  // namespace
}  // namespace cf::db
