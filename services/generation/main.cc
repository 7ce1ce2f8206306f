// generation: serves cf.generation.v1.GenerationService (scripts; image and video jobs next).
//
// Configuration (flag or environment): --database_url / CF_DATABASE_URL (required, role
// cf_generation), --catalog_addr / CF_CATALOG_ADDR (required), --listen / CF_LISTEN (default
// 127.0.0.1:50053), --db_pool_size, --db_queue, --drain_timeout_s.
#include <grpcpp/grpcpp.h>

#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/generation/dossier_source.h"
#include "services/generation/generation.h"
#include "services/generation/generation_service.h"
#include "services/generation/script_store.h"

namespace {

// The newest migration this build relies on (0003: script request ids).
constexpr int kSchemaVersion = 3;

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("generation");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto catalog_addr = config->Require("catalog_addr");
  if (!catalog_addr.ok()) return cf::StartupFailure(catalog_addr.status());
  auto database = cf::OpenDatabase(*config, kSchemaVersion);
  if (!database.ok()) return cf::StartupFailure(database.status());
  auto options = cf::ServerOptionsFromConfig(*config, "generation", "127.0.0.1:50053");
  if (!options.ok()) return cf::StartupFailure(options.status());

  cf::generation::CatalogClient catalog(
      grpc::CreateChannel(*catalog_addr, grpc::InsecureChannelCredentials()));
  cf::generation::ScriptStore scripts(database->pool.get());
  cf::generation::Generation generation(&scripts, &catalog);
  cf::generation::GenerationService service(&generation, database->executor.get());
  options->services = {{"cf.generation.v1.GenerationService", &service}};
  options->readiness_probe = database->probe;
  return cf::ServeUntilSignal(std::move(*options));
}
