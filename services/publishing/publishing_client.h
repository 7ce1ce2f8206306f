// How other services read a post's lifetime stats: publishing's API over gRPC (never its tables
// or the platforms directly).
#ifndef CF_SERVICES_PUBLISHING_PUBLISHING_CLIENT_H_
#define CF_SERVICES_PUBLISHING_PUBLISHING_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/publishing/v1/publishing.grpc.pb.h"
#include "common/server/call_context.h"

namespace cf::publishing {

class PostStatsSource {
 public:
  virtual ~PostStatsSource() = default;
  // NOT_FOUND when there is no such post; UNAVAILABLE when publishing or the platform cannot
  // answer now.
  virtual absl::StatusOr<v1::PostStats> GetPostStats(const std::string& published_content_id,
                                                     const CallContext& call) = 0;
};

// Publishing over gRPC (CF_PUBLISHING_ADDR). Each call inherits the caller's deadline, capped.
class PublishingClient final : public PostStatsSource {
 public:
  explicit PublishingClient(std::shared_ptr<grpc::Channel> channel,
                            absl::Duration max_wait = absl::Seconds(30));
  absl::StatusOr<v1::PostStats> GetPostStats(const std::string& published_content_id,
                                             const CallContext& call) override;

 private:
  std::unique_ptr<v1::PublishingService::Stub> stub_;
  absl::Duration max_wait_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PUBLISHING_CLIENT_H_
