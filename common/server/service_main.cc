#include "common/server/service_main.h"

#include <mutex>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/db/conninfo.h"
#include "common/db/migrator.h"
#include "common/log/log.h"

namespace cf {
namespace {

// Keeps one connection of its own, so a busy pool never reads as an outage.
class DatabaseProbe {
 public:
  explicit DatabaseProbe(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  bool operator()() {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      if (connection_ == nullptr || !connection_->is_open()) {
        connection_ = std::make_unique<pqxx::connection>(conninfo_);
      }
      pqxx::nontransaction txn(*connection_);
      txn.exec("SELECT 1");
      return true;
    } catch (const std::exception&) {
      connection_.reset();
      return false;
    }
  }

 private:
  std::string conninfo_;
  std::mutex mutex_;
  std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace

namespace {

absl::StatusOr<db::ConnectionLimits> LimitsFromConfig(const Config& config) {
  auto connect_timeout = config.GetInt("db_connect_timeout_s", 5, 2, 600);
  if (!connect_timeout.ok()) return connect_timeout.status();
  auto statement_timeout = config.GetInt("db_statement_timeout_ms", 30000, 100, 3600000);
  if (!statement_timeout.ok()) return statement_timeout.status();
  auto idle_timeout = config.GetInt("db_idle_in_transaction_timeout_ms", 10000, 100, 3600000);
  if (!idle_timeout.ok()) return idle_timeout.status();
  db::ConnectionLimits limits;
  limits.connect_timeout = absl::Seconds(*connect_timeout);
  limits.statement_timeout = absl::Milliseconds(*statement_timeout);
  limits.idle_in_transaction_timeout = absl::Milliseconds(*idle_timeout);
  return limits;
}

}  // namespace

absl::StatusOr<DatabaseRuntime> OpenDatabase(const Config& config, int schema_version) {
  auto url = config.RequireDatabaseUrl();
  if (!url.ok()) return url.status();
  auto pool_size = config.GetInt("db_pool_size", 8, 1, 200);
  if (!pool_size.ok()) return pool_size.status();
  auto queue = config.GetInt("db_queue", 256, 1, 100000);
  if (!queue.ok()) return queue.status();
  auto limits = LimitsFromConfig(config);
  if (!limits.ok()) return limits.status();
  const std::string conninfo = db::WithLimits(*url, *limits);
  absl::Status schema = db::CheckSchemaVersion(conninfo, schema_version);
  if (!schema.ok()) {
    return absl::Status(schema.code(), absl::StrCat("database check failed: ", schema.message()));
  }
  DatabaseRuntime runtime;
  runtime.pool = std::make_unique<db::ConnectionPool>(conninfo, *pool_size);
  runtime.executor = std::make_unique<BoundedExecutor>(*pool_size, *queue);
  auto probe = std::make_shared<DatabaseProbe>(conninfo);
  runtime.probe = [probe] { return (*probe)(); };
  return runtime;
}

absl::StatusOr<ReadReplica> OpenReadReplica(const Config& config, int schema_version) {
  if (!config.Get("read_database_url").has_value()) {  // not a flag: the environment?
    auto set = config.GetSecret("read_database_url");
    if (!set.ok()) return set.status();
    if (!set->has_value()) return ReadReplica{};
  }
  auto url = config.RequireDatabaseUrl("read_database_url");
  if (!url.ok()) return url.status();
  auto pool_size = config.GetInt("db_pool_size", 8, 1, 200);
  if (!pool_size.ok()) return pool_size.status();
  auto limits = LimitsFromConfig(config);
  if (!limits.ok()) return limits.status();
  const std::string conninfo = db::WithLimits(*url, *limits);
  // A replica behind the primary's schema would answer reads the service cannot interpret.
  absl::Status schema = db::CheckSchemaVersion(conninfo, schema_version);
  if (!schema.ok()) {
    return absl::Status(schema.code(),
                        absl::StrCat("read replica check failed: ", schema.message()));
  }
  ReadReplica replica;
  replica.pool = std::make_unique<db::ConnectionPool>(conninfo, *pool_size);
  auto probe = std::make_shared<DatabaseProbe>(conninfo);
  replica.probe = [probe] { return (*probe)(); };
  return replica;
}

absl::StatusOr<ServerOptions> ServerOptionsFromConfig(const Config& config, const std::string& name,
                                                      const std::string& default_listen) {
  ServerOptions options;
  options.name = name;
  options.listen_address = config.GetOr("listen", default_listen);
  auto drain = config.GetInt("drain_timeout_s", 25, 0, 3600);
  if (!drain.ok()) return drain.status();
  options.drain_timeout = absl::Seconds(*drain);
  return options;
}

int StartupFailure(const absl::Status& status) {
  Log(LogLevel::kError, "cannot start", {{"error", std::string(status.message())}});
  return 1;
}

int ServeUntilSignal(ServerOptions options) {
  std::string name = options.name;
  auto server = Server::Start(std::move(options));
  if (!server.ok()) return StartupFailure(server.status());
  Log(LogLevel::kInfo, "ready", {{"address", (*server)->address()}});
  int signal_number = WaitForTerminationSignal();
  Log(LogLevel::kInfo, "shutting down", {{"signal", signal_number}});
  (*server)->Shutdown();
  return 0;
}

}  // namespace cf
