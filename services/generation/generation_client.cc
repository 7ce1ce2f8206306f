#include "services/generation/generation_client.h"

#include "absl/strings/str_cat.h"
#include "common/server/call.h"
#include "common/server/channel.h"

namespace cf::generation {
namespace {

// One unary Get of `what` <id> through `method` of the stub.
template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> Get(v1::GenerationService::Stub* stub, Method method,
                             absl::Duration max_wait, const std::string& what,
                             const std::string& id, const CallContext& call) {
  grpc::ClientContext context;
  PrepareOutgoingCall(call, max_wait, &context);
  Request request;
  request.set_id(id);
  Response response;
  absl::Status status = StatusOfCall((stub->*method)(&context, request, &response), "generation",
                                     absl::StrCat(what, " ", id));
  if (!status.ok()) return status;
  return response;
}

}  // namespace

GenerationClient::GenerationClient(std::shared_ptr<grpc::Channel> channel, absl::Duration max_wait)
    : stub_(v1::GenerationService::NewStub(std::move(channel))), max_wait_(max_wait) {}

absl::StatusOr<v1::Script> GenerationClient::GetScript(const std::string& id,
                                                       const CallContext& call) {
  return Get<v1::GetScriptRequest, v1::Script>(stub_.get(), &v1::GenerationService::Stub::GetScript,
                                               max_wait_, "script", id, call);
}

absl::StatusOr<v1::Video> GenerationClient::GetVideo(const std::string& id,
                                                     const CallContext& call) {
  return Get<v1::GetVideoRequest, v1::Video>(stub_.get(), &v1::GenerationService::Stub::GetVideo,
                                             max_wait_, "video", id, call);
}

absl::StatusOr<v1::Image> GenerationClient::GetImage(const std::string& id,
                                                     const CallContext& call) {
  return Get<v1::GetImageRequest, v1::Image>(stub_.get(), &v1::GenerationService::Stub::GetImage,
                                             max_wait_, "image", id, call);
}

}  // namespace cf::generation
