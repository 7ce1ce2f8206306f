// Unary call handling for callback-API services: blocking work runs on a bounded executor (never
// on a gRPC reactor thread), and every call is logged with its method, status, latency and
// request id.
#ifndef CF_COMMON_SERVER_CALL_H_
#define CF_COMMON_SERVER_CALL_H_

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/db/executor.h"
#include "common/server/call_context.h"
#include "common/status/status.h"

namespace cf {

constexpr char kRequestIdHeader[] = "x-request-id";

// The caller's x-request-id, or "" when it sent none.
std::string RequestIdOf(const grpc::ServerContextBase& context);

// A random request id (32 hex digits).
std::string NewRequestId();

// The deadline and request id of the call being served.
CallContext CallContextOf(const grpc::ServerContextBase& context);

// Sets an outgoing call's deadline (the caller's, capped at `max_wait` from now) and forwards
// the request id.
void PrepareOutgoingCall(const CallContext& call, absl::Duration max_wait,
                         grpc::ClientContext* context);

// Queues `work` on `executor` and finishes the call with its status. A full queue answers
// UNAVAILABLE (retryable); a call whose deadline already passed is not started.
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, BoundedExecutor* executor,
                                   absl::string_view method, std::function<absl::Status()> work);

// The same, for work that makes outgoing calls and needs the call's context.
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, BoundedExecutor* executor,
                                   absl::string_view method,
                                   std::function<absl::Status(const CallContext&)> work);

// Moves a logic result (absl::StatusOr) into the response message, or returns its error.
template <typename Result, typename Response>
absl::Status Deliver(Result result, Response* response) {
  if (!result.ok()) return result.status();
  *response = std::move(*result);
  return absl::OkStatus();
}

// A method that answers nothing but its status (Delete) delivers nothing.
inline absl::Status Deliver(absl::Status status, google::protobuf::Empty* /*response*/) {
  return status;
}

// The one way a service serves a unary method: the gRPC adapter hands the request to a plain
// logic class, `(logic->*method)(request)` or, for logic that calls other services,
// `(logic->*method)(request, call_context)`, on the executor, and moves the result into the
// response. Use it through CF_SERVE_UNARY.
template <typename Logic, typename Request, typename Response, typename Result>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                     BoundedExecutor* executor, absl::string_view name,
                                     Logic* logic, Result (Logic::*method)(const Request&),
                                     const Request* request, Response* response) {
  return RunUnary(context, executor, name,
                  [=]() { return Deliver((logic->*method)(*request), response); });
}

template <typename Logic, typename Request, typename Response, typename Result>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                     BoundedExecutor* executor, absl::string_view name,
                                     Logic* logic,
                                     Result (Logic::*method)(const Request&, const CallContext&),
                                     const Request* request, Response* response) {
  return RunUnary(context, executor, name, [=](const CallContext& call) {
    return Deliver((logic->*method)(*request, call), response);
  });
}

// A unary call being served: its reactor, and `finish`, which logs the call (method, status,
// latency, request id) and finishes it. `finish` may run on any thread, once.
struct UnaryCall {
  grpc::ServerUnaryReactor* reactor;
  std::function<void(const grpc::Status&)> finish;
};
UnaryCall StartUnaryCall(grpc::CallbackServerContext* context, absl::string_view method);

// CANCELLED or DEADLINE_EXCEEDED when the call should not start its work; OK otherwise.
grpc::Status TooLateToStart(grpc::CallbackServerContext* context);

// The way a service serves a read that completes by itself (on a db::PipelinedReader): the
// logic, `logic->method(request, done)`, runs on the reactor's thread and must not block; its
// `done` may run on any thread and moves the result into the response. Use it through
// CF_SERVE_READ.
template <typename Logic, typename Request, typename Response>
grpc::ServerUnaryReactor* ServeRead(
    grpc::CallbackServerContext* context, absl::string_view name, Logic* logic,
    void (Logic::*method)(const Request&, std::function<void(absl::StatusOr<Response>)>),
    const Request* request, Response* response) {
  UnaryCall call = StartUnaryCall(context, name);
  if (grpc::Status late = TooLateToStart(context); !late.ok()) {
    call.finish(late);
    return call.reactor;
  }
  (logic->*method)(*request,
                   [finish = std::move(call.finish), response](absl::StatusOr<Response> result) {
                     finish(ToGrpcStatus(Deliver(std::move(result), response)));
                   });
  return call.reactor;
}

// Defines the override `Service::Name` that serves `Logic::Name` of the member `logic` on the
// member `executor_`. `prefix` is the full service name in slashes, e.g.
// "/cf.catalog.v1.CatalogService/".
#define CF_SERVE_UNARY(Service, prefix, Logic, logic, Name, Request, Response)              \
  grpc::ServerUnaryReactor* Service::Name(grpc::CallbackServerContext* context,             \
                                          const Request* request, Response* response) {     \
    return ::cf::ServeUnary(context, executor_, prefix #Name, logic, &Logic::Name, request, \
                            response);                                                      \
  }

// The same for a read served with ServeRead (no executor).
#define CF_SERVE_READ(Service, prefix, Logic, logic, Name, Request, Response)              \
  grpc::ServerUnaryReactor* Service::Name(grpc::CallbackServerContext* context,            \
                                          const Request* request, Response* response) {    \
    return ::cf::ServeRead(context, prefix #Name, logic, &Logic::Name, request, response); \
  }

// Logs one finished call.
void LogCall(absl::string_view method, const std::string& request_id, const grpc::Status& status,
             double latency_ms);

}  // namespace cf

#endif  // CF_COMMON_SERVER_CALL_H_
