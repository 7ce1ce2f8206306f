// Checks for identifiers in requests.
#ifndef CF_COMMON_VALIDATION_IDS_H_
#define CF_COMMON_VALIDATION_IDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/status/status.h"

namespace cf {

// 8-4-4-4-12 hexadecimal digits.
bool IsUuid(absl::string_view text);

// Adds "is required" or "must be a UUID" for `field` when `value` is not a UUID.
void CheckUuidField(const std::string& value, const std::string& field,
                    FieldViolations* violations);

// The same for a request with one id: OK, or INVALID_ARGUMENT naming `field`.
absl::Status RequireUuid(const std::string& value, const std::string& field);

}  // namespace cf

#endif  // CF_COMMON_VALIDATION_IDS_H_
