#include "common/db/conninfo.h"

#include <pqxx/pqxx>

#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::db {
namespace {

TEST(ConnectionLimitsTest, AddsWhatTheUrlDoesNotSay) {
  ConnectionLimits limits;
  limits.connect_timeout = absl::Seconds(3);
  std::string conninfo = WithLimits("host=/tmp connect_timeout=9", limits);
  EXPECT_NE(conninfo.find("connect_timeout=9"), std::string::npos);
  EXPECT_EQ(conninfo.find("connect_timeout=3"), std::string::npos);
  EXPECT_NE(conninfo.find("keepalives=1"), std::string::npos);
  EXPECT_NE(conninfo.find("statement_timeout=30000"), std::string::npos);

  std::string uri = WithLimits("postgresql://u@h/db?sslmode=disable", limits);
  EXPECT_NE(uri.find("?sslmode=disable&connect_timeout=3&"), std::string::npos) << uri;
  EXPECT_NE(uri.find("options=-c%20statement_timeout%3D30000"), std::string::npos) << uri;
}

TEST(ConnectionLimitsTest, StatementTimeoutReachesTheServer) {
  cf::testing::TestDatabase database;
  ConnectionLimits limits;
  limits.statement_timeout = absl::Milliseconds(200);
  pqxx::connection connection(WithLimits(database.OwnerConninfo(), limits));
  pqxx::nontransaction txn(connection);
  EXPECT_EQ(txn.exec("SHOW statement_timeout")[0][0].as<std::string>(), "200ms");
  EXPECT_THROW(txn.exec("SELECT pg_sleep(5)"), pqxx::sql_error);
}

}  // namespace
}  // namespace cf::db
