#include "common/validation/ids.h"

#include "absl/strings/ascii.h"

namespace cf {

bool IsUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? text[i] != '-' : !absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

void CheckUuidField(const std::string& value, const std::string& field,
                    FieldViolations* violations) {
  if (value.empty()) {
    violations->Add(field, "is required");
  } else if (!IsUuid(value)) {
    violations->Add(field, "must be a UUID");
  }
}

absl::Status RequireUuid(const std::string& value, const std::string& field) {
  FieldViolations violations;
  CheckUuidField(value, field, &violations);
  return violations.Build();
}

}  // namespace cf
