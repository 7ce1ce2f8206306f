#include "services/catalog/catalog_service.h"

#include "common/server/call.h"

namespace cf::catalog {

#define CF_CATALOG_METHOD(Name, Request, Response)                                          \
  CF_SERVE_UNARY(CatalogService, "/cf.catalog.v1.CatalogService/", Catalog, catalog_, Name, \
                 Request, Response)

CF_CATALOG_METHOD(CreateDossier, v1::CreateDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(ListDossiers, v1::ListDossiersRequest, v1::ListDossiersResponse)
CF_CATALOG_METHOD(UpdateDossier, v1::UpdateDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(ActivateDossier, v1::ActivateDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(ArchiveDossier, v1::ArchiveDossierRequest, v1::Dossier)
CF_CATALOG_METHOD(GetDossierOverview, v1::GetDossierOverviewRequest, v1::DossierOverview)
CF_CATALOG_METHOD(DeleteDossier, v1::DeleteDossierRequest, google::protobuf::Empty)

#undef CF_CATALOG_METHOD

// The hot read: answered from the pipelined reader's callback, not on the executor.
CF_SERVE_READ(CatalogService, "/cf.catalog.v1.CatalogService/", Catalog, catalog_, GetDossier,
              v1::GetDossierRequest, v1::Dossier)

}  // namespace cf::catalog
