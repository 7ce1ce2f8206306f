// A fixed-size pool of libpqxx connections, opened lazily and replaced when broken.
#ifndef CF_COMMON_DB_POOL_H_
#define CF_COMMON_DB_POOL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
  // back otherwise. Serialization failures and deadlocks the database reports are retried up to
  // four times, after a short random pause; a status fn returns itself, ABORTED included, is
  // final.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // Runs one read-only statement without a transaction (no BEGIN/COMMIT round trips),
  // prepared once per connection under `name` (the same name must always mean the same SQL).
  // The result stays valid after the connection goes back. Behind PgBouncer, this needs
  // session pooling: named prepared statements break in transaction pooling.
  template <typename... Args>
  absl::StatusOr<pqxx::result> Read(const std::string& name, const std::string& sql,
                                    Args&&... args) {
    pqxx::result rows;
    absl::Status status = WithPrepared(name, sql, [&](pqxx::nontransaction& txn) {
      rows = txn.exec_prepared(name, std::forward<Args>(args)...);
    });
    if (!status.ok()) return status;
    return rows;
  }

  // A connection string for the same server as a different user/database (later keywords win).
  const std::string& conninfo() const { return conninfo_; }
  int size() const { return size_; }
  void set_acquire_timeout(absl::Duration timeout) { acquire_timeout_ = timeout; }

 private:
  // A pooled connection and the thread that used it last.
  struct Pooled {
    explicit Pooled(const std::string& conninfo) : connection(conninfo) {}
    pqxx::connection connection;
    std::thread::id last_user;
  };

  absl::Status WithPrepared(const std::string& name, const std::string& sql,
                            const std::function<void(pqxx::nontransaction&)>& run);
  absl::Status WithPooled(const std::function<absl::Status(Pooled&)>& fn);
  std::unique_ptr<Pooled> Take(absl::Status* status);
  void Give(std::unique_ptr<Pooled> connection);

  const std::string conninfo_;
  const int size_;
  absl::Duration acquire_timeout_ = absl::Seconds(5);
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Pooled>> idle_;
  int open_ = 0;  // connections handed out or idle
};

}  // namespace cf::db

#endif  // CF_COMMON_DB_POOL_H_
