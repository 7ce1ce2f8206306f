// The catalog's rules: request validation, slugs, page tokens, state changes. Plain C++ over the
// store; the gRPC adapter (catalog_service.h) only moves messages in and out.
#ifndef CF_SERVICES_CATALOG_CATALOG_H_
#define CF_SERVICES_CATALOG_CATALOG_H_

#include "absl/status/statusor.h"
#include "cf/catalog/v1/catalog.pb.h"
#include "services/catalog/dossier_store.h"

namespace cf::catalog {

// Dossiers are created in this tenant until tenancy arrives (see migrations/0001).
inline constexpr char kDefaultOwnerId[] = "00000000-0000-0000-0000-000000000001";

class Catalog {
 public:
  explicit Catalog(DossierStore* store) : store_(store) {}

  absl::StatusOr<v1::Dossier> CreateDossier(const v1::CreateDossierRequest& request);
  // Answers through `done`: at once for a bad request, else on the store's reader thread.
  void GetDossier(const v1::GetDossierRequest& request, DossierDone done);
  absl::StatusOr<v1::ListDossiersResponse> ListDossiers(const v1::ListDossiersRequest& request);
  absl::StatusOr<v1::Dossier> UpdateDossier(const v1::UpdateDossierRequest& request);
  absl::Status DeleteDossier(const v1::DeleteDossierRequest& request);
  absl::StatusOr<v1::Dossier> ActivateDossier(const v1::ActivateDossierRequest& request);
  absl::StatusOr<v1::Dossier> ArchiveDossier(const v1::ArchiveDossierRequest& request);
  absl::StatusOr<v1::DossierOverview> GetDossierOverview(
      const v1::GetDossierOverviewRequest& request);

 private:
  DossierStore* store_;
};

}  // namespace cf::catalog

#endif  // CF_SERVICES_CATALOG_CATALOG_H_
