// Where generation reads dossiers: the catalog's API (never its tables), and what it makes of them.
#ifndef CF_SERVICES_GENERATION_DOSSIER_SOURCE_H_
#define CF_SERVICES_GENERATION_DOSSIER_SOURCE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "common/server/call_context.h"
#include "services/catalog/catalog_client.h"
#include "services/generation/script_engine.h"

namespace cf::generation {

// The catalog's client, under the names generation has always used.
using DossierSource = catalog::DossierSource;
using CatalogClient = catalog::CatalogClient;

// The dossier new content is made from: NOT_FOUND when missing, FAILED_PRECONDITION when it is
// archived (drafts and active dossiers both take new scripts, images and videos).
absl::StatusOr<catalog::v1::Dossier> DossierToWorkOn(DossierSource* source, const std::string& id,
                                                     const CallContext& call);

// The dossier fields the script engine uses.
ScriptInput ScriptInputFrom(const catalog::v1::Dossier& dossier);

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_DOSSIER_SOURCE_H_
