#include "common/server/server.h"

#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <signal.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"

namespace cf {
namespace {

// Linking libgrpc++_reflection registers the stock reflection plugin with every ServerBuilder.
// It lists only registered services, so it is dropped in favour of ReflectionService.
class WithoutStockReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
                                    return plugin->name() == "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

std::string HostOf(const std::string& address) {
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  // Debian's Abseil checks every absl::Mutex acquisition (gRPC takes many per call) for lock
  // cycles and records stack traces for it: about 5% of the gateway's CPU in a profile of the
  // API benchmark. That is a debugging aid, not a production setting.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::unique_ptr<Server> server(new Server());
  server->options_ = std::move(options);
  const ServerOptions& opts = server->options_;

  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<WithoutStockReflection>());
  builder.AddListeningPort(opts.listen_address, grpc::InsecureServerCredentials(), &server->port_);
  // Keepalive: ping idle clients so dead peers are noticed; accept client pings every 10 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  // A maximum connection age makes clients reconnect, so load spreads over new replicas.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(opts.max_connection_age)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(opts.drain_timeout)));

  // Health answers for the services this server runs; names it only fronts go to the resolver.
  std::vector<std::string> owned;
  for (const auto& [name, service] : opts.services) {
    builder.RegisterService(service);
    owned.push_back(name);
  }
  server->health_ = std::make_unique<HealthService>(owned, opts.health_resolver);
  std::vector<std::string> names = owned;
  names.insert(names.end(), opts.extra_service_names.begin(), opts.extra_service_names.end());
  builder.RegisterService(server->health_.get());
  names.push_back("grpc.health.v1.Health");
  server->reflection_ = std::make_unique<ReflectionService>(names);
  builder.RegisterService(server->reflection_.get());
  if (opts.generic_service != nullptr) builder.RegisterCallbackGenericService(opts.generic_service);

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts.listen_address, " (in use or not allowed?)"));
  }
  server->host_ = HostOf(opts.listen_address);
  server->SetServing(opts.readiness_probe ? opts.readiness_probe() : true);
  if (opts.readiness_probe) {
    server->probe_thread_ = std::thread([s = server.get()] { s->ProbeLoop(); });
  }
  Log(LogLevel::kInfo, "serving", {{"address", server->address()}});
  if (opts.on_started) opts.on_started();
  return server;
}

std::string Server::address() const { return absl::StrCat(host_, ":", port_); }

void Server::SetServing(bool serving) {
  // Called with mutex_ held or before the probe thread exists.
  serving_ = serving;
  health_->SetServing(serving);
}

void Server::ProbeLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!shutting_down_) {
    stop_probe_.wait_for(
        lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.probe_interval)));
    if (shutting_down_) break;
    lock.unlock();
    bool ready = options_.readiness_probe();
    lock.lock();
    if (shutting_down_) break;
    if (ready != serving_) {
      Log(ready ? LogLevel::kInfo : LogLevel::kWarning,
          ready ? "dependencies reachable: SERVING" : "dependencies unreachable: NOT_SERVING");
    }
    SetServing(ready);
  }
}

void Server::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_) return;
    shutting_down_ = true;
    // Health first, so load balancers stop sending before the listener closes.
    health_->Shutdown();
  }
  stop_probe_.notify_all();
  if (probe_thread_.joinable()) probe_thread_.join();
  // Workers stop and calls drain at the same time, so the two together fit one grace period.
  std::thread stopping;
  if (options_.on_shutdown) stopping = std::thread(options_.on_shutdown);
  Log(LogLevel::kInfo, "draining",
      {{"drain_timeout_s", static_cast<double>(absl::ToDoubleSeconds(options_.drain_timeout))}});
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.drain_timeout)));
  server_->Wait();
  if (stopping.joinable()) stopping.join();
  Log(LogLevel::kInfo, "stopped");
}

Server::~Server() { Shutdown(); }

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal_number = 0;
  sigwait(&set, &signal_number);
  return signal_number;
}

}  // namespace cf
