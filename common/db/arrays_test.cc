#include "common/db/arrays.h"

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

}  // namespace
}  // namespace cf::db
