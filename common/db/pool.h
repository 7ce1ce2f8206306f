// A fixed-size pool of libpqxx connections, opened lazily and replaced when broken.
#ifndef CF_COMMON_DB_POOL_H_
#define CF_COMMON_DB_POOL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace cf::db {

class ConnectionPool {
 public:
  ConnectionPool(std::string conninfo, int size);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs fn with a connection. pqxx exceptions become statuses (errors.h); a connection that
  // broke is discarded. Waits up to acquire_timeout for a free connection, then UNAVAILABLE.
  absl::Status WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn);

  // Runs fn in a transaction at the given isolation, committing when it returns OK and rolling
  // back otherwise. Serialization failures and deadlocks the database reports are retried a
  // few times; a status fn returns itself, ABORTED included, is final.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // A connection string for the same server as a different user/database (later keywords win).
  const std::string& conninfo() const { return conninfo_; }
  int size() const { return size_; }
  void set_acquire_timeout(absl::Duration timeout) { acquire_timeout_ = timeout; }

 private:
  std::unique_ptr<pqxx::connection> Take(absl::Status* status);
  void Give(std::unique_ptr<pqxx::connection> connection);

  const std::string conninfo_;
  const int size_;
  absl::Duration acquire_timeout_ = absl::Seconds(5);
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // connections handed out or idle
};

}  // namespace cf::db

#endif  // CF_COMMON_DB_POOL_H_
