// Test-only implementation of cf.testing.v1.EchoService (every call shape).
#ifndef CF_COMMON_TESTING_ECHO_SERVICE_H_
#define CF_COMMON_TESTING_ECHO_SERVICE_H_

#include <atomic>

#include "cf/testing/v1/echo.grpc.pb.h"

namespace cf::testing {

class EchoService final : public cf::testing::v1::EchoService::Service {
 public:
  // Expand calls still running (to see that a cancellation reached the backend).
  int running_expands() const { return running_expands_.load(); }

  grpc::Status Echo(grpc::ServerContext* context, const v1::EchoRequest* request,
                    v1::EchoResponse* response) override;
  grpc::Status Expand(grpc::ServerContext* context, const v1::EchoRequest* request,
                      grpc::ServerWriter<v1::EchoResponse>* writer) override;
  grpc::Status Collect(grpc::ServerContext* context, grpc::ServerReader<v1::EchoRequest>* reader,
                       v1::EchoResponse* response) override;
  grpc::Status Chat(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::EchoResponse, v1::EchoRequest>* stream) override;

 private:
  std::atomic<int> running_expands_{0};
};

}  // namespace cf::testing

#endif  // CF_COMMON_TESTING_ECHO_SERVICE_H_
