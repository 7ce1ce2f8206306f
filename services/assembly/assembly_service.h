// gRPC adapter for cf.assembly.v1.AssemblyService: runs the logic on the database executor;
// WatchAssembly streams from common/jobs' watcher.
#ifndef CF_SERVICES_ASSEMBLY_ASSEMBLY_SERVICE_H_
#define CF_SERVICES_ASSEMBLY_ASSEMBLY_SERVICE_H_

#include "cf/assembly/v1/assembly.grpc.pb.h"
#include "common/db/executor.h"
#include "common/jobs/watch.h"
#include "services/assembly/assembly.h"

namespace cf::assembly {

// Watch streams of assemblies: until ready, published or failed.
class AssemblyWatcher {
 public:
  explicit AssemblyWatcher(AssemblyStore* store, absl::Duration interval = absl::Milliseconds(250),
                           int max_watches = 1000);
  grpc::ServerWriteReactor<v1::Assembly>* Watch(const std::string& id) {
    return watcher_.Watch(id);
  }
  // Ends every open watch with UNAVAILABLE and refuses new ones (the server is going away).
  void Stop() { watcher_.Stop(); }

 private:
  jobs::Watcher<v1::Assembly> watcher_;
};

class AssemblyService final : public v1::AssemblyService::CallbackService {
 public:
  AssemblyService(Assemblies* assemblies, AssemblyWatcher* watcher, BoundedExecutor* executor)
      : assemblies_(assemblies), watcher_(watcher), executor_(executor) {}

  grpc::ServerUnaryReactor* CreateAssembly(grpc::CallbackServerContext* context,
                                           const v1::CreateAssemblyRequest* request,
                                           v1::Assembly* response) override;
  grpc::ServerUnaryReactor* GetAssembly(grpc::CallbackServerContext* context,
                                        const v1::GetAssemblyRequest* request,
                                        v1::Assembly* response) override;
  grpc::ServerUnaryReactor* RenderAssembly(grpc::CallbackServerContext* context,
                                           const v1::RenderAssemblyRequest* request,
                                           v1::Assembly* response) override;
  grpc::ServerUnaryReactor* ListAssemblyOptions(grpc::CallbackServerContext* context,
                                                const v1::ListAssemblyOptionsRequest* request,
                                                v1::AssemblyOptionsCatalog* response) override;
  grpc::ServerUnaryReactor* ListAssemblies(grpc::CallbackServerContext* context,
                                           const v1::ListAssembliesRequest* request,
                                           v1::ListAssembliesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateAssembly(grpc::CallbackServerContext* context,
                                           const v1::UpdateAssemblyRequest* request,
                                           v1::Assembly* response) override;
  grpc::ServerUnaryReactor* ListReadyToPublish(grpc::CallbackServerContext* context,
                                               const v1::ListReadyToPublishRequest* request,
                                               v1::ListReadyToPublishResponse* response) override;
  grpc::ServerUnaryReactor* MarkPublished(grpc::CallbackServerContext* context,
                                          const v1::MarkPublishedRequest* request,
                                          v1::Assembly* response) override;
  grpc::ServerWriteReactor<v1::Assembly>* WatchAssembly(
      grpc::CallbackServerContext* context, const v1::WatchAssemblyRequest* request) override;

 private:
  Assemblies* assemblies_;
  AssemblyWatcher* watcher_;
  BoundedExecutor* executor_;
};

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_ASSEMBLY_SERVICE_H_
