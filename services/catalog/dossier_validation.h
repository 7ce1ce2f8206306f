// Pure rules for dossier input: validation, slugs, prices. No I/O.
#ifndef CF_SERVICES_CATALOG_DOSSIER_VALIDATION_H_
#define CF_SERVICES_CATALOG_DOSSIER_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cf/catalog/v1/catalog.pb.h"
#include "common/status/status.h"

namespace cf::catalog {

// Limits, documented in catalog.proto and the README.
inline constexpr size_t kMaxNameLength = 200;
inline constexpr size_t kMaxSlugLength = 100;
inline constexpr size_t kMaxListItems = 20;
inline constexpr size_t kMaxListItemLength = 500;
inline constexpr size_t kMaxTextLength = 500;
inline constexpr size_t kMaxShortTextLength = 100;
inline constexpr size_t kMaxUrlLength = 2048;
inline constexpr size_t kMaxRequestIdLength = 100;
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

// The fields UpdateDossier may change (update_mask paths).
const std::vector<std::string>& MutableDossierFields();

// Checks the named fields of `dossier`, reporting each as "<prefix><field>".
void ValidateDossierFields(const v1::Dossier& dossier, const std::vector<std::string>& fields,
                           absl::string_view prefix, FieldViolations* violations);

// A slug from a display name: lowercase ASCII letters and digits joined by single hyphens,
// Latin accents folded ("Crème Brûlée" -> "creme-brulee"); "dossier" when nothing is left.
std::string Slugify(absl::string_view name);

bool IsValidSlug(absl::string_view slug);

// Number of Unicode code points in valid UTF-8 (bytes otherwise).
size_t Utf8Length(absl::string_view text);

}  // namespace cf::catalog

#endif  // CF_SERVICES_CATALOG_DOSSIER_VALIDATION_H_
