// gRPC adapter for cf.catalog.v1.CatalogService: runs each call's logic on the database
// executor (GetDossier: on the pipelined reader) and maps the result. No rules live here.
#ifndef CF_SERVICES_CATALOG_CATALOG_SERVICE_H_
#define CF_SERVICES_CATALOG_CATALOG_SERVICE_H_

#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "common/db/executor.h"
#include "services/catalog/catalog.h"

namespace cf::catalog {

class CatalogService final : public v1::CatalogService::CallbackService {
 public:
  CatalogService(Catalog* catalog, BoundedExecutor* executor)
      : catalog_(catalog), executor_(executor) {}

  grpc::ServerUnaryReactor* CreateDossier(grpc::CallbackServerContext* context,
                                          const v1::CreateDossierRequest* request,
                                          v1::Dossier* response) override;
  grpc::ServerUnaryReactor* GetDossier(grpc::CallbackServerContext* context,
                                       const v1::GetDossierRequest* request,
                                       v1::Dossier* response) override;
  grpc::ServerUnaryReactor* ListDossiers(grpc::CallbackServerContext* context,
                                         const v1::ListDossiersRequest* request,
                                         v1::ListDossiersResponse* response) override;
  grpc::ServerUnaryReactor* UpdateDossier(grpc::CallbackServerContext* context,
                                          const v1::UpdateDossierRequest* request,
                                          v1::Dossier* response) override;
  grpc::ServerUnaryReactor* DeleteDossier(grpc::CallbackServerContext* context,
                                          const v1::DeleteDossierRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ActivateDossier(grpc::CallbackServerContext* context,
                                            const v1::ActivateDossierRequest* request,
                                            v1::Dossier* response) override;
  grpc::ServerUnaryReactor* ArchiveDossier(grpc::CallbackServerContext* context,
                                           const v1::ArchiveDossierRequest* request,
                                           v1::Dossier* response) override;
  grpc::ServerUnaryReactor* GetDossierOverview(grpc::CallbackServerContext* context,
                                               const v1::GetDossierOverviewRequest* request,
                                               v1::DossierOverview* response) override;

 private:
  Catalog* catalog_;
  BoundedExecutor* executor_;
};

}  // namespace cf::catalog

#endif  // CF_SERVICES_CATALOG_CATALOG_SERVICE_H_
