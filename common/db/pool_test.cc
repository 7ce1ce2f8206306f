#include "common/db/pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::db {
namespace {

TEST(ConnectionPoolTest, CommitsOnOkAndRollsBackOnError) {
  cf::testing::TestDatabase database;
  ConnectionPool pool(database.OwnerConninfo(), 2);
  ASSERT_TRUE(pool.Transact([](pqxx::work& txn) {
                    txn.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
                    txn.exec("INSERT INTO t VALUES ('kept')");
                    return absl::OkStatus();
                  })
                  .ok());
  absl::Status failed = pool.Transact([](pqxx::work& txn) {
    txn.exec("INSERT INTO t VALUES ('dropped')");
    return absl::InvalidArgumentError("caller changed its mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  int rows = 0;
  ASSERT_TRUE(pool.WithConnection([&](pqxx::connection& connection) {
                    pqxx::nontransaction txn(connection);
                    rows = txn.exec("SELECT count(*) FROM t")[0][0].as<int>();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(rows, 1);
}

TEST(ConnectionPoolTest, MapsUniqueViolationWithoutSqlText) {
  cf::testing::TestDatabase database;
  ConnectionPool pool(database.OwnerConninfo(), 1);
  absl::Status status = pool.Transact([](pqxx::work& txn) {
    txn.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
    txn.exec("INSERT INTO t VALUES ('a'), ('a')");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message().find("INSERT"), absl::string_view::npos);
  EXPECT_EQ(status.message().find("t_pkey"), absl::string_view::npos);
}

TEST(ConnectionPoolTest, UnreachableDatabaseIsUnavailable) {
  ConnectionPool pool("host=127.0.0.1 port=1 connect_timeout=2 dbname=none", 1);
  absl::Status status = pool.WithConnection([](pqxx::connection&) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

TEST(ConnectionPoolTest, BusyPoolAnswersUnavailableAfterTimeout) {
  cf::testing::TestDatabase database;
  ConnectionPool pool(database.OwnerConninfo(), 1);
  pool.set_acquire_timeout(absl::Milliseconds(50));
  absl::Status inner;
  ASSERT_TRUE(pool.WithConnection([&](pqxx::connection&) {
                    inner = pool.WithConnection([](pqxx::connection&) { return absl::OkStatus(); });
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inner.code(), absl::StatusCode::kUnavailable);
}

TEST(ConnectionPoolTest, AbortedFromTheCallerRunsOnce) {
  cf::testing::TestDatabase database;
  ConnectionPool pool(database.OwnerConninfo(), 1);
  int runs = 0;
  absl::Status status = pool.Transact([&](pqxx::work&) {
    ++runs;
    return absl::AbortedError("lost a race");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(runs, 1);
}

// Two transactions that lock two rows in opposite orders deadlock; PostgreSQL aborts one, and
// Transact runs it again, so both end OK.
TEST(ConnectionPoolTest, ADeadlockIsRetried) {
  cf::testing::TestDatabase database;
  ConnectionPool pool(database.OwnerConninfo(), 2);
  ASSERT_TRUE(pool.Transact([](pqxx::work& txn) {
                    txn.exec("CREATE TABLE t (k INT PRIMARY KEY, v INT)");
                    txn.exec("INSERT INTO t VALUES (1, 0), (2, 0)");
                    return absl::OkStatus();
                  })
                  .ok());
  std::mutex mutex;
  std::condition_variable changed;
  int first_locks = 0;
  std::atomic<int> runs{0};
  auto transfer = [&](int first, int second) {
    bool first_attempt = true;
    return pool.Transact([&, first, second](pqxx::work& txn) {
      ++runs;
      txn.exec_params("UPDATE t SET v = v + 1 WHERE k = $1", first);
      if (first_attempt) {  // both hold their first row before either asks for its second
        first_attempt = false;
        std::unique_lock<std::mutex> lock(mutex);
        ++first_locks;
        changed.notify_all();
        changed.wait_for(lock, std::chrono::seconds(30), [&] { return first_locks == 2; });
      }
      txn.exec_params("UPDATE t SET v = v + 1 WHERE k = $1", second);
      return absl::OkStatus();
    });
  };
  absl::Status one, two;
  std::thread a([&] { one = transfer(1, 2); });
  std::thread b([&] { two = transfer(2, 1); });
  a.join();
  b.join();
  EXPECT_TRUE(one.ok()) << one;
  EXPECT_TRUE(two.ok()) << two;
  // The one PostgreSQL aborted ran again (a retry may meet the other once more before it ends).
  EXPECT_GE(runs.load(), 3);
  absl::StatusOr<pqxx::result> sum = pool.Read("sum", "SELECT sum(v) FROM t");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ((*sum)[0][0].as<int>(), 4);
}

// A thread gets back the connection it used last when that one is free, even when another was
// given back after it (a plain stack would hand out the most recent one).
TEST(ConnectionPoolTest, AThreadKeepsItsConnection) {
  cf::testing::TestDatabase database;
  ConnectionPool pool(database.OwnerConninfo(), 2);
  std::mutex mutex;
  std::condition_variable changed;
  bool other_holds = false, main_gave_back = false;
  int main_pid = 0, other_pid = 0;
  std::thread other;
  // Both connections are held at once; the main thread gives its one back first.
  ASSERT_TRUE(pool.WithConnection([&](pqxx::connection& connection) {
                    main_pid = connection.backendpid();
                    other = std::thread([&] {
                      EXPECT_TRUE(pool.WithConnection([&](pqxx::connection& mine) {
                                        std::unique_lock<std::mutex> lock(mutex);
                                        other_pid = mine.backendpid();
                                        other_holds = true;
                                        changed.notify_all();
                                        changed.wait(lock, [&] { return main_gave_back; });
                                        return absl::OkStatus();
                                      })
                                      .ok());
                    });
                    std::unique_lock<std::mutex> lock(mutex);
                    changed.wait(lock, [&] { return other_holds; });
                    return absl::OkStatus();
                  })
                  .ok());
  {
    std::lock_guard<std::mutex> lock(mutex);
    main_gave_back = true;
  }
  changed.notify_all();
  other.join();  // the other connection is now the most recently given back
  ASSERT_NE(main_pid, other_pid);
  int again = 0;
  ASSERT_TRUE(pool.WithConnection([&](pqxx::connection& connection) {
                    again = connection.backendpid();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(again, main_pid);
}

}  // namespace
}  // namespace cf::db
