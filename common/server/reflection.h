// grpc.reflection.v1alpha.ServerReflection over the descriptors linked into the binary.
//
// The stock plugin lists only the services registered on the server, so a gateway whose one
// handler is a generic service could not be discovered (DESIGN.md). This implementation lists
// the names it is given and describes any symbol or file in the generated descriptor pool; every
// server (backends and gateway) uses it, so reflection works one way everywhere.
#ifndef CF_COMMON_SERVER_REFLECTION_H_
#define CF_COMMON_SERVER_REFLECTION_H_

#include <string>
#include <vector>

#include "src/proto/grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace cf {

class ReflectionService final : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  // `service_names`: full names answered to list_services (reflection itself is added).
  explicit ReflectionService(std::vector<std::string> service_names);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                               grpc::reflection::v1alpha::ServerReflectionRequest>* stream)
      override;

  // One request's answer; `sent_files` carries the files already sent on this stream so each
  // file goes out once.
  grpc::reflection::v1alpha::ServerReflectionResponse Answer(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request,
      std::vector<std::string>* sent_files) const;

  static constexpr char kServiceName[] = "grpc.reflection.v1alpha.ServerReflection";

 private:
  std::vector<std::string> service_names_;
};

}  // namespace cf

#endif  // CF_COMMON_SERVER_REFLECTION_H_
