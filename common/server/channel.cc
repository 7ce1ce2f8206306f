#include "common/server/channel.h"

#include "absl/strings/str_cat.h"

namespace cf {

std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10 * 1000);
  args.SetLoadBalancingPolicyName("round_robin");
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

absl::Status StatusOfCall(const grpc::Status& status, absl::string_view service,
                          absl::string_view what) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::NOT_FOUND:
      return absl::NotFoundError(absl::StrCat(what, " not found"));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::InvalidArgumentError(status.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::FailedPreconditionError(status.error_message());
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(absl::StrCat("the ", service, " did not answer in time"));
    default:
      return absl::UnavailableError(
          absl::StrCat("the ", service, " is unavailable (", status.error_message(), "); retry"));
  }
}

}  // namespace cf
