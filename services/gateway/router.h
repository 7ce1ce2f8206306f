// Where the gateway sends each call: "/cf.<service>.v1.<Name>/<Method>" goes to the backend
// configured as <service>_addr (flag --<service>_addr or CF_<SERVICE>_ADDR).
#ifndef CF_SERVICES_GATEWAY_ROUTER_H_
#define CF_SERVICES_GATEWAY_ROUTER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config.h"

namespace cf::gateway {

// "/a.b.Service/Method" -> "a.b.Service" (empty when malformed).
std::string ServiceOfMethod(const std::string& method);

// "cf.catalog.v1.CatalogService" -> "catalog"; nullopt for names outside cf.<service>.v1.
std::optional<std::string> BackendKeyOf(const std::string& service);

// The services declared in the given linked .proto files (full names).
std::vector<std::string> ServicesInFiles(const std::vector<std::string>& proto_files);

// The unary methods of those files as "/package.Service/Method": the gateway relays them with
// one read, one backend call and one write, instead of a bidirectional stream.
std::set<std::string> UnaryMethodsInFiles(const std::vector<std::string>& proto_files);

class Router {
 public:
  // Routes every service in `services` whose backend address is configured; services without
  // one are left out (their calls answer UNIMPLEMENTED).
  static Router FromConfig(const Config& config, const std::vector<std::string>& services);

  // The channel for the method's backend, or nullptr when nothing serves it.
  std::shared_ptr<grpc::Channel> ChannelFor(const std::string& service) const;
  std::vector<std::string> routed_services() const;
  const std::map<std::string, std::string>& addresses() const { return addresses_; }

 private:
  std::map<std::string, std::string> addresses_;                    // service -> address
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // address -> channel
};

}  // namespace cf::gateway

#endif  // CF_SERVICES_GATEWAY_ROUTER_H_
