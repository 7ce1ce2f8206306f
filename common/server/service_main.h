// What every backend's main() does, in one place: configuration, the database pool and its
// executor, the schema check, serving until SIGTERM/SIGINT, and the drain.
#ifndef CF_COMMON_SERVER_SERVICE_MAIN_H_
#define CF_COMMON_SERVER_SERVICE_MAIN_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/db/executor.h"
#include "common/db/pool.h"
#include "common/server/server.h"

namespace cf {

struct DatabaseRuntime {
  std::unique_ptr<db::ConnectionPool> pool;
  std::unique_ptr<BoundedExecutor> executor;  // one thread per pooled connection
  std::function<bool()> probe;                // readiness: can we reach the database?
};

// Reads database_url (required), db_pool_size (default 8), db_queue (default 256),
// db_connect_timeout_s (5), db_statement_timeout_ms (30000) and
// db_idle_in_transaction_timeout_ms (10000); every connection gets those
// limits and TCP keepalives (common/db/conninfo.h). Refuses a schema older than
// `schema_version`.
absl::StatusOr<DatabaseRuntime> OpenDatabase(const Config& config, int schema_version);

// A read replica for reporting queries (read_database_url, a secret like database_url): a pool
// with the primary's limits and size, and a readiness probe. `pool` is null when none is
// configured and reads go to the primary. Refused when its schema is older than
// `schema_version`.
struct ReadReplica {
  std::unique_ptr<db::ConnectionPool> pool;
  std::function<bool()> probe;  // null without a replica
};
absl::StatusOr<ReadReplica> OpenReadReplica(const Config& config, int schema_version);

// Server options from configuration: listen (default `default_listen`), drain_timeout_s.
absl::StatusOr<ServerOptions> ServerOptionsFromConfig(const Config& config, const std::string& name,
                                                      const std::string& default_listen);

// Starts the server, prints the ready line, waits for SIGTERM or SIGINT, drains and returns
// the process exit code. Call BlockTerminationSignals() first thing in main.
int ServeUntilSignal(ServerOptions options);

// Logs `status` as a fatal start-up error and returns exit code 1.
int StartupFailure(const absl::Status& status);

}  // namespace cf

#endif  // CF_COMMON_SERVER_SERVICE_MAIN_H_
