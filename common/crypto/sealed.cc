#include "common/crypto/sealed.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace cf::crypto {
namespace {

constexpr char kVersion = 1;
constexpr int kKeyBytes = 32;
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext NewContext() { return CipherContext(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

const unsigned char* Bytes(absl::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

absl::StatusOr<SealingKey> SealingKey::Parse(absl::string_view text, absl::string_view setting) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  std::string key;
  bool hex = trimmed.size() == 2 * kKeyBytes;
  for (char c : trimmed) hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(c));
  if (hex) {
    key = absl::HexStringToBytes(trimmed);
  } else if (!absl::Base64Unescape(trimmed, &key)) {
    key.clear();
  }
  if (key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " must be 32 bytes, as 64 hex digits or base64 (for example: "
                              "openssl rand -hex 32)"));
  }
  return SealingKey(std::move(key));
}

std::string SealingKey::Seal(absl::string_view plaintext, absl::string_view label) const {
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, kNonceBytes) != 1) abort();  // no randomness: nothing safe to do
  std::string out(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  out[0] = kVersion;
  std::copy(nonce, nonce + kNonceBytes, out.begin() + 1);
  unsigned char* cipher = reinterpret_cast<unsigned char*>(out.data()) + 1 + kNonceBytes;
  CipherContext context = NewContext();
  int length = 0;
  bool ok = context != nullptr &&
            EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), nonce) ==
                1 &&
            EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(label),
                              static_cast<int>(label.size())) == 1 &&
            EVP_EncryptUpdate(context.get(), cipher, &length, Bytes(plaintext),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(context.get(), cipher + length, &length) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                cipher + plaintext.size()) == 1;
  if (!ok) abort();  // AES-GCM with a valid key does not fail
  return out;
}

absl::StatusOr<std::string> SealingKey::Open(absl::string_view sealed,
                                             absl::string_view label) const {
  const absl::Status refused = absl::FailedPreconditionError(
      "a sealed secret does not open with this key (was the key changed?)");
  if (sealed.size() < 1 + kNonceBytes + kTagBytes || sealed[0] != kVersion) return refused;
  const absl::string_view nonce = sealed.substr(1, kNonceBytes);
  const absl::string_view cipher =
      sealed.substr(1 + kNonceBytes, sealed.size() - 1 - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string plain(cipher.size(), '\0');
  CipherContext context = NewContext();
  int length = 0;
  bool ok = context != nullptr &&
            EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                               Bytes(nonce)) == 1 &&
            EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(label),
                              static_cast<int>(label.size())) == 1 &&
            EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(plain.data()),
                              &length, Bytes(cipher), static_cast<int>(cipher.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(context.get(),
                                reinterpret_cast<unsigned char*>(plain.data()) + length,
                                &length) == 1;
  if (!ok) return refused;
  return plain;
}

}  // namespace cf::crypto
