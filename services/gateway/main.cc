// gateway: the one public port. Forwards cf.<service>.v1.* calls to CF_<SERVICE>_ADDR and answers
// health and reflection for everything it fronts.
//
// Configuration (flag or environment): --listen / CF_LISTEN (default 127.0.0.1:50051),
// --catalog_addr / CF_CATALOG_ADDR, --generation_addr / CF_GENERATION_ADDR (one per backend),
// --default_deadline_s (calls without a deadline get this one, default 300), --drain_timeout_s.
#include "absl/strings/str_join.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/gateway/gateway.h"

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("gateway");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto options = cf::ServerOptionsFromConfig(*config, "gateway", "127.0.0.1:50051");
  if (!options.ok()) return cf::StartupFailure(options.status());
  auto deadline = config->GetInt("default_deadline_s", 300, 1, 86400);
  if (!deadline.ok()) return cf::StartupFailure(deadline.status());

  cf::gateway::Gateway gateway(*config, cf::gateway::FrontedProtoFiles(), absl::Seconds(*deadline));
  if (gateway.router().routed_services().empty()) {
    return cf::StartupFailure(absl::FailedPreconditionError(
        "no backend configured: set CF_<SERVICE>_ADDR (or --<service>_addr=host:port) for "
        "at least one of catalog, generation, assembly, publishing, analytics"));
  }
  for (const auto& [service, address] : gateway.router().addresses()) {
    cf::Log(cf::LogLevel::kInfo, "route", {{"service", service}, {"backend", address}});
  }
  gateway.Configure(&*options);
  return cf::ServeUntilSignal(std::move(*options));
}
