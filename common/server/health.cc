#include "common/server/health.h"

#include <algorithm>
#include <chrono>

namespace cf {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

HealthService::HealthService(std::vector<std::string> names, Resolver resolver)
    : names_(std::move(names)), resolver_(std::move(resolver)) {
  names_.push_back("");
}

void HealthService::SetServing(bool serving) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    serving_ = serving;
  }
  changed_.notify_all();
}

void HealthService::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shut_down_ = true;
  }
  changed_.notify_all();
}

std::optional<HealthService::ServingStatus> HealthService::StatusOf(const std::string& service) {
  if (service == kLiveness) return HealthCheckResponse::SERVING;
  if (std::find(names_.begin(), names_.end(), service) != names_.end()) {
    std::lock_guard<std::mutex> lock(mutex_);
    return serving_ && !shut_down_ ? HealthCheckResponse::SERVING
                                   : HealthCheckResponse::NOT_SERVING;
  }
  if (resolver_) return resolver_(service);
  return std::nullopt;
}

grpc::Status HealthService::Check(grpc::ServerContext* /*context*/,
                                  const HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  std::optional<ServingStatus> status = StatusOf(request->service());
  if (!status) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown service '" + request->service() + "'");
  }
  response->set_status(*status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context, const HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  // Sends the current status, then every change, until the caller leaves or the server stops.
  // Names answered by the resolver are re-checked every second.
  std::optional<ServingStatus> last;
  for (;;) {
    std::optional<ServingStatus> status = StatusOf(request->service());
    ServingStatus current = status ? *status : HealthCheckResponse::SERVICE_UNKNOWN;
    if (!last || *last != current) {
      HealthCheckResponse response;
      response.set_status(current);
      if (!writer->Write(response)) return grpc::Status::OK;
      last = current;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (shut_down_) return grpc::Status::OK;
    changed_.wait_for(lock, std::chrono::seconds(1));
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
  }
}

}  // namespace cf
