// How other services read assemblies and mark them published: assembly's API over gRPC (never
// its table).
#ifndef CF_SERVICES_ASSEMBLY_ASSEMBLY_CLIENT_H_
#define CF_SERVICES_ASSEMBLY_ASSEMBLY_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/assembly/v1/assembly.grpc.pb.h"
#include "common/server/call_context.h"

namespace cf::assembly {

// "tiktok" for PLATFORM_TIKTOK ("" for unspecified), and back (unspecified for an unknown name).
std::string PlatformName(v1::Platform platform);
v1::Platform PlatformOf(const std::string& name);

class AssemblySource {
 public:
  virtual ~AssemblySource() = default;
  // NOT_FOUND when there is no such assembly; UNAVAILABLE when assembly cannot answer.
  virtual absl::StatusOr<v1::Assembly> GetAssembly(const std::string& id,
                                                   const CallContext& call) = 0;
  // ready -> published (again: no change); FAILED_PRECONDITION from another state.
  virtual absl::StatusOr<v1::Assembly> MarkPublished(const std::string& id,
                                                     const CallContext& call) = 0;
};

// Assembly over gRPC (CF_ASSEMBLY_ADDR). Each call inherits the caller's deadline, capped.
class AssemblyClient final : public AssemblySource {
 public:
  explicit AssemblyClient(std::shared_ptr<grpc::Channel> channel,
                          absl::Duration max_wait = absl::Seconds(5));
  absl::StatusOr<v1::Assembly> GetAssembly(const std::string& id, const CallContext& call) override;
  absl::StatusOr<v1::Assembly> MarkPublished(const std::string& id,
                                             const CallContext& call) override;

 private:
  std::unique_ptr<v1::AssemblyService::Stub> stub_;
  absl::Duration max_wait_;
};

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_ASSEMBLY_CLIENT_H_
