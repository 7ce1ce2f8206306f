// grpc.health.v1.Health for every server here. A server's own services (and "") are answered
// from the status set with SetServing; names it does not own can be answered by a resolver
// (the gateway asks the backend that serves the name).
#ifndef CF_COMMON_SERVER_HEALTH_H_
#define CF_COMMON_SERVER_HEALTH_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"

namespace cf {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // Answers SERVING while the process answers at all, whatever its dependencies: the name for
  // Kubernetes' liveness probe, so a database outage makes pods unready, never restarts them.
  static constexpr char kLiveness[] = "liveness";

  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
  // Answers a name this server does not own; nullopt when the name is unknown (NOT_FOUND).
  using Resolver = std::function<std::optional<ServingStatus>(const std::string& service)>;

  // `names`: the services this server owns; "" is always included.
  explicit HealthService(std::vector<std::string> names, Resolver resolver = nullptr);

  void SetServing(bool serving);
  // NOT_SERVING from now on, whatever SetServing says later (the server is draining).
  void Shutdown();

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  // nullopt: unknown name.
  std::optional<ServingStatus> StatusOf(const std::string& service);

  std::vector<std::string> names_;
  Resolver resolver_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool serving_ = false;
  bool shut_down_ = false;
};

}  // namespace cf

#endif  // CF_COMMON_SERVER_HEALTH_H_
