#include "services/generation/generation_service.h"

#include "common/server/call.h"

namespace cf::generation {
namespace {

constexpr char kPrefix[] = "/cf.generation.v1.GenerationService/";

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

// Media job methods: each runs one MediaJobs method on the executor.
#define CF_MEDIA_METHOD(Name, Request, Response)                                                  \
  grpc::ServerUnaryReactor* GenerationService::Name(grpc::CallbackServerContext* context,         \
                                                    const Request* request, Response* response) { \
    return RunUnary(context, executor_, std::string(kPrefix) + #Name,                             \
                    [=]() { return Deliver(media_->Name(*request), response); });                 \
  }

CF_MEDIA_METHOD(GetImage, v1::GetImageRequest, v1::Image)
CF_MEDIA_METHOD(ListImages, v1::ListImagesRequest, v1::ListImagesResponse)
CF_MEDIA_METHOD(CancelImage, v1::CancelImageRequest, v1::Image)
CF_MEDIA_METHOD(RetryImage, v1::RetryImageRequest, v1::Image)
CF_MEDIA_METHOD(GetVideo, v1::GetVideoRequest, v1::Video)
CF_MEDIA_METHOD(ListVideos, v1::ListVideosRequest, v1::ListVideosResponse)
CF_MEDIA_METHOD(CancelVideo, v1::CancelVideoRequest, v1::Video)
CF_MEDIA_METHOD(RetryVideo, v1::RetryVideoRequest, v1::Video)

#undef CF_MEDIA_METHOD

grpc::ServerUnaryReactor* GenerationService::CreateImage(grpc::CallbackServerContext* context,
                                                         const v1::CreateImageRequest* request,
                                                         v1::CreateImageResponse* response) {
  return RunUnary(context, executor_, std::string(kPrefix) + "CreateImage",
                  [=](const CallContext& call) {
                    return Deliver(media_->CreateImage(*request, call), response);
                  });
}

grpc::ServerUnaryReactor* GenerationService::CreateVideo(grpc::CallbackServerContext* context,
                                                         const v1::CreateVideoRequest* request,
                                                         v1::CreateVideoResponse* response) {
  return RunUnary(context, executor_, std::string(kPrefix) + "CreateVideo",
                  [=](const CallContext& call) {
                    return Deliver(media_->CreateVideo(*request, call), response);
                  });
}

grpc::ServerWriteReactor<v1::Image>* GenerationService::WatchImage(
    grpc::CallbackServerContext* context, const v1::WatchImageRequest* request) {
  return watcher_->WatchImage(context, request);
}

grpc::ServerWriteReactor<v1::Video>* GenerationService::WatchVideo(
    grpc::CallbackServerContext* context, const v1::WatchVideoRequest* request) {
  return watcher_->WatchVideo(context, request);
}

}  // namespace cf::generation
