#include "services/gateway/router.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/server/channel.h"

namespace cf::gateway {

std::string ServiceOfMethod(const std::string& method) {
  if (method.size() < 4 || method[0] != '/') return "";
  size_t slash = method.find('/', 1);
  if (slash == std::string::npos || slash == 1 || slash + 1 == method.size()) return "";
  return method.substr(1, slash - 1);
}

std::optional<std::string> BackendKeyOf(const std::string& service) {
  std::vector<std::string> parts = absl::StrSplit(service, '.');
  if (parts.size() != 4 || parts[0] != "cf" || parts[1].empty() || parts[2] != "v1") {
    return std::nullopt;
  }
  return parts[1];
}

namespace {

// The services declared in `proto_files` (compiled into this binary).
std::vector<const google::protobuf::ServiceDescriptor*> ServiceDescriptorsIn(
    const std::vector<std::string>& proto_files) {
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : proto_files) {
    const auto* file = pool->FindFileByName(name);
    if (file == nullptr) continue;
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  }
  return services;
}

}  // namespace

std::vector<std::string> ServicesInFiles(const std::vector<std::string>& proto_files) {
  std::vector<std::string> services;
  for (const auto* service : ServiceDescriptorsIn(proto_files)) {
    services.push_back(service->full_name());
  }
  return services;
}

std::set<std::string> UnaryMethodsInFiles(const std::vector<std::string>& proto_files) {
  std::set<std::string> methods;
  for (const auto* service : ServiceDescriptorsIn(proto_files)) {
    for (int m = 0; m < service->method_count(); ++m) {
      const auto* method = service->method(m);
      if (method->client_streaming() || method->server_streaming()) continue;
      methods.insert("/" + service->full_name() + "/" + method->name());
    }
  }
  return methods;
}

Router Router::FromConfig(const Config& config, const std::vector<std::string>& services) {
  Router router;
  for (const std::string& service : services) {
    std::optional<std::string> key = BackendKeyOf(service);
    if (!key) continue;
    std::optional<std::string> address = config.Get(*key + "_addr");
    if (!address) continue;
    router.addresses_[service] = *address;
    if (router.channels_.count(*address) == 0)
      router.channels_[*address] = ServiceChannel(*address);
  }
  return router;
}

std::shared_ptr<grpc::Channel> Router::ChannelFor(const std::string& service) const {
  auto it = addresses_.find(service);
  if (it == addresses_.end()) return nullptr;
  return channels_.at(it->second);
}

std::vector<std::string> Router::routed_services() const {
  std::vector<std::string> names;
  for (const auto& [service, address] : addresses_) names.push_back(service);
  return names;
}

}  // namespace cf::gateway
