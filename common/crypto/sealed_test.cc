#include "common/crypto/sealed.h"

#include "gtest/gtest.h"

namespace cf::crypto {
namespace {

constexpr char kHexKey[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

TEST(SealedTest, OpensWhatItSealedUnderTheSameLabelOnly) {
  SealingKey key = SealingKey::Parse(kHexKey, "CF_TOKEN_KEY").value();
  const std::string sealed = key.Seal("refresh-token-1", "tiktok:refresh");
  EXPECT_EQ(sealed.find("refresh-token-1"), std::string::npos);
  EXPECT_EQ(key.Open(sealed, "tiktok:refresh").value(), "refresh-token-1");
  EXPECT_NE(key.Seal("refresh-token-1", "tiktok:refresh"), sealed);  // a fresh nonce each time
  EXPECT_EQ(key.Open(sealed, "tiktok:access").status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::string changed = sealed;
  changed[20] ^= 1;
  EXPECT_FALSE(key.Open(changed, "tiktok:refresh").ok());
  EXPECT_FALSE(key.Open(sealed.substr(0, 10), "tiktok:refresh").ok());
  EXPECT_EQ(key.Open(key.Seal("", "meta:access"), "meta:access").value(), "");
}

TEST(SealedTest, AnotherKeyDoesNotOpenIt) {
  SealingKey key = SealingKey::Parse(kHexKey, "CF_TOKEN_KEY").value();
  // The same 32 bytes as base64, with a key file's newline: the same key.
  SealingKey same =
      SealingKey::Parse("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=\n", "CF_TOKEN_KEY").value();
  SealingKey other = SealingKey::Parse(std::string(64, 'f'), "CF_TOKEN_KEY").value();
  const std::string sealed = key.Seal("token", "meta:access");
  EXPECT_EQ(same.Open(sealed, "meta:access").value(), "token");
  EXPECT_FALSE(other.Open(sealed, "meta:access").ok());
}

TEST(SealedTest, AKeyOfTheWrongSizeIsRefusedWithoutEchoingIt) {
  absl::StatusOr<SealingKey> short_key = SealingKey::Parse("abcdef", "CF_TOKEN_KEY");
  EXPECT_EQ(short_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(short_key.status().message().find("CF_TOKEN_KEY"), absl::string_view::npos);
  EXPECT_EQ(short_key.status().message().find("abcdef"), absl::string_view::npos);
  EXPECT_FALSE(SealingKey::Parse(std::string(63, 'a'), "CF_TOKEN_KEY").ok());
}

}  // namespace
}  // namespace cf::crypto
