#include "common/db/values.h"

#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::db {
namespace {

TEST(ArraysTest, RoundTripsAwkwardStringsThroughPostgres) {
  cf::testing::TestDatabase database;
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  std::vector<std::string> items = {
      "plain", "with \"quotes\"", "back\\slash", "{braces}, commas", "", "NULL", "ünïcödé"};
  pqxx::row row = txn.exec_params1("SELECT $1::text[]", TextArrayLiteral(items));
  EXPECT_EQ(ReadTextArray(row[0]), items);
  EXPECT_TRUE(ReadTextArray(txn.exec1("SELECT NULL::text[]")[0]).empty());
  EXPECT_TRUE(ReadTextArray(txn.exec1("SELECT '{}'::text[]")[0]).empty());
}

TEST(ValuesTest, TimestampsKeepMicroseconds) {
  cf::testing::TestDatabase database;
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  int64_t micros =
      txn.exec1("SELECT " + MicrosOf("'2026-11-25 10:00:00.123456+00'::timestamptz"))[0]
          .as<int64_t>();
  google::protobuf::Timestamp timestamp;
  SetTimestamp(micros, &timestamp);
  EXPECT_EQ(timestamp.seconds(), 1795600800);
  EXPECT_EQ(timestamp.nanos(), 123456000);
  EXPECT_EQ(NullIfEmpty(""), nullptr);
  EXPECT_STREQ(NullIfEmpty("x"), "x");
}

}  // namespace
}  // namespace cf::db
