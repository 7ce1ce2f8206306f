// SHA-256 in hex (libcrypto's EVP interface): cache keys, and telling identical files apart.
#ifndef CF_COMMON_HASH_SHA256_H_
#define CF_COMMON_HASH_SHA256_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cf {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// Of a file's contents, read in pieces.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace cf

#endif  // CF_COMMON_HASH_SHA256_H_
