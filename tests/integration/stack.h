// The whole backend in one test process, each service a real gRPC server on loopback over a
// real PostgreSQL (its own database, each service connected as its own role), behind the
// gateway. Tests talk to gateway() as an operator would.
#ifndef CF_TESTS_INTEGRATION_STACK_H_
#define CF_TESTS_INTEGRATION_STACK_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/db/executor.h"
#include "common/db/pool.h"
#include "common/media/media_store.h"
#include "common/server/server.h"
#include "common/testing/echo_service.h"
#include "common/testing/postgres.h"
#include "services/catalog/catalog.h"
#include "services/catalog/catalog_service.h"
#include "services/gateway/gateway.h"
#include "services/generation/dossier_source.h"
#include "services/generation/generation.h"
#include "services/generation/generation_service.h"
#include "services/generation/job_store.h"
#include "services/generation/job_watch.h"
#include "services/generation/local_provider.h"
#include "services/generation/media_handler.h"
#include "services/generation/media_jobs.h"
#include "services/generation/script_store.h"

namespace cf::testing {

class TestStack {
 public:
  TestStack();
  ~TestStack();

  // Starts the generation workers (they are off until then, so tests can see pending jobs).
  void StartWorkers();
  void StopCatalog() { catalog_server_->Shutdown(); }

  std::shared_ptr<grpc::Channel> gateway() const { return channel_; }
  cf::testing::TestDatabase& database() { return database_; }
  cf::testing::EchoService& echo() { return echo_service_; }
  const media::MediaStore& media() const { return *media_; }

 private:
  cf::testing::TestDatabase database_;
  BoundedExecutor executor_{4, 64};

  db::ConnectionPool catalog_pool_;
  db::PipelinedReader catalog_reads_;
  catalog::DossierStore dossiers_;
  catalog::Catalog catalog_logic_;
  catalog::CatalogService catalog_service_;
  std::unique_ptr<Server> catalog_server_;

  db::ConnectionPool generation_pool_;
  generation::ScriptStore scripts_;
  generation::JobStore jobs_;
  std::unique_ptr<media::MediaStore> media_;
  std::unique_ptr<generation::LocalImageProvider> image_provider_;
  std::unique_ptr<generation::LocalVideoProvider> video_provider_;
  std::unique_ptr<generation::CatalogClient> catalog_client_;
  std::unique_ptr<generation::Generation> generation_logic_;
  std::unique_ptr<generation::MediaJobs> media_jobs_;
  std::unique_ptr<generation::JobWatcher> watcher_;
  std::unique_ptr<generation::MediaWorkers> workers_;
  std::unique_ptr<generation::GenerationService> generation_service_;
  std::unique_ptr<Server> generation_server_;

  cf::testing::EchoService echo_service_;
  std::unique_ptr<Server> echo_server_;

  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<Server> gateway_server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace cf::testing

#endif  // CF_TESTS_INTEGRATION_STACK_H_
