// Where generation reads dossiers: the catalog's API (never its tables).
#ifndef CF_SERVICES_GENERATION_DOSSIER_SOURCE_H_
#define CF_SERVICES_GENERATION_DOSSIER_SOURCE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "common/server/call_context.h"
#include "services/generation/script_engine.h"

namespace cf::generation {

class DossierSource {
 public:
  virtual ~DossierSource() = default;
  // NOT_FOUND when the dossier does not exist; UNAVAILABLE when the catalog cannot answer.
  virtual absl::StatusOr<catalog::v1::Dossier> GetDossier(const std::string& id,
                                                          const CallContext& call) = 0;
};

// The catalog over gRPC (CF_CATALOG_ADDR). Each call inherits the caller's deadline, capped.
class CatalogClient final : public DossierSource {
 public:
  explicit CatalogClient(std::shared_ptr<grpc::Channel> channel,
                         absl::Duration max_wait = absl::Seconds(5));
  absl::StatusOr<catalog::v1::Dossier> GetDossier(const std::string& id,
                                                  const CallContext& call) override;

 private:
  std::unique_ptr<catalog::v1::CatalogService::Stub> stub_;
  absl::Duration max_wait_;
};

// The dossier new content is made from: NOT_FOUND when missing, FAILED_PRECONDITION when it is
// archived (drafts and active dossiers both take new scripts, images and videos).
absl::StatusOr<catalog::v1::Dossier> DossierToWorkOn(DossierSource* source, const std::string& id,
                                                     const CallContext& call);

// The dossier fields the script engine uses.
ScriptInput ScriptInputFrom(const catalog::v1::Dossier& dossier);

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_DOSSIER_SOURCE_H_
