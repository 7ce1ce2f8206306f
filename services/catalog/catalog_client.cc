#include "services/catalog/catalog_client.h"

#include "absl/strings/str_cat.h"
#include "common/server/call.h"
#include "common/server/channel.h"

namespace cf::catalog {

CatalogClient::CatalogClient(std::shared_ptr<grpc::Channel> channel, absl::Duration max_wait)
    : stub_(v1::CatalogService::NewStub(std::move(channel))), max_wait_(max_wait) {}

absl::StatusOr<v1::Dossier> CatalogClient::GetDossier(const std::string& id,
                                                      const CallContext& call) {
  grpc::ClientContext context;
  PrepareOutgoingCall(call, max_wait_, &context);
  v1::GetDossierRequest request;
  request.set_id(id);
  v1::Dossier dossier;
  absl::Status status = StatusOfCall(stub_->GetDossier(&context, request, &dossier), "catalog",
                                     absl::StrCat("dossier ", id));
  if (!status.ok()) return status;
  return dossier;
}

}  // namespace cf::catalog
