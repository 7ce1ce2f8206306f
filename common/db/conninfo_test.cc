#include "common/db/conninfo.h"

#include <chrono>
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
  EXPECT_NE(uri.find("options=-c%20statement_timeout%3D30000%20-c%20idle_in_transaction_session_"
                     "timeout%3D10000"),
            std::string::npos)
      << uri;
}

TEST(ConnectionLimitsTest, ApplicationNameUnlessTheUrlNamesOne) {
  EXPECT_EQ(WithApplicationName("host=/tmp", "cf-jobs-heartbeat"),
            "host=/tmp application_name=cf-jobs-heartbeat");
  EXPECT_EQ(WithApplicationName("postgresql://u@h/db", "cf-jobs-heartbeat"),
            "postgresql://u@h/db?application_name=cf-jobs-heartbeat");
  EXPECT_EQ(WithApplicationName("host=/tmp application_name=mine", "cf-jobs-heartbeat"),
            "host=/tmp application_name=mine");
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

// A client that stops inside a transaction loses its session, and with it its row locks.
TEST(ConnectionLimitsTest, AClientIdleInATransactionLetsGoOfItsLocks) {
  cf::testing::TestDatabase database;
  {
    pqxx::connection owner(database.OwnerConninfo());
    pqxx::nontransaction txn(owner);
    txn.exec("CREATE TABLE locked (id INT PRIMARY KEY); INSERT INTO locked VALUES (1)");
  }
  ConnectionLimits limits;
  limits.idle_in_transaction_timeout = absl::Milliseconds(300);
  pqxx::connection frozen(WithLimits(database.OwnerConninfo(), limits));
  pqxx::work held(frozen);
  held.exec("UPDATE locked SET id = 1");  // then the client stops answering
  pqxx::connection other(database.OwnerConninfo());
  pqxx::nontransaction txn(other);
  txn.exec("SET lock_timeout = '20s'");
  // Blocks until the server ends the idle session (a fraction of a second), not 20 s.
  auto start = std::chrono::steady_clock::now();
  txn.exec("UPDATE locked SET id = 2");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_THROW(held.exec("SELECT 1"), std::exception);
}

}  // namespace
}  // namespace cf::db
