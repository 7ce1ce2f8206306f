// How other services read dossiers: the catalog's API over gRPC (never its tables).
#ifndef CF_SERVICES_CATALOG_CATALOG_CLIENT_H_
#define CF_SERVICES_CATALOG_CATALOG_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "common/server/call_context.h"

namespace cf::catalog {

class DossierSource {
 public:
  virtual ~DossierSource() = default;
  // NOT_FOUND when the dossier does not exist; UNAVAILABLE when the catalog cannot answer.
  virtual absl::StatusOr<v1::Dossier> GetDossier(const std::string& id,
                                                 const CallContext& call) = 0;
};

// The catalog over gRPC (CF_CATALOG_ADDR). Each call inherits the caller's deadline, capped.
class CatalogClient final : public DossierSource {
 public:
  explicit CatalogClient(std::shared_ptr<grpc::Channel> channel,
                         absl::Duration max_wait = absl::Seconds(5));
  absl::StatusOr<v1::Dossier> GetDossier(const std::string& id, const CallContext& call) override;

 private:
  std::unique_ptr<v1::CatalogService::Stub> stub_;
  absl::Duration max_wait_;
};

}  // namespace cf::catalog

#endif  // CF_SERVICES_CATALOG_CATALOG_CLIENT_H_
