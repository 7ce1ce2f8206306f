#include "services/generation/dossier_source.h"

#include "absl/strings/str_cat.h"

namespace cf::generation {

absl::StatusOr<catalog::v1::Dossier> DossierToWorkOn(DossierSource* source, const std::string& id,
                                                     const CallContext& call) {
  absl::StatusOr<catalog::v1::Dossier> dossier = source->GetDossier(id, call);
  if (dossier.ok() && dossier->status() == catalog::v1::DOSSIER_STATUS_ARCHIVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("dossier ", id,
                     " is archived; new content is made for draft and active "
                     "dossiers only"));
  }
  return dossier;
}

ScriptInput ScriptInputFrom(const catalog::v1::Dossier& dossier) {
  ScriptInput input;
  input.name = dossier.name();
  input.benefits.assign(dossier.benefits().begin(), dossier.benefits().end());
  input.pain_points.assign(dossier.pain_points().begin(), dossier.pain_points().end());
  input.proof_types.assign(dossier.proof_types().begin(), dossier.proof_types().end());
  input.target_audience = dossier.target_audience();
  input.category = dossier.category();
  input.niche = dossier.niche();
  input.price = dossier.price();
  input.tiktok_shop_url = dossier.tiktok_shop_url();
  input.affiliate_link = dossier.affiliate_link();
  return input;
}

}  // namespace cf::generation
