#include "common/db/errors.h"

#include <pqxx/pqxx>
#include <stdexcept>

#include "gtest/gtest.h"

namespace cf::db {
namespace {

TEST(CodeFromSqlStateTest, MapsConstraintAndConcurrencyErrors) {
  EXPECT_EQ(CodeFromSqlState("23505"), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeFromSqlState("23503"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeFromSqlState("23514"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeFromSqlState("23502"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeFromSqlState("22003"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeFromSqlState("40001"), absl::StatusCode::kAborted);
  EXPECT_EQ(CodeFromSqlState("40P01"), absl::StatusCode::kAborted);
  EXPECT_EQ(CodeFromSqlState("08006"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFromSqlState("57P01"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFromSqlState("42601"), absl::StatusCode::kInternal);
}

TEST(StatusFromExceptionTest, HidesTheRawMessage) {
  absl::Status status = StatusFromException(std::runtime_error("SELECT secret FROM t"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(status.message().find("SELECT"), absl::string_view::npos);
}

// libpqxx 6.4 throws these outside the sql_error family; the database's own conflicts must
// still come out ABORTED and retryable.
TEST(StatusFromExceptionTest, DeadlocksAndSerializationFailuresAreRetryableConflicts) {
  absl::Status deadlock = StatusFromException(pqxx::deadlock_detected("ERROR:  deadlock detected"));
  EXPECT_EQ(deadlock.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(IsRetryableConflict(deadlock));
  absl::Status serialization =
      StatusFromException(pqxx::serialization_failure("ERROR:  could not serialize access"));
  EXPECT_EQ(serialization.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(IsRetryableConflict(serialization));
}

}  // namespace
}  // namespace cf::db
