// Secrets kept at rest (renewed platform tokens in the database), sealed with AES-256-GCM: a
// fresh random nonce per seal, and a label bound in as associated data, so a sealed value
// cannot be moved to another row or field and still open.
#ifndef CF_COMMON_CRYPTO_SEALED_H_
#define CF_COMMON_CRYPTO_SEALED_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cf::crypto {

class SealingKey {
 public:
  // From 64 hex digits or the base64 of 32 bytes (surrounding whitespace ignored, as a key
  // file has a newline). INVALID_ARGUMENT naming `setting` otherwise; the key itself is never
  // in the message.
  static absl::StatusOr<SealingKey> Parse(absl::string_view text, absl::string_view setting);

  // version 1 || nonce (12) || ciphertext || tag (16).
  std::string Seal(absl::string_view plaintext, absl::string_view label) const;
  // FAILED_PRECONDITION when the value was sealed with another key or label, or was changed.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view label) const;

 private:
  explicit SealingKey(std::string key) : key_(std::move(key)) {}
  std::string key_;  // 32 bytes
};

}  // namespace cf::crypto

#endif  // CF_COMMON_CRYPTO_SEALED_H_
