// Maps libpqxx exceptions to canonical status codes. Messages never carry SQL text or server
// detail: the raw error goes to the log, the caller gets a stable description.
#ifndef CF_COMMON_DB_ERRORS_H_
#define CF_COMMON_DB_ERRORS_H_

#include <exception>
#include <pqxx/except>
#include <string>

#include "absl/status/status.h"

namespace cf::db {

// unique violation -> ALREADY_EXISTS, foreign key -> FAILED_PRECONDITION, check / not null /
// bad data -> INVALID_ARGUMENT, serialization failure / deadlock -> ABORTED, lost connection or
// server shutting down -> UNAVAILABLE, anything else -> INTERNAL ("database error").
absl::Status StatusFromException(const std::exception& error);

// The same mapping for an error met without libpqxx: the server's SQLSTATE (empty when there is
// none) and message, which is logged, not returned. A lost connection is UNAVAILABLE.
absl::Status StatusFromServerError(const std::string& sqlstate, const std::string& message,
                                   bool connection_lost);

// True for a status that StatusFromException made from a serialization failure or a deadlock:
// the transaction did nothing and may simply run again. An ABORTED that a caller returns
// itself (a lost race, by the API conventions) is not one.
bool IsRetryableConflict(const absl::Status& status);

// The SQLSTATE of an error. libpqxx 6.4 leaves sqlstate() empty for some error classes
// (insufficient_privilege among them), so the class fills the gap.
std::string SqlState(const pqxx::sql_error& error);

// The same mapping from a SQLSTATE code alone (exposed for tests).
absl::StatusCode CodeFromSqlState(const std::string& sqlstate);

}  // namespace cf::db

#endif  // CF_COMMON_DB_ERRORS_H_
