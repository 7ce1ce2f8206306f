// The one way a process opens a channel to another service.
#ifndef CF_COMMON_SERVER_CHANNEL_H_
#define CF_COMMON_SERVER_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cf {

// A channel to `address` with keepalive (dead peers are noticed in ~40 s) and round-robin load
// balancing: with a headless Kubernetes Service (dns:///name:port) calls spread over every pod
// instead of sticking to the one the first connection reached.
std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address);

// What a call to another service answered, in the caller's words: OK; NOT_FOUND as
// "<what> not found"; INVALID_ARGUMENT and FAILED_PRECONDITION as they came; DEADLINE_EXCEEDED;
// anything else UNAVAILABLE naming `service` (retryable: the caller did nothing wrong).
absl::Status StatusOfCall(const grpc::Status& status, absl::string_view service,
                          absl::string_view what);

}  // namespace cf

#endif  // CF_COMMON_SERVER_CHANNEL_H_
