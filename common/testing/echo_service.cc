#include "common/testing/echo_service.h"

#include <chrono>
#include <thread>

#include "common/server/call.h"
#include "common/status/status.h"

namespace cf::testing {
namespace {

void Describe(const grpc::ServerContext& context, v1::EchoResponse* response) {
  response->set_request_id(RequestIdOf(context));
  auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    response->set_deadline_left_ms(-1);
  } else {
    response->set_deadline_left_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       deadline - std::chrono::system_clock::now())
                                       .count());
  }
  auto it = context.client_metadata().find("x-test-header");
  if (it != context.client_metadata().end()) {
    response->set_test_header(std::string(it->second.data(), it->second.size()));
  }
}

grpc::Status Prepare(const v1::EchoRequest& request) {
  if (request.delay_ms() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(request.delay_ms()));
  }
  if (request.fail_with_code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT)) {
    return ToGrpcStatus(InvalidField("message", "asked to fail"));
  }
  if (request.fail_with_code() != 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(request.fail_with_code()), "asked to fail");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status EchoService::Echo(grpc::ServerContext* context, const v1::EchoRequest* request,
                               v1::EchoResponse* response) {
  grpc::Status status = Prepare(*request);
  if (!status.ok()) return status;
  response->set_message(request->message());
  Describe(*context, response);
  return grpc::Status::OK;
}

grpc::Status EchoService::Expand(grpc::ServerContext* context, const v1::EchoRequest* request,
                                 grpc::ServerWriter<v1::EchoResponse>* writer) {
  grpc::Status status = Prepare(*request);
  if (!status.ok()) return status;
  ++running_expands_;
  struct Done {
    std::atomic<int>* counter;
    ~Done() { --*counter; }
  } done{&running_expands_};
  for (int i = 0; i < request->count() && !context->IsCancelled(); ++i) {
    v1::EchoResponse response;
    response.set_message(request->message());
    response.set_index(i);
    Describe(*context, &response);
    if (!writer->Write(response)) break;
  }
  return grpc::Status::OK;
}

grpc::Status EchoService::Collect(grpc::ServerContext* context,
                                  grpc::ServerReader<v1::EchoRequest>* reader,
                                  v1::EchoResponse* response) {
  v1::EchoRequest request;
  int count = 0;
  while (reader->Read(&request)) {
    response->set_message(response->message() + request.message());
    ++count;
  }
  response->set_index(count);
  Describe(*context, response);
  return grpc::Status::OK;
}

grpc::Status EchoService::Chat(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EchoResponse, v1::EchoRequest>* stream) {
  v1::EchoRequest request;
  int index = 0;
  while (stream->Read(&request)) {
    // Failing mid-stream, while the caller still sends, exercises early ends in proxies.
    grpc::Status status = Prepare(request);
    if (!status.ok()) return status;
    v1::EchoResponse response;
    response.set_message(request.message());
    response.set_index(index++);
    Describe(*context, &response);
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace cf::testing
