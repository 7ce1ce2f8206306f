#include "common/server/server.h"

#include <atomic>
#include <future>
#include <thread>

#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "common/server/call.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "src/proto/grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace cf {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
namespace reflection = grpc::reflection::v1alpha;
namespace catalog = cf::catalog::v1;

// A catalog whose GetDossier sleeps for the requested id's length in tens of milliseconds,
// so tests can hold a call in flight.
class SlowCatalog final : public catalog::CatalogService::CallbackService {
 public:
  explicit SlowCatalog(BoundedExecutor* executor) : executor_(executor) {}
  grpc::ServerUnaryReactor* GetDossier(grpc::CallbackServerContext* context,
                                       const catalog::GetDossierRequest* request,
                                       catalog::Dossier* response) override {
    return RunUnary(context, executor_, "GetDossier", [this, request, response] {
      ++started;
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * request->id().size()));
      response->set_id(request->id());
      return absl::OkStatus();
    });
  }
  std::atomic<int> started{0};

 private:
  BoundedExecutor* executor_;
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(std::function<bool()> probe = nullptr) {
    ServerOptions options;
    options.name = "test";
    options.listen_address = "127.0.0.1:0";
    options.services = {{"cf.catalog.v1.CatalogService", &catalog_}};
    options.readiness_probe = std::move(probe);
    options.probe_interval = absl::Milliseconds(20);
    options.drain_timeout = absl::Seconds(5);
    auto server = Server::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }

  HealthCheckResponse::ServingStatus Check(const std::string& service) {
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::ClientContext context;
    grpc::Status status = Health::NewStub(channel_)->Check(&context, request, &response);
    if (!status.ok()) return HealthCheckResponse::UNKNOWN;
    return response.status();
  }

  BoundedExecutor executor_{4, 16};
  SlowCatalog catalog_{&executor_};
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerTest, HealthServesOverallAndPerService) {
  StartServer();
  EXPECT_EQ(Check(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("cf.catalog.v1.CatalogService"), HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, FailingProbeMeansNotServing) {
  std::atomic<bool> ready{true};
  StartServer([&] { return ready.load(); });
  EXPECT_EQ(Check(""), HealthCheckResponse::SERVING);
  ready = false;
  for (int i = 0; i < 1000 && Check("") == HealthCheckResponse::SERVING; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Check(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check("cf.catalog.v1.CatalogService"), HealthCheckResponse::NOT_SERVING);
  // Liveness is the process, not its database: Kubernetes must not restart it for an outage.
  EXPECT_EQ(Check("liveness"), HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, ReflectionListsAndDescribes) {
  StartServer();
  auto stub = reflection::ServerReflection::NewStub(channel_);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  reflection::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"cf.catalog.v1.CatalogService", "grpc.health.v1.Health",
                                      "grpc.reflection.v1alpha.ServerReflection"}));

  request.set_file_containing_symbol("cf.catalog.v1.CatalogService");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  // The catalog file and its imports (timestamp, field mask, empty).
  EXPECT_GE(response.file_descriptor_response().file_descriptor_proto_size(), 4);

  request.set_file_containing_symbol("no.such.Symbol");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServerTest, ShutdownLetsInFlightCallsFinish) {
  StartServer();
  auto stub = catalog::CatalogService::NewStub(channel_);
  auto in_flight = std::async(std::launch::async, [&] {
    catalog::GetDossierRequest request;
    request.set_id(std::string(30, 'x'));  // 300 ms
    catalog::Dossier response;
    grpc::ClientContext context;
    return stub->GetDossier(&context, request, &response);
  });
  while (catalog_.started.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->Shutdown();
  grpc::Status status = in_flight.get();
  EXPECT_TRUE(status.ok()) << status.error_message();

  catalog::GetDossierRequest request;
  request.set_id("y");
  catalog::Dossier response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  EXPECT_FALSE(stub->GetDossier(&context, request, &response).ok());
}

TEST_F(ServerTest, FullExecutorAnswersUnavailable) {
  BoundedExecutor tiny(1, 1);
  SlowCatalog slow(&tiny);
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.services = {{"cf.catalog.v1.CatalogService", &slow}};
  auto server = Server::Start(std::move(options));
  ASSERT_TRUE(server.ok());
  auto stub = catalog::CatalogService::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      catalog::GetDossierRequest request;
      request.set_id(std::string(20, 'x'));
      catalog::Dossier response;
      grpc::ClientContext context;
      return stub->GetDossier(&context, request, &response);
    }));
  }
  int unavailable = 0;
  for (auto& call : calls) {
    if (call.get().error_code() == grpc::StatusCode::UNAVAILABLE) ++unavailable;
  }
  EXPECT_GT(unavailable, 0);
}

}  // namespace
}  // namespace cf
