#include "tests/integration/stack.h"

#include <cstdlib>

#include "common/testing/subprocess.h"

namespace cf::testing {
namespace {

std::unique_ptr<Server> StartServer(const std::string& name, grpc::Service* service) {
  ServerOptions options;
  options.name = name;
  options.listen_address = "127.0.0.1:0";
  options.services = {{name, service}};
  return std::move(Server::Start(std::move(options)).value());
}

}  // namespace

TestStack::TestStack()
    : catalog_pool_(database_.RoleConninfo("cf_catalog"), 4),
      catalog_reads_(database_.RoleConninfo("cf_catalog"), {}),
      dossiers_(&catalog_pool_, &catalog_reads_),
      catalog_logic_(&dossiers_),
      catalog_service_(&catalog_logic_, &executor_),
      generation_pool_(database_.RoleConninfo("cf_generation"), 6),
      scripts_(&generation_pool_),
      jobs_(&generation_pool_) {
  catalog_server_ = StartServer("cf.catalog.v1.CatalogService", &catalog_service_);

  media_ = std::make_unique<media::MediaStore>(
      media::MediaStore::Open(cf::testing::TestTempPath("media-" + database_.name()), "").value());
  image_provider_ =
      std::make_unique<generation::LocalImageProvider>(media_.get(), absl::Seconds(60));
  video_provider_ =
      std::make_unique<generation::LocalVideoProvider>(media_.get(), absl::Seconds(120));
  catalog_client_ = std::make_unique<generation::CatalogClient>(
      grpc::CreateChannel(catalog_server_->address(), grpc::InsecureChannelCredentials()));
  generation_logic_ = std::make_unique<generation::Generation>(&scripts_, catalog_client_.get());
  media_jobs_ = std::make_unique<generation::MediaJobs>(
      &jobs_, catalog_client_.get(), image_provider_.get(), video_provider_.get());
  watcher_ = std::make_unique<generation::JobWatcher>(&jobs_, absl::Milliseconds(50));
  generation_service_ = std::make_unique<generation::GenerationService>(
      generation_logic_.get(), media_jobs_.get(), watcher_.get(), &executor_);
  generation_server_ = StartServer("cf.generation.v1.GenerationService", generation_service_.get());

  echo_server_ = StartServer("cf.testing.v1.EchoService", &echo_service_);

  Config config(
      std::map<std::string, std::string>{{"catalog_addr", catalog_server_->address()},
                                         {"generation_addr", generation_server_->address()},
                                         {"testing_addr", echo_server_->address()}});
  std::vector<std::string> files = gateway::FrontedProtoFiles();
  files.push_back("cf/testing/v1/echo.proto");
  gateway_ = std::make_unique<gateway::Gateway>(config, files, absl::Seconds(30));
  ServerOptions options;
  options.name = "gateway";
  options.listen_address = "127.0.0.1:0";
  gateway_->Configure(&options);
  gateway_server_ = std::move(Server::Start(std::move(options)).value());
  channel_ = grpc::CreateChannel(gateway_server_->address(), grpc::InsecureChannelCredentials());
}

void TestStack::StartWorkers() {
  jobs::RunnerOptions options;
  options.worker_id = "test-worker";
  options.poll_interval = absl::Milliseconds(100);
  options.lease = absl::Seconds(10);
  options.conninfo = database_.RoleConninfo("cf_generation");
  workers_ = std::make_unique<generation::MediaWorkers>(&jobs_, image_provider_.get(),
                                                        video_provider_.get(), 2, 1, options);
  workers_->Start();
}

TestStack::~TestStack() {
  gateway_server_.reset();
  watcher_->Stop();
  if (workers_) workers_->Stop();
  generation_server_.reset();
  echo_server_.reset();
  catalog_server_.reset();
}

}  // namespace cf::testing
