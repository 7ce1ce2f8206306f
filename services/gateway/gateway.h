// The gateway's parts wired together: routing table, forwarder, and the health and reflection
// answers for everything it fronts. It holds no business logic.
#ifndef CF_SERVICES_GATEWAY_GATEWAY_H_
#define CF_SERVICES_GATEWAY_GATEWAY_H_

#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/server/server.h"
#include "services/gateway/proxy.h"
#include "services/gateway/router.h"

namespace cf::gateway {

// The contracts linked into the gateway binary, whose services it can front.
const std::vector<std::string>& FrontedProtoFiles();

class Gateway {
 public:
  // `proto_files`: the linked .proto files whose services may be routed.
  Gateway(const Config& config, const std::vector<std::string>& proto_files,
          absl::Duration default_deadline);

  // Adds the forwarder, the routed names (health, reflection) and the health resolver.
  void Configure(ServerOptions* options);
  const Router& router() const { return router_; }

 private:
  Router router_;
  ForwardingService forwarding_;
};

}  // namespace cf::gateway

#endif  // CF_SERVICES_GATEWAY_GATEWAY_H_
