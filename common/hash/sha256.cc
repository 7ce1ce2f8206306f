#include "common/hash/sha256.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"

namespace cf {
namespace {

// A digest over data fed in pieces.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr);
  }
  void Update(const char* data, size_t size) { EVP_DigestUpdate(context_.get(), data, size); }
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_.get(), digest, &size);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
      hex.push_back(kHex[digest[i] >> 4]);
      hex.push_back(kHex[digest[i] & 15]);
    }
    return hex;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
};

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  Sha256 sha;
  sha.Update(data.data(), data.size());
  return sha.Hex();
}

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  Sha256 sha;
  std::string buffer(1 << 16, '\0');
  while (file) {
    file.read(buffer.data(), buffer.size());
    sha.Update(buffer.data(), static_cast<size_t>(file.gcount()));
  }
  if (file.bad()) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return sha.Hex();
}

}  // namespace cf
