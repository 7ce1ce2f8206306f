#include "services/publishing/publishing_client.h"

#include "absl/strings/str_cat.h"
#include "common/server/call.h"
#include "common/server/channel.h"

namespace cf::publishing {

PublishingClient::PublishingClient(std::shared_ptr<grpc::Channel> channel, absl::Duration max_wait)
    : stub_(v1::PublishingService::NewStub(std::move(channel))), max_wait_(max_wait) {}

absl::StatusOr<v1::PostStats> PublishingClient::GetPostStats(
    const std::string& published_content_id, const CallContext& call) {
  grpc::ClientContext context;
  PrepareOutgoingCall(call, max_wait_, &context);
  v1::GetPostStatsRequest request;
  request.set_published_content_id(published_content_id);
  v1::PostStats stats;
  absl::Status status = StatusOfCall(stub_->GetPostStats(&context, request, &stats), "publishing",
                                     absl::StrCat("published content ", published_content_id));
  if (!status.ok()) return status;
  return stats;
}

}  // namespace cf::publishing
