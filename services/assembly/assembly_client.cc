#include "services/assembly/assembly_client.h"

#include "absl/strings/str_cat.h"
#include "common/server/call.h"
#include "common/server/channel.h"

namespace cf::assembly {

std::string PlatformName(v1::Platform platform) {
  switch (platform) {
    case v1::PLATFORM_TIKTOK:
      return "tiktok";
    case v1::PLATFORM_INSTAGRAM:
      return "instagram";
    case v1::PLATFORM_FACEBOOK:
      return "facebook";
    case v1::PLATFORM_YOUTUBE:
      return "youtube";
    default:
      return "";
  }
}

v1::Platform PlatformOf(const std::string& name) {
  for (v1::Platform platform :
       {v1::PLATFORM_TIKTOK, v1::PLATFORM_INSTAGRAM, v1::PLATFORM_FACEBOOK, v1::PLATFORM_YOUTUBE}) {
    if (PlatformName(platform) == name) return platform;
  }
  return v1::PLATFORM_UNSPECIFIED;
}

AssemblyClient::AssemblyClient(std::shared_ptr<grpc::Channel> channel, absl::Duration max_wait)
    : stub_(v1::AssemblyService::NewStub(std::move(channel))), max_wait_(max_wait) {}

absl::StatusOr<v1::Assembly> AssemblyClient::GetAssembly(const std::string& id,
                                                         const CallContext& call) {
  grpc::ClientContext context;
  PrepareOutgoingCall(call, max_wait_, &context);
  v1::GetAssemblyRequest request;
  request.set_id(id);
  v1::Assembly assembly;
  absl::Status status = StatusOfCall(stub_->GetAssembly(&context, request, &assembly), "assembly",
                                     absl::StrCat("assembly ", id));
  if (!status.ok()) return status;
  return assembly;
}

absl::StatusOr<v1::Assembly> AssemblyClient::MarkPublished(const std::string& id,
                                                           const CallContext& call) {
  grpc::ClientContext context;
  PrepareOutgoingCall(call, max_wait_, &context);
  v1::MarkPublishedRequest request;
  request.set_id(id);
  v1::Assembly assembly;
  absl::Status status = StatusOfCall(stub_->MarkPublished(&context, request, &assembly), "assembly",
                                     absl::StrCat("assembly ", id));
  if (!status.ok()) return status;
  return assembly;
}

}  // namespace cf::assembly
