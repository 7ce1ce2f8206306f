#include "services/generation/generation_service.h"

#include "common/server/call.h"

namespace cf::generation {

// Scripts are Generation's; images and videos are MediaJobs'.
#define CF_SCRIPT_METHOD(Name, Request, Response)                                       \
  CF_SERVE_UNARY(GenerationService, "/cf.generation.v1.GenerationService/", Generation, \
                 generation_, Name, Request, Response)
#define CF_MEDIA_METHOD(Name, Request, Response)                                               \
  CF_SERVE_UNARY(GenerationService, "/cf.generation.v1.GenerationService/", MediaJobs, media_, \
                 Name, Request, Response)

CF_SCRIPT_METHOD(GenerateScripts, v1::GenerateScriptsRequest, v1::GenerateScriptsResponse)
CF_SCRIPT_METHOD(CreateScript, v1::CreateScriptRequest, v1::Script)
CF_SCRIPT_METHOD(GetScript, v1::GetScriptRequest, v1::Script)
CF_SCRIPT_METHOD(ListScripts, v1::ListScriptsRequest, v1::ListScriptsResponse)
CF_SCRIPT_METHOD(DeleteScript, v1::DeleteScriptRequest, google::protobuf::Empty)

CF_MEDIA_METHOD(CreateImage, v1::CreateImageRequest, v1::CreateImageResponse)
CF_MEDIA_METHOD(GetImage, v1::GetImageRequest, v1::Image)
CF_MEDIA_METHOD(ListImages, v1::ListImagesRequest, v1::ListImagesResponse)
CF_MEDIA_METHOD(CancelImage, v1::CancelImageRequest, v1::Image)
CF_MEDIA_METHOD(RetryImage, v1::RetryImageRequest, v1::Image)
CF_MEDIA_METHOD(CreateVideo, v1::CreateVideoRequest, v1::CreateVideoResponse)
CF_MEDIA_METHOD(GetVideo, v1::GetVideoRequest, v1::Video)
CF_MEDIA_METHOD(ListVideos, v1::ListVideosRequest, v1::ListVideosResponse)
CF_MEDIA_METHOD(CancelVideo, v1::CancelVideoRequest, v1::Video)
CF_MEDIA_METHOD(RetryVideo, v1::RetryVideoRequest, v1::Video)

#undef CF_SCRIPT_METHOD
#undef CF_MEDIA_METHOD

grpc::ServerWriteReactor<v1::Image>* GenerationService::WatchImage(
    grpc::CallbackServerContext* context, const v1::WatchImageRequest* request) {
  return watcher_->WatchImage(context, request);
}

grpc::ServerWriteReactor<v1::Video>* GenerationService::WatchVideo(
    grpc::CallbackServerContext* context, const v1::WatchVideoRequest* request) {
  return watcher_->WatchVideo(context, request);
}

}  // namespace cf::generation
