// The one way every process here serves gRPC: health (grpc.health.v1), reflection, keepalive,
// a maximum connection age, a readiness probe feeding health, and a drain on shutdown.
#ifndef CF_COMMON_SERVER_SERVER_H_
#define CF_COMMON_SERVER_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/health.h"
#include "common/server/reflection.h"

namespace cf {

struct ServerOptions {
  std::string name;            // for logs, e.g. "catalog"
  std::string listen_address;  // host:port; port 0 picks a free one
  // Services to register, with their full names (for health and reflection).
  std::vector<std::pair<std::string, grpc::Service*>> services;
  // Answers every method no registered service has (the gateway's forwarder).
  grpc::CallbackGenericService* generic_service = nullptr;
  // Names reflection lists besides the registered services (what a generic service fronts).
  std::vector<std::string> extra_service_names;
  // Answers health checks for names the server does not own (the gateway's backends).
  HealthService::Resolver health_resolver;
  // Polled to set health: false answers NOT_SERVING (e.g. the database is unreachable).
  std::function<bool()> readiness_probe;
  absl::Duration probe_interval = absl::Seconds(1);
  // The whole shutdown's budget: in-flight calls may run this long after shutdown starts
  // before they are cancelled, and on_shutdown (which runs beside the drain) gets as long.
  // Kubernetes' default grace period is 30 s.
  absl::Duration drain_timeout = absl::Seconds(25);
  absl::Duration max_connection_age = absl::Minutes(30);
  // Runs once the server listens (e.g. starts background workers, so no job is taken by a
  // process that then fails to serve).
  std::function<void()> on_started;
  // Runs when shutdown starts, after health turns NOT_SERVING, on its own thread beside the
  // drain (ends long-lived streams, stops background workers); Shutdown waits for both.
  std::function<void()> on_shutdown;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();

  int port() const { return port_; }
  std::string address() const;

  // NOT_SERVING, stop accepting calls, let in-flight calls finish up to the drain timeout,
  // then cancel the rest. Idempotent.
  void Shutdown();

 private:
  Server() = default;
  void ProbeLoop();
  void SetServing(bool serving);

  ServerOptions options_;
  std::unique_ptr<ReflectionService> reflection_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string host_;
  std::mutex mutex_;
  std::condition_variable stop_probe_;
  bool shutting_down_ = false;
  bool serving_ = false;
  std::thread probe_thread_;
};

// Call first in main, before any thread starts: SIGTERM and SIGINT are then delivered only to
// WaitForTerminationSignal.
void BlockTerminationSignals();
// Blocks until SIGTERM or SIGINT; returns the signal number.
int WaitForTerminationSignal();

}  // namespace cf

#endif  // CF_COMMON_SERVER_SERVER_H_
