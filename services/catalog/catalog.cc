#include "services/catalog/catalog.h"

#include <google/protobuf/util/field_mask_util.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/paging/page_token.h"
#include "common/status/status.h"
#include "common/validation/ids.h"
#include "services/catalog/dossier_validation.h"

namespace cf::catalog {
namespace {

using google::protobuf::util::FieldMaskUtil;

// The fields set to a non-default value (what an update without a mask changes).
std::vector<std::string> PopulatedFields(const v1::Dossier& dossier) {
  std::vector<std::string> fields;
  const auto* reflection = dossier.GetReflection();
  for (const std::string& name : MutableDossierFields()) {
    const auto* field = v1::Dossier::descriptor()->FindFieldByName(name);
    bool set = field->is_repeated() ? reflection->FieldSize(dossier, field) > 0
                                    : reflection->HasField(dossier, field);
    if (set) fields.push_back(name);
  }
  return fields;
}

// Page tokens carry this, so a token is refused when used with other filters.
std::string FilterFingerprint(const v1::ListDossiersRequest& request) {
  return absl::StrCat(static_cast<int>(request.status()), "/", request.category(), "/",
                      request.niche());
}

}  // namespace

absl::StatusOr<v1::Dossier> Catalog::CreateDossier(const v1::CreateDossierRequest& request) {
  FieldViolations violations;
  if (!request.has_dossier()) {
    return InvalidField("dossier", "is required");
  }
  const v1::Dossier& input = request.dossier();
  std::vector<std::string> fields = MutableDossierFields();
  ValidateDossierFields(input, fields, "dossier.", &violations);
  if (!v1::DossierStatus_IsValid(input.status())) {
    violations.Add("dossier.status", "is not a known DossierStatus");
  } else if (input.status() != v1::DOSSIER_STATUS_UNSPECIFIED &&
             input.status() != v1::DOSSIER_STATUS_DRAFT) {
    violations.Add("dossier.status",
                   "new dossiers are drafts; use ActivateDossier to make one active");
  }
  if (request.request_id().size() > kMaxRequestIdLength) {
    violations.Add("request_id",
                   absl::StrCat("must be at most ", kMaxRequestIdLength, " characters"));
  }
  if (!violations.empty()) return violations.Build();

  v1::Dossier dossier = input;
  bool explicit_slug = !dossier.slug().empty();
  if (!explicit_slug) dossier.set_slug(Slugify(dossier.name()));
  // The seed's column default, applied here so the API and the table agree.
  if (dossier.proof_types().empty()) dossier.add_proof_types("before_after");
  return store_->Create(dossier, explicit_slug, request.request_id());
}

void Catalog::GetDossier(const v1::GetDossierRequest& request, DossierDone done) {
  switch (request.key_case()) {
    case v1::GetDossierRequest::kId: {
      absl::Status valid = RequireUuid(request.id(), "id");
      if (!valid.ok()) return done(valid);
      return store_->GetById(request.id(), std::move(done));
    }
    case v1::GetDossierRequest::kSlug:
      if (!IsValidSlug(request.slug())) {
        return done(
            InvalidField("slug", "must be lowercase letters and digits separated by hyphens"));
      }
      return store_->GetBySlug(request.slug(), std::move(done));
    default:
      return done(InvalidField("id", "either id or slug is required"));
  }
}

absl::StatusOr<v1::ListDossiersResponse> Catalog::ListDossiers(
    const v1::ListDossiersRequest& request) {
  FieldViolations violations;
  if (!v1::DossierStatus_IsValid(request.status())) {
    violations.Add("status", "is not a known DossierStatus");
  }
  if (request.category().size() > kMaxShortTextLength) {
    violations.Add("category", "is too long");
  }
  if (request.niche().size() > kMaxShortTextLength) violations.Add("niche", "is too long");
  if (!violations.empty()) return violations.Build();
  absl::StatusOr<int> page_size = PageSize(request.page_size(), kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();

  const std::string fingerprint = FilterFingerprint(request);
  auto after = DecodeCreatedCursor(request.page_token(), fingerprint, "ListDossiers");
  if (!after.ok()) return after.status();
  DossierFilter filter{StatusToDb(request.status()), request.category(), request.niche()};
  absl::StatusOr<DossierPage> page = store_->List(filter, *after, *page_size);
  if (!page.ok()) return page.status();
  v1::ListDossiersResponse response;
  for (auto& dossier : page->dossiers) *response.add_dossiers() = std::move(dossier);
  if (page->next) {
    response.set_next_page_token(EncodeCreatedCursor(*page->next, fingerprint));
  }
  return response;
}

absl::StatusOr<v1::Dossier> Catalog::UpdateDossier(const v1::UpdateDossierRequest& request) {
  if (!request.has_dossier()) return InvalidField("dossier", "is required");
  absl::Status valid = RequireUuid(request.dossier().id(), "dossier.id");
  if (!valid.ok()) return valid;

  FieldViolations violations;
  std::vector<std::string> paths(request.update_mask().paths().begin(),
                                 request.update_mask().paths().end());
  if (paths.empty()) paths = PopulatedFields(request.dossier());
  const auto& mutable_fields = MutableDossierFields();
  std::set<std::string> allowed(mutable_fields.begin(), mutable_fields.end());
  for (const std::string& path : paths) {
    if (path == "status") {
      violations.Add("update_mask",
                     "status changes only through ActivateDossier and "
                     "ArchiveDossier");
    } else if (allowed.count(path) == 0) {
      violations.Add("update_mask", absl::StrCat("'", path,
                                                 "' is not a field UpdateDossier "
                                                 "can change"));
    }
  }
  if (paths.empty()) violations.Add("update_mask", "names no field to change");
  if (!violations.empty()) return violations.Build();
  ValidateDossierFields(request.dossier(), paths, "dossier.", &violations);
  if (!violations.empty()) return violations.Build();

  google::protobuf::FieldMask mask;
  for (const std::string& path : paths) mask.add_paths(path);
  return store_->Update(request.dossier().id(), [&](v1::Dossier* dossier) {
    FieldMaskUtil::MergeOptions options;
    options.set_replace_repeated_fields(true);
    FieldMaskUtil::MergeMessageTo(request.dossier(), mask, options, dossier);
    // A cleared slug is regenerated from the (possibly new) name rather than left empty.
    if (dossier->slug().empty()) dossier->set_slug(Slugify(dossier->name()));
    return absl::OkStatus();
  });
}

absl::Status Catalog::DeleteDossier(const v1::DeleteDossierRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Delete(request.id(), request.force());
}

absl::StatusOr<v1::Dossier> Catalog::ActivateDossier(const v1::ActivateDossierRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Transition(request.id(), v1::DOSSIER_STATUS_DRAFT, v1::DOSSIER_STATUS_ACTIVE);
}

absl::StatusOr<v1::Dossier> Catalog::ArchiveDossier(const v1::ArchiveDossierRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Transition(request.id(), v1::DOSSIER_STATUS_ACTIVE, v1::DOSSIER_STATUS_ARCHIVED);
}

absl::StatusOr<v1::DossierOverview> Catalog::GetDossierOverview(
    const v1::GetDossierOverviewRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->Overview(request.id());
}

}  // namespace cf::catalog
