// gRPC adapter for cf.generation.v1.GenerationService: runs the logic on the database executor.
#ifndef CF_SERVICES_GENERATION_GENERATION_SERVICE_H_
#define CF_SERVICES_GENERATION_GENERATION_SERVICE_H_

#include "cf/generation/v1/generation.grpc.pb.h"
#include "common/db/executor.h"
#include "services/generation/generation.h"

namespace cf::generation {

class GenerationService final : public v1::GenerationService::CallbackService {
 public:
  GenerationService(Generation* generation, BoundedExecutor* executor)
      : generation_(generation), executor_(executor) {}

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

 private:
  Generation* generation_;
  BoundedExecutor* executor_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_GENERATION_SERVICE_H_
