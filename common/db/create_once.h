// The one way to create with a request id (AIP-155), so a retried Create never makes twice.
#ifndef CF_COMMON_DB_CREATE_ONCE_H_
#define CF_COMMON_DB_CREATE_ONCE_H_

#include <functional>
#include <pqxx/pqxx>
#include <string>

#include "absl/status/status.h"
#include "common/db/pool.h"

namespace cf::db {

// In one transaction: when `request_id` is set and `find` (called only then) finds what an earlier
// call with it made (find stores it and returns true), that is the answer; otherwise `insert` runs.
// When the insert loses a race to a concurrent call with the same request id (ALREADY_EXISTS from
// the unique index on the request id), the winner's result is looked up once and answered; an
// ALREADY_EXISTS for any other reason stays as it is.
absl::Status CreateOnce(ConnectionPool* pool, const std::string& request_id,
                        const std::function<bool(pqxx::work&)>& find,
                        const std::function<absl::Status(pqxx::work&)>& insert);

}  // namespace cf::db

#endif  // CF_COMMON_DB_CREATE_ONCE_H_
