// catalog: serves cf.catalog.v1.CatalogService (product dossiers).
//
// Configuration (flag or environment): --database_url / CF_DATABASE_URL (required),
// --listen / CF_LISTEN (default 127.0.0.1:50052), --db_pool_size, --db_queue, --drain_timeout_s,
// --db_read_connections (the pipelined reader's connections for GetDossier, default 1).
#include "common/db/pipelined_reader.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/catalog/catalog.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/dossier_store.h"

namespace {

// The newest migration this build relies on.
constexpr int kSchemaVersion = 2;

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("catalog");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto database = cf::OpenDatabase(*config, kSchemaVersion);
  if (!database.ok()) return cf::StartupFailure(database.status());
  auto options = cf::ServerOptionsFromConfig(*config, "catalog", "127.0.0.1:50052");
  if (!options.ok()) return cf::StartupFailure(options.status());

  auto read_connections = config->GetInt("db_read_connections", 1, 1, 16);
  if (!read_connections.ok()) return cf::StartupFailure(read_connections.status());
  cf::db::PipelinedReader::Options read_options;
  read_options.connections = *read_connections;
  cf::db::PipelinedReader reads(database->pool->conninfo(), read_options);
  cf::catalog::DossierStore store(database->pool.get(), &reads);
  cf::catalog::Catalog catalog(&store);
  cf::catalog::CatalogService service(&catalog, database->executor.get());
  options->services = {{"cf.catalog.v1.CatalogService", &service}};
  options->readiness_probe = database->probe;
  return cf::ServeUntilSignal(std::move(*options));
}
