// gRPC adapter for cf.generation.v1.GenerationService: runs the logic on the database executor.
#ifndef CF_SERVICES_GENERATION_GENERATION_SERVICE_H_
#define CF_SERVICES_GENERATION_GENERATION_SERVICE_H_

#include "cf/generation/v1/generation.grpc.pb.h"
#include "common/db/executor.h"
#include "services/generation/generation.h"
#include "services/generation/job_watch.h"
#include "services/generation/media_jobs.h"

namespace cf::generation {

class GenerationService final : public v1::GenerationService::CallbackService {
 public:
  GenerationService(Generation* generation, MediaJobs* media, JobWatcher* watcher,
                    BoundedExecutor* executor)
      : generation_(generation), media_(media), watcher_(watcher), executor_(executor) {}

  grpc::ServerUnaryReactor* GenerateScripts(grpc::CallbackServerContext* context,
                                            const v1::GenerateScriptsRequest* request,
                                            v1::GenerateScriptsResponse* response) override;
  grpc::ServerUnaryReactor* CreateScript(grpc::CallbackServerContext* context,
                                         const v1::CreateScriptRequest* request,
                                         v1::Script* response) override;
  grpc::ServerUnaryReactor* GetScript(grpc::CallbackServerContext* context,
                                      const v1::GetScriptRequest* request,
                                      v1::Script* response) override;
  grpc::ServerUnaryReactor* ListScripts(grpc::CallbackServerContext* context,
                                        const v1::ListScriptsRequest* request,
                                        v1::ListScriptsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteScript(grpc::CallbackServerContext* context,
                                         const v1::DeleteScriptRequest* request,
                                         google::protobuf::Empty* response) override;

  grpc::ServerUnaryReactor* CreateImage(grpc::CallbackServerContext* context,
                                        const v1::CreateImageRequest* request,
                                        v1::CreateImageResponse* response) override;
  grpc::ServerUnaryReactor* GetImage(grpc::CallbackServerContext* context,
                                     const v1::GetImageRequest* request,
                                     v1::Image* response) override;
  grpc::ServerUnaryReactor* ListImages(grpc::CallbackServerContext* context,
                                       const v1::ListImagesRequest* request,
                                       v1::ListImagesResponse* response) override;
  grpc::ServerWriteReactor<v1::Image>* WatchImage(grpc::CallbackServerContext* context,
                                                  const v1::WatchImageRequest* request) override;
  grpc::ServerUnaryReactor* CancelImage(grpc::CallbackServerContext* context,
                                        const v1::CancelImageRequest* request,
                                        v1::Image* response) override;
  grpc::ServerUnaryReactor* RetryImage(grpc::CallbackServerContext* context,
                                       const v1::RetryImageRequest* request,
                                       v1::Image* response) override;

  grpc::ServerUnaryReactor* CreateVideo(grpc::CallbackServerContext* context,
                                        const v1::CreateVideoRequest* request,
                                        v1::CreateVideoResponse* response) override;
  grpc::ServerUnaryReactor* GetVideo(grpc::CallbackServerContext* context,
                                     const v1::GetVideoRequest* request,
                                     v1::Video* response) override;
  grpc::ServerUnaryReactor* ListVideos(grpc::CallbackServerContext* context,
                                       const v1::ListVideosRequest* request,
                                       v1::ListVideosResponse* response) override;
  grpc::ServerWriteReactor<v1::Video>* WatchVideo(grpc::CallbackServerContext* context,
                                                  const v1::WatchVideoRequest* request) override;
  grpc::ServerUnaryReactor* CancelVideo(grpc::CallbackServerContext* context,
                                        const v1::CancelVideoRequest* request,
                                        v1::Video* response) override;
  grpc::ServerUnaryReactor* RetryVideo(grpc::CallbackServerContext* context,
                                       const v1::RetryVideoRequest* request,
                                       v1::Video* response) override;

 private:
  Generation* generation_;
  MediaJobs* media_;
  JobWatcher* watcher_;
  BoundedExecutor* executor_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_GENERATION_SERVICE_H_
