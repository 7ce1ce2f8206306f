#include "common/db/create_once.h"

namespace cf::db {

absl::Status CreateOnce(ConnectionPool* pool, const std::string& request_id,
                        const std::function<bool(pqxx::work&)>& find,
                        const std::function<absl::Status(pqxx::work&)>& insert) {
  absl::Status status = pool->Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request_id.empty() && find(txn)) return absl::OkStatus();
    return insert(txn);
  });
  if (status.code() != absl::StatusCode::kAlreadyExists || request_id.empty()) return status;
  bool found = false;
  absl::Status lookup = pool->Transact([&](pqxx::work& txn) {
    found = find(txn);
    return absl::OkStatus();
  });
  if (!lookup.ok()) return lookup;
  return found ? absl::OkStatus() : status;
}

}  // namespace cf::db
