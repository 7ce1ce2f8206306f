// The gateway's forwarder: a generic service that relays every call, streaming included, as raw
// bytes to the backend the router names, with deadline, metadata and status (details included)
// passed through, and an x-request-id added when the caller sent none.
#ifndef CF_SERVICES_GATEWAY_PROXY_H_
#define CF_SERVICES_GATEWAY_PROXY_H_

#include <grpcpp/generic/async_generic_service.h>

#include <set>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "services/gateway/router.h"

namespace cf::gateway {

class ForwardingService final : public grpc::CallbackGenericService {
 public:
  // `default_deadline` applies to calls that arrive without one; `unary_methods` (full paths)
  // take the unary relay, everything else the streaming one.
  ForwardingService(const Router* router, std::set<std::string> unary_methods,
                    absl::Duration default_deadline)
      : router_(router),
        unary_methods_(std::move(unary_methods)),
        default_deadline_(default_deadline) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  const Router* router_;
  const std::set<std::string> unary_methods_;
  absl::Duration default_deadline_;
};

}  // namespace cf::gateway

#endif  // CF_SERVICES_GATEWAY_PROXY_H_
