// The one way a process opens a channel to another service.
#ifndef CF_COMMON_SERVER_CHANNEL_H_
#define CF_COMMON_SERVER_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace cf {

// A channel to `address` with keepalive (dead peers are noticed in ~40 s) and round-robin load
// balancing: with a headless Kubernetes Service (dns:///name:port) calls spread over every pod
// instead of sticking to the one the first connection reached.
std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address);

}  // namespace cf

#endif  // CF_COMMON_SERVER_CHANNEL_H_
