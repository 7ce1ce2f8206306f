// The pipelined reader against a real PostgreSQL: answers reach the right callers under
// concurrency, an error fails only its own read, a lost connection fails what it owed and the
// reader connects again, and shutdown answers every read.
#include "common/db/pipelined_reader.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf::db {
namespace {

using Outcome = absl::StatusOr<ReadRows>;

// Waits for the outcome of one read. The callback shares the state, so an answer that comes
// after a failed wait touches nothing freed.
class Waiter {
 public:
  PipelinedReader::Done Callback() {
    return [state = state_](Outcome outcome) {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->outcome = std::move(outcome);
      state->done = true;
      state->changed.notify_all();
    };
  }
  Outcome Wait() {
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (!state_->changed.wait_for(lock, std::chrono::seconds(30),
                                  [this] { return state_->done; })) {
      return absl::DeadlineExceededError("no answer within 30 s");
    }
    return state_->outcome;
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    bool done = false;
    Outcome outcome = absl::UnknownError("unset");
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

Outcome ReadNow(PipelinedReader& reader, const std::string& name, const std::string& sql,
                std::vector<std::string> params) {
  Waiter waiter;
  reader.Read(name, sql, std::move(params), waiter.Callback());
  return waiter.Wait();
}

constexpr char kDouble[] = "SELECT $1::int * 2, $2::text";

PipelinedReader::Options WithConnections(int connections) {
  PipelinedReader::Options options;
  options.connections = connections;
  options.reconnect_pause = absl::Milliseconds(50);
  return options;
}

// Waits up to 60 s for `count` to reach `target`.
bool WaitForCount(const std::atomic<int>& count, int target) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count.load() < target && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return count.load() >= target;
}

TEST(PipelinedReaderTest, EachCallerGetsItsOwnAnswerUnderConcurrency) {
  cf::testing::TestDatabase database;
  constexpr int kThreads = 8;
  constexpr int kReadsEach = 500;
  std::atomic<int> right{0}, wrong{0}, answered{0};  // outlive the reader's callbacks
  PipelinedReader reader(database.OwnerConninfo(), WithConnections(2));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReadsEach; ++i) {
        const int n = t * kReadsEach + i;
        reader.Read("double", kDouble, {std::to_string(n), absl::StrCat("caller ", n)},
                    [&, n](Outcome outcome) {
                      const bool ok =
                          outcome.ok() && outcome->size() == 1 &&
                          std::string(outcome->Text(0, 0)) == std::to_string(2 * n) &&
                          std::string(outcome->Text(0, 1)) == absl::StrCat("caller ", n);
                      (ok ? right : wrong)++;
                      answered++;
                    });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(WaitForCount(answered, kThreads * kReadsEach));
  EXPECT_EQ(right.load(), kThreads * kReadsEach);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(PipelinedReaderTest, NullsEmptyResultsAndAStatementPreparedOnce) {
  cf::testing::TestDatabase database;
  PipelinedReader reader(database.OwnerConninfo(), {});
  Outcome nulls = ReadNow(reader, "nulls", "SELECT NULL::text, ''::text", {});
  ASSERT_TRUE(nulls.ok()) << nulls.status();
  EXPECT_TRUE(nulls->IsNull(0, 0));
  EXPECT_FALSE(nulls->IsNull(0, 1));
  EXPECT_STREQ(nulls->Text(0, 0), "");
  Outcome none = ReadNow(reader, "none", "SELECT 1 WHERE false", {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ReadNow(reader, "double", kDouble, {"1", "x"}).ok());
  Outcome statements =
      ReadNow(reader, "statements",
              "SELECT string_agg(name, ',' ORDER BY name) FROM pg_prepared_statements", {});
  ASSERT_TRUE(statements.ok()) << statements.status();
  EXPECT_STREQ(statements->Text(0, 0), "double,none,nulls,statements");
}

TEST(PipelinedReaderTest, AnErrorFailsOnlyItsOwnRead) {
  cf::testing::TestDatabase database;
  PipelinedReader reader(database.OwnerConninfo(), {});
  // Queued together, so they share a round trip: the bad one between two good ones.
  Waiter first, bad_value, bad_sql, last;
  reader.Read("double", kDouble, {"1", "a"}, first.Callback());
  reader.Read("double", kDouble, {"not a number", "b"}, bad_value.Callback());
  reader.Read("broken", "SELEC nonsense", {}, bad_sql.Callback());
  reader.Read("double", kDouble, {"3", "c"}, last.Callback());
  Outcome outcome = first.Wait();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_STREQ(outcome->Text(0, 0), "2");
  EXPECT_EQ(bad_value.Wait().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_sql.Wait().status().code(), absl::StatusCode::kInternal);
  outcome = last.Wait();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_STREQ(outcome->Text(0, 0), "6");
  // More parameters than the protocol carries: refused before anything is sent.
  EXPECT_EQ(
      ReadNow(reader, "many", "SELECT 1", std::vector<std::string>(65536, "1")).status().code(),
      absl::StatusCode::kInvalidArgument);
  // The broken statement was not remembered as prepared: it fails the same way again.
  EXPECT_EQ(ReadNow(reader, "broken", "SELEC nonsense", {}).status().code(),
            absl::StatusCode::kInternal);
}

TEST(PipelinedReaderTest, ALostConnectionFailsWhatItOwedAndTheReaderConnectsAgain) {
  cf::testing::TestDatabase database;
  PipelinedReader reader(database.OwnerConninfo(), WithConnections(1));
  Outcome pid = ReadNow(reader, "pid", "SELECT pg_backend_pid()", {});
  ASSERT_TRUE(pid.ok()) << pid.status();
  const std::string old_pid = pid->Text(0, 0);

  Waiter sleeping;
  reader.Read("sleep", "SELECT pg_sleep(30)", {}, sleeping.Callback());
  {
    pqxx::connection admin(database.OwnerConninfo());
    pqxx::nontransaction txn(admin);
    // Wait until the sleep is running, then end its backend.
    for (int i = 0; i < 2000; ++i) {
      if (txn.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND "
                           "query LIKE 'SELECT pg_sleep%'",
                           old_pid)[0]
              .as<int>() == 1) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    txn.exec_params("SELECT pg_terminate_backend($1)", old_pid);
  }
  EXPECT_EQ(sleeping.Wait().status().code(), absl::StatusCode::kUnavailable);

  // Reads fail UNAVAILABLE until a new connection is made, then succeed on it.
  Outcome again = absl::UnknownError("no read yet");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    again = ReadNow(reader, "pid", "SELECT pg_backend_pid()", {});
    if (again.ok()) break;
    EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable) << again.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(std::string(again->Text(0, 0)), old_pid);
}

TEST(PipelinedReaderTest, AnUnreachableDatabaseIsUnavailable) {
  // Nothing listens on port 1.
  PipelinedReader reader("host=127.0.0.1 port=1 connect_timeout=2", {});
  EXPECT_EQ(ReadNow(reader, "one", "SELECT 1", {}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReadNow(reader, "one", "SELECT 1", {}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(PipelinedReaderTest, ShutdownAnswersEveryRead) {
  cf::testing::TestDatabase database;
  std::atomic<int> answered{0}, unavailable{0};  // outlive the reader's callbacks
  {
    PipelinedReader reader(database.OwnerConninfo(), {});
    for (int i = 0; i < 50; ++i) {
      reader.Read("sleep", "SELECT pg_sleep(0.05)", {}, [&](Outcome outcome) {
        if (!outcome.ok() && outcome.status().code() == absl::StatusCode::kUnavailable) {
          unavailable++;
        }
        answered++;
      });
    }
  }  // the destructor answers what is left
  EXPECT_EQ(answered.load(), 50);
  EXPECT_GT(unavailable.load(), 0);
}

TEST(PipelinedReaderTest, TooManyOutstandingReadsAreRefusedAtOnce) {
  cf::testing::TestDatabase database;
  std::atomic<int> answered{0}, refused{0};  // outlive the reader's callbacks
  PipelinedReader::Options options;
  options.max_outstanding = 3;
  PipelinedReader reader(database.OwnerConninfo(), options);
  // Reads that take a while count until answered, sent or not: the fourth on is refused, on
  // this thread, before Read returns.
  for (int i = 0; i < 10; ++i) {
    reader.Read("sleep", "SELECT pg_sleep(1)", {}, [&](Outcome outcome) {
      if (!outcome.ok()) refused++;
      answered++;
    });
  }
  EXPECT_EQ(refused.load(), 7);
  EXPECT_TRUE(WaitForCount(answered, 10));
  EXPECT_EQ(refused.load(), 7);
  EXPECT_TRUE(ReadNow(reader, "double", kDouble, {"2", "y"}).ok());  // room again
}

TEST(PipelinedReaderTest, AReplacementConnectionIsMadeWhileAnotherLives) {
  cf::testing::TestDatabase database;
  PipelinedReader reader(database.OwnerConninfo() + " application_name=cf_reader_test",
                         WithConnections(2));
  pqxx::connection admin(database.OwnerConninfo());
  pqxx::nontransaction txn(admin);
  auto backends = [&] {
    return txn.exec(
        "SELECT pid FROM pg_stat_activity WHERE application_name = "
        "'cf_reader_test' ORDER BY pid");
  };
  // Two reads at once: one on each connection.
  auto both = [&] {
    Waiter first, second;
    reader.Read("nap", "SELECT pg_sleep(0.05)", {}, first.Callback());
    reader.Read("nap", "SELECT pg_sleep(0.05)", {}, second.Callback());
    const bool first_ok = first.Wait().ok();  // both answered before the waiters go
    const bool second_ok = second.Wait().ok();
    return first_ok && second_ok;
  };
  ASSERT_TRUE(both());
  ASSERT_EQ(backends().size(), 2u);
  const int lost = backends()[0][0].as<int>();
  // Waits (up to 5 s) until the backend is gone.
  ASSERT_TRUE(txn.exec_params1("SELECT pg_terminate_backend($1, 5000)", lost)[0].as<bool>());
  ASSERT_TRUE(cf::testing::WaitUntil(
      [&] {
        both();  // a read fails on the lost connection, or the reader reconnects for one
        pqxx::result now = backends();
        return now.size() == 2u && now[0][0].as<int>() != lost && now[1][0].as<int>() != lost;
      },
      std::chrono::seconds(5)));
}

TEST(PipelinedReaderTest, AFailedPrepareGivesItsErrorToTheReadsSentBehindIt) {
  cf::testing::TestDatabase database;
  // A callback that holds the reader's thread lets the next reads queue up, so they are sent
  // together: the first prepares, the others count on that prepare. (Declared before the
  // reader, which may call back until it is destroyed.)
  std::mutex mutex;
  std::condition_variable changed;
  bool holding = false, release = false;
  PipelinedReader reader(database.OwnerConninfo(), {});
  reader.Read("one", "SELECT 1", {}, [&](Outcome) {
    std::unique_lock<std::mutex> lock(mutex);
    holding = true;
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return holding; }));
  }
  // 'x' is no integer: the prepare itself fails (INVALID_ARGUMENT).
  Waiter reads[3];
  for (Waiter& waiter : reads)
    reader.Read("bad_constant", "SELECT 'x'::int", {}, waiter.Callback());
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  for (Waiter& waiter : reads) {
    EXPECT_EQ(waiter.Wait().status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(PipelinedReaderTest, LargeParametersAndResultsCrossManySocketReadsAndWrites) {
  cf::testing::TestDatabase database;
  PipelinedReader reader(database.OwnerConninfo(), {});
  const std::string big(8 << 20, 'p');  // more than a socket buffer: the send waits to flush
  Waiter sent, fetched, small;
  reader.Read("length", "SELECT length($1::text)", {big}, sent.Callback());
  reader.Read("repeat", "SELECT repeat('r', $1::int)", {std::to_string(6 << 20)},
              fetched.Callback());
  reader.Read("double", kDouble, {"21", "z"}, small.Callback());
  Outcome outcome = sent.Wait();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(std::string(outcome->Text(0, 0)), std::to_string(8 << 20));
  outcome = fetched.Wait();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(std::string(outcome->Text(0, 0)), std::string(6 << 20, 'r'));
  outcome = small.Wait();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_STREQ(outcome->Text(0, 0), "42");
}

TEST(PipelinedReaderTest, AReadUnansweredPastTheTimeoutFailsItsConnection) {
  cf::testing::TestDatabase database;
  PipelinedReader::Options options = WithConnections(1);
  options.read_timeout = absl::Milliseconds(500);
  PipelinedReader reader(database.OwnerConninfo(), options);
  const auto start = std::chrono::steady_clock::now();
  // The server would answer after 20 s; the reader gives up after half a second.
  EXPECT_EQ(ReadNow(reader, "slow", "SELECT pg_sleep(20)", {}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_TRUE(cf::testing::WaitUntil(
      [&] {
        return ReadNow(reader, "double", kDouble, {"1", "a"}).ok();
      },
      std::chrono::seconds(5)));
}

}  // namespace
}  // namespace cf::db
