#include "common/db/errors.h"

#include <pqxx/pqxx>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "common/log/log.h"

namespace cf::db {

absl::StatusCode CodeFromSqlState(const std::string& sqlstate) {
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (sqlstate == "23503") return absl::StatusCode::kFailedPrecondition;
  if (sqlstate == "23514" || sqlstate == "23502") return absl::StatusCode::kInvalidArgument;
  if (absl::StartsWith(sqlstate, "22")) return absl::StatusCode::kInvalidArgument;
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::StatusCode::kAborted;
  // A statement timeout (57014): the database is too slow or hung, which callers see as an
  // outage to retry, not as a bug.
  if (sqlstate == "57014") return absl::StatusCode::kUnavailable;
  // Connection exceptions, operator intervention (shutdown), insufficient resources.
  if (absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "57P") ||
      absl::StartsWith(sqlstate, "53")) {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

std::string SqlState(const pqxx::sql_error& error) {
  if (!error.sqlstate().empty()) return error.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&error)) return "42501";
  if (dynamic_cast<const pqxx::unique_violation*>(&error)) return "23505";
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&error)) return "23503";
  if (dynamic_cast<const pqxx::check_violation*>(&error)) return "23514";
  if (dynamic_cast<const pqxx::not_null_violation*>(&error)) return "23502";

  if (dynamic_cast<const pqxx::undefined_table*>(&error)) return "42P01";
  if (dynamic_cast<const pqxx::data_exception*>(&error)) return "22000";
  return "";
}

namespace {

constexpr char kConflictPayload[] = "cf.db/serialization-conflict";

absl::string_view DescriptionFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kAlreadyExists:
      return "a resource with the same unique key already exists";
    case absl::StatusCode::kFailedPrecondition:
      return "a referenced resource does not exist or is still referenced";
    case absl::StatusCode::kInvalidArgument:
      return "a value was rejected by the database's constraints";
    case absl::StatusCode::kAborted:
      return "the operation conflicted with a concurrent one; retry it";
    case absl::StatusCode::kUnavailable:
      return "the database is unavailable; retry later";
    default:
      return "database error";
  }
}

}  // namespace

absl::Status StatusFromException(const std::exception& error) {
  std::string sqlstate;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error)) {
    sqlstate = SqlState(*sql);
  } else if (dynamic_cast<const pqxx::deadlock_detected*>(&error) != nullptr) {
    // libpqxx 6.4's transaction_rollback family (deadlock, serialization failure) derives from
    // pqxx::failure, not sql_error, and so carries no SQLSTATE of its own.
    sqlstate = "40P01";
  } else if (dynamic_cast<const pqxx::serialization_failure*>(&error) != nullptr) {
    sqlstate = "40001";
  }
  const bool lost = dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr ||
                    dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr;
  return StatusFromServerError(sqlstate, error.what(), lost);
}

absl::Status StatusFromServerError(const std::string& sqlstate, const std::string& message,
                                   bool connection_lost) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (!sqlstate.empty()) code = CodeFromSqlState(sqlstate);
  if (connection_lost) code = absl::StatusCode::kUnavailable;
  Log(code == absl::StatusCode::kInternal ? LogLevel::kError : LogLevel::kWarning, "database error",
      {{"sqlstate", sqlstate}, {"error", message}});
  absl::Status status(code, DescriptionFor(code));
  // Only the database's own conflicts (serialization, deadlock) map to ABORTED here.
  if (code == absl::StatusCode::kAborted) status.SetPayload(kConflictPayload, absl::Cord(sqlstate));
  return status;
}

bool IsRetryableConflict(const absl::Status& status) {
  return status.GetPayload(kConflictPayload).has_value();
}

}  // namespace cf::db
