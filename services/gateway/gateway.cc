#include "services/gateway/gateway.h"

#include "grpc/health/v1/health.grpc.pb.h"

namespace cf::gateway {
namespace {

using grpc::health::v1::HealthCheckResponse;

// Asks the backend that serves `service`; an unreachable backend is NOT_SERVING.
std::optional<HealthService::ServingStatus> BackendHealth(const Router& router,
                                                          const std::string& service) {
  std::shared_ptr<grpc::Channel> channel = router.ChannelFor(service);
  if (channel == nullptr) return std::nullopt;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::Status status =
      grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
  if (!status.ok()) return HealthCheckResponse::NOT_SERVING;
  return response.status();
}

}  // namespace

const std::vector<std::string>& FrontedProtoFiles() {
  static const std::vector<std::string> files = {
      "cf/catalog/v1/catalog.proto", "cf/generation/v1/generation.proto",
      "cf/assembly/v1/assembly.proto", "cf/publishing/v1/publishing.proto",
      "cf/analytics/v1/analytics.proto"};
  return files;
}

Gateway::Gateway(const Config& config, const std::vector<std::string>& proto_files,
                 absl::Duration default_deadline)
    : router_(Router::FromConfig(config, ServicesInFiles(proto_files))),
      forwarding_(&router_, UnaryMethodsInFiles(proto_files), default_deadline) {}

void Gateway::Configure(ServerOptions* options) {
  options->generic_service = &forwarding_;
  options->extra_service_names = router_.routed_services();
  options->health_resolver = [this](const std::string& service) {
    return BackendHealth(router_, service);
  };
}

}  // namespace cf::gateway
