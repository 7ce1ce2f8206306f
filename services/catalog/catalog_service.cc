#include "services/catalog/catalog_service.h"

#include "common/server/call.h"

namespace cf::catalog {
namespace {

// Runs `method` of the logic and moves its result into the response.
template <typename Request, typename Response, typename Method>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context, BoundedExecutor* executor,
                                const char* name, Catalog* catalog, Method method,
                                const Request* request, Response* response) {
  return RunUnary(context, executor, name,
                  [=]() { return Deliver((catalog->*method)(*request), response); });
}

}  // namespace

#define CF_CATALOG_METHOD(Name, Request, Response)                                             \
  grpc::ServerUnaryReactor* CatalogService::Name(grpc::CallbackServerContext* context,         \
                                                 const Request* request, Response* response) { \
    return Serve(context, executor_, "/cf.catalog.v1.CatalogService/" #Name, catalog_,         \
                 &Catalog::Name, request, response);                                           \
  }

CF_CATALOG_METHOD(CreateDossier, v1::CreateDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(GetDossier, v1::GetDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(ListDossiers, v1::ListDossiersRequest, v1::ListDossiersResponse)
CF_CATALOG_METHOD(UpdateDossier, v1::UpdateDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(ActivateDossier, v1::ActivateDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(ArchiveDossier, v1::ArchiveDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(GetDossierOverview, v1::GetDossierOverviewRequest, v1::DossierOverview)

#undef CF_CATALOG_METHOD

grpc::ServerUnaryReactor* CatalogService::DeleteDossier(grpc::CallbackServerContext* context,
                                                        const v1::DeleteDossierRequest* request,
                                                        google::protobuf::Empty* /*response*/) {
  return RunUnary(context, executor_, "/cf.catalog.v1.CatalogService/DeleteDossier",
                  [this, request] { return catalog_->DeleteDossier(*request); });
}

}  // namespace cf::catalog
