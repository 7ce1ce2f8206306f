#include "services/assembly/assembly_service.h"

#include "common/server/call.h"

namespace cf::assembly {
namespace {

bool IsTerminal(const v1::Assembly& assembly) {
  return assembly.state() == v1::ASSEMBLY_STATE_READY ||
         assembly.state() == v1::ASSEMBLY_STATE_PUBLISHED ||
         assembly.state() == v1::ASSEMBLY_STATE_FAILED ||
         assembly.state() == v1::ASSEMBLY_STATE_DRAFT;  // a cancelled render
}

}  // namespace

AssemblyWatcher::AssemblyWatcher(AssemblyStore* store, absl::Duration interval, int max_watches)
    : watcher_(
          "assembly", [store](const std::vector<std::string>& ids) { return store->GetMany(ids); },
          &IsTerminal, interval, max_watches) {}

#define CF_ASSEMBLY_METHOD(Name, Request, Response)                                            \
  CF_SERVE_UNARY(AssemblyService, "/cf.assembly.v1.AssemblyService/", Assemblies, assemblies_, \
                 Name, Request, Response)

CF_ASSEMBLY_METHOD(CreateAssembly, v1::CreateAssemblyRequest, v1::Assembly)
CF_ASSEMBLY_METHOD(GetAssembly, v1::GetAssemblyRequest, v1::Assembly)
CF_ASSEMBLY_METHOD(RenderAssembly, v1::RenderAssemblyRequest, v1::Assembly)
CF_ASSEMBLY_METHOD(ListAssemblyOptions, v1::ListAssemblyOptionsRequest, v1::AssemblyOptionsCatalog)
CF_ASSEMBLY_METHOD(ListAssemblies, v1::ListAssembliesRequest, v1::ListAssembliesResponse)
CF_ASSEMBLY_METHOD(UpdateAssembly, v1::UpdateAssemblyRequest, v1::Assembly)
CF_ASSEMBLY_METHOD(ListReadyToPublish, v1::ListReadyToPublishRequest,
                   v1::ListReadyToPublishResponse)
CF_ASSEMBLY_METHOD(MarkPublished, v1::MarkPublishedRequest, v1::Assembly)

#undef CF_ASSEMBLY_METHOD

grpc::ServerWriteReactor<v1::Assembly>* AssemblyService::WatchAssembly(
    grpc::CallbackServerContext* /*context*/, const v1::WatchAssemblyRequest* request) {
  return watcher_->Watch(request->id());
}

}  // namespace cf::assembly
