// The benchmark's baseline: cf.testing.v1.EchoService/Echo on the same server runtime as every
// service (common/server: health, reflection, keepalive), answered inline by a callback handler,
// with no database and no executor hop.
#include "cf/testing/v1/echo.grpc.pb.h"
#include "common/log/log.h"
#include "common/server/service_main.h"

namespace {

class EchoServer final : public cf::testing::v1::EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const cf::testing::v1::EchoRequest* request,
                                 cf::testing::v1::EchoResponse* response) override {
    response->set_message(request->message());
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("echo");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto options = cf::ServerOptionsFromConfig(*config, "echo", "127.0.0.1:0");
  if (!options.ok()) return cf::StartupFailure(options.status());
  EchoServer echo;
  options->services = {{"cf.testing.v1.EchoService", &echo}};
  return cf::ServeUntilSignal(std::move(*options));
}
