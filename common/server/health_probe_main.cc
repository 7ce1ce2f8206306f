// health_probe ADDRESS [SERVICE] [--timeout_ms=N]: exits 0 when grpc.health.v1.Health/Check
// answers SERVING, 1 otherwise, printing the answer. Used by tools/up to wait for readiness.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: health_probe ADDRESS [SERVICE] [--wait_ms=N]\n");
    return 2;
  }
  std::string address = argv[1];
  std::string service;
  int wait_ms = 0;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--wait_ms=", 0) == 0) {
      wait_ms = std::atoi(arg.c_str() + 10);
    } else {
      service = arg;
    }
  }
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  std::string answer;
  do {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, request, &response);
    if (status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      std::printf("SERVING\n");
      return 0;
    }
    answer = status.ok()
                 ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
                 : status.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < give_up);
  std::printf("%s\n", answer.c_str());
  return 1;
}
