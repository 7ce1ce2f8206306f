#include "common/server/call.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_format.h"
#include "common/log/log.h"
#include "common/status/status.h"

namespace cf {

std::string RequestIdOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kRequestIdHeader);
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

std::string NewRequestId() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return absl::StrFormat("%016x%016x", random(), random());
}

CallContext CallContextOf(const grpc::ServerContextBase& context) {
  CallContext call;
  auto deadline = context.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    call.deadline = absl::FromChrono(deadline);
  }
  call.request_id = RequestIdOf(context);
  return call;
}

void PrepareOutgoingCall(const CallContext& call, absl::Duration max_wait,
                         grpc::ClientContext* context) {
  absl::Time deadline = std::min(call.deadline, absl::Now() + max_wait);
  context->set_deadline(absl::ToChronoTime(deadline));
  if (!call.request_id.empty()) context->AddMetadata(kRequestIdHeader, call.request_id);
}

void LogCall(absl::string_view method, const std::string& request_id, const grpc::Status& status,
             double latency_ms) {
  static constexpr const char* kCodeNames[] = {"OK",
                                               "CANCELLED",
                                               "UNKNOWN",
                                               "INVALID_ARGUMENT",
                                               "DEADLINE_EXCEEDED",
                                               "NOT_FOUND",
                                               "ALREADY_EXISTS",
                                               "PERMISSION_DENIED",
                                               "RESOURCE_EXHAUSTED",
                                               "FAILED_PRECONDITION",
                                               "ABORTED",
                                               "OUT_OF_RANGE",
                                               "UNIMPLEMENTED",
                                               "INTERNAL",
                                               "UNAVAILABLE",
                                               "DATA_LOSS",
                                               "UNAUTHENTICATED"};
  int code = static_cast<int>(status.error_code());
  std::vector<LogField> fields = {{"method", std::string(method)},
                                  {"request_id", request_id},
                                  {"status", code >= 0 && code <= 16 ? kCodeNames[code] : "?"},
                                  {"latency_ms", latency_ms}};
  if (!status.ok()) fields.emplace_back("error", status.error_message());
  bool server_fault = status.error_code() == grpc::StatusCode::INTERNAL ||
                      status.error_code() == grpc::StatusCode::UNKNOWN ||
                      status.error_code() == grpc::StatusCode::DATA_LOSS;
  Log(server_fault ? LogLevel::kError : LogLevel::kInfo, "call", fields);
}

UnaryCall StartUnaryCall(grpc::CallbackServerContext* context, absl::string_view method) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto start = std::chrono::steady_clock::now();
  std::string request_id = RequestIdOf(*context);
  auto finish = [reactor, start, request_id,
                 method = std::string(method)](const grpc::Status& status) {
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    LogCall(method, request_id, status, ms);
    reactor->Finish(status);
  };
  return {reactor, std::move(finish)};
}

grpc::Status TooLateToStart(grpc::CallbackServerContext* context) {
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled before it started");
  }
  if (context->deadline() < std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed before start");
  }
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, BoundedExecutor* executor,
                                   absl::string_view method, std::function<absl::Status()> work) {
  UnaryCall call = StartUnaryCall(context, method);
  grpc::ServerUnaryReactor* reactor = call.reactor;
  std::function<void(const grpc::Status&)> finish = std::move(call.finish);
  bool queued = executor->TrySubmit([context, work = std::move(work), finish] {
    if (grpc::Status late = TooLateToStart(context); !late.ok()) {
      finish(late);
      return;
    }
    finish(ToGrpcStatus(work()));
  });
  if (!queued) {
    finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server busy: too many queued calls"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, BoundedExecutor* executor,
                                   absl::string_view method,
                                   std::function<absl::Status(const CallContext&)> work) {
  CallContext call = CallContextOf(*context);
  return RunUnary(
      context, executor, method,
      std::function<absl::Status()>([call, work = std::move(work)] { return work(call); }));
}

}  // namespace cf
