#include "services/generation/generation_service.h"

#include "common/server/call.h"

namespace cf::generation {
namespace {

constexpr char kPrefix[] = "/cf.generation.v1.GenerationService/";

// Moves a logic result into the response.
template <typename Result, typename Response>
absl::Status Deliver(Result result, Response* response) {
  if (!result.ok()) return result.status();
  *response = std::move(*result);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* GenerationService::GenerateScripts(
    grpc::CallbackServerContext* context, const v1::GenerateScriptsRequest* request,
    v1::GenerateScriptsResponse* response) {
  return RunUnary(context, executor_, std::string(kPrefix) + "GenerateScripts",
                  [=](const CallContext& call) {
                    return Deliver(generation_->GenerateScripts(*request, call), response);
                  });
}

grpc::ServerUnaryReactor* GenerationService::CreateScript(grpc::CallbackServerContext* context,
                                                          const v1::CreateScriptRequest* request,
                                                          v1::Script* response) {
  return RunUnary(context, executor_, std::string(kPrefix) + "CreateScript",
                  [=](const CallContext& call) {
                    return Deliver(generation_->CreateScript(*request, call), response);
                  });
}

grpc::ServerUnaryReactor* GenerationService::GetScript(grpc::CallbackServerContext* context,
                                                       const v1::GetScriptRequest* request,
                                                       v1::Script* response) {
  return RunUnary(context, executor_, std::string(kPrefix) + "GetScript",
                  [=]() { return Deliver(generation_->GetScript(*request), response); });
}

grpc::ServerUnaryReactor* GenerationService::ListScripts(grpc::CallbackServerContext* context,
                                                         const v1::ListScriptsRequest* request,
                                                         v1::ListScriptsResponse* response) {
  return RunUnary(context, executor_, std::string(kPrefix) + "ListScripts",
                  [=]() { return Deliver(generation_->ListScripts(*request), response); });
}

grpc::ServerUnaryReactor* GenerationService::DeleteScript(grpc::CallbackServerContext* context,
                                                          const v1::DeleteScriptRequest* request,
                                                          google::protobuf::Empty* /*response*/) {
  return RunUnary(context, executor_, std::string(kPrefix) + "DeleteScript",
                  [=]() { return generation_->DeleteScript(*request); });
}

}  // namespace cf::generation
