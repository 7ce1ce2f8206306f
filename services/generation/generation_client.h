// How other services read scripts, images and videos: generation's API over gRPC.
#ifndef CF_SERVICES_GENERATION_GENERATION_CLIENT_H_
#define CF_SERVICES_GENERATION_GENERATION_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/generation/v1/generation.grpc.pb.h"
#include "common/server/call_context.h"

namespace cf::generation {

class ContentSource {
 public:
  virtual ~ContentSource() = default;
  // NOT_FOUND naming the id when missing; UNAVAILABLE when generation cannot answer.
  virtual absl::StatusOr<v1::Script> GetScript(const std::string& id, const CallContext& call) = 0;
  virtual absl::StatusOr<v1::Video> GetVideo(const std::string& id, const CallContext& call) = 0;
  virtual absl::StatusOr<v1::Image> GetImage(const std::string& id, const CallContext& call) = 0;
};

// Generation over gRPC (CF_GENERATION_ADDR). Each call inherits the caller's deadline, capped.
class GenerationClient final : public ContentSource {
 public:
  explicit GenerationClient(std::shared_ptr<grpc::Channel> channel,
                            absl::Duration max_wait = absl::Seconds(5));
  absl::StatusOr<v1::Script> GetScript(const std::string& id, const CallContext& call) override;
  absl::StatusOr<v1::Video> GetVideo(const std::string& id, const CallContext& call) override;
  absl::StatusOr<v1::Image> GetImage(const std::string& id, const CallContext& call) override;

 private:
  std::unique_ptr<v1::GenerationService::Stub> stub_;
  absl::Duration max_wait_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_GENERATION_CLIENT_H_
