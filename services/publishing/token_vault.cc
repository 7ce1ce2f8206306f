#include "services/publishing/token_vault.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/hash/sha256.h"

namespace cf::publishing {
namespace {

constexpr char kColumns[] =
    "access_token_sealed, refresh_token_sealed, COALESCE(extract(epoch FROM issued_at) * 1e6, "
    "0)::bigint, COALESCE(extract(epoch FROM expires_at) * 1e6, 0)::bigint, configured_sha256";

// A time as microseconds for the table ("" for unknown: NULL).
std::string MicrosOrEmpty(absl::Time time) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return "";
  return std::to_string(absl::ToUnixMicros(time));
}

}  // namespace

TokenVault::TokenVault(db::ConnectionPool* pool, const crypto::SealingKey* key, std::string owner,
                       const Grant& configured)
    : pool_(pool),
      key_(key),
      owner_(std::move(owner)),
      configured_(configured),
      configured_sha256_(
          Sha256Hex(absl::StrCat(configured.access_token.size(), ":", configured.access_token, "\n",
                                 configured.refresh_token))) {}

absl::StatusOr<Grant> TokenVault::Unseal(const pqxx::row& row) const {
  std::string access_sealed, refresh_sealed;
  if (!absl::Base64Unescape(row[0].as<std::string>(), &access_sealed) ||
      !absl::Base64Unescape(row[1].as<std::string>(), &refresh_sealed)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the stored ", owner_, " tokens are not sealed values"));
  }
  absl::StatusOr<std::string> access = key_->Open(access_sealed, owner_ + ":access");
  absl::StatusOr<std::string> refresh = key_->Open(refresh_sealed, owner_ + ":refresh");
  if (!access.ok() || !refresh.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the stored ", owner_,
        " tokens do not open with CF_TOKEN_KEY (was the key changed? restore it, or delete the "
        "row of cf_platform_tokens and configure current tokens)"));
  }
  Grant grant;
  grant.access_token = *access;
  grant.refresh_token = *refresh;
  if (row[2].as<int64_t>() != 0) grant.issued_at = absl::FromUnixMicros(row[2].as<int64_t>());
  if (row[3].as<int64_t>() != 0) grant.expires_at = absl::FromUnixMicros(row[3].as<int64_t>());
  return grant;
}

absl::StatusOr<std::optional<Grant>> TokenVault::Load() {
  std::optional<Grant> loaded;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM cf_platform_tokens WHERE token_owner = $1"),
        owner_);
    if (rows.empty() || rows[0][4].as<std::string>() != configured_sha256_) {
      return absl::OkStatus();  // none yet, or renewed from credentials no longer configured
    }
    absl::StatusOr<Grant> grant = Unseal(rows[0]);
    if (!grant.ok()) return grant.status();
    loaded = *grant;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return loaded;
}

absl::StatusOr<Grant> TokenVault::RenewLocked(const std::string& seen,
                                              const TokenSource::Renew& renew) {
  Grant result;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    // The row's lock is held through the platform's call: other replicas wait for it here
    // and then read what this one stored.
    txn.exec("SET LOCAL idle_in_transaction_session_timeout = '5min'");
    txn.exec_params(
        "INSERT INTO cf_platform_tokens (token_owner, configured_sha256, access_token_sealed, "
        "refresh_token_sealed) VALUES ($1, '', '', '') ON CONFLICT (token_owner) DO NOTHING",
        owner_);
    pqxx::result rows =
        txn.exec_params(absl::StrCat("SELECT ", kColumns,
                                     " FROM cf_platform_tokens WHERE token_owner = $1 FOR UPDATE"),
                        owner_);
    Grant stored = configured_;
    if (rows[0][4].as<std::string>() == configured_sha256_) {
      absl::StatusOr<Grant> unsealed = Unseal(rows[0]);
      if (!unsealed.ok()) return unsealed.status();
      stored = *unsealed;
    }
    if (stored.access_token != seen) {
      result = stored;  // another replica renewed it meanwhile
      return absl::OkStatus();
    }
    absl::StatusOr<Grant> renewed = renew(stored);
    if (!renewed.ok()) return renewed.status();
    txn.exec_params(
        "UPDATE cf_platform_tokens SET configured_sha256 = $2, access_token_sealed = $3, "
        "refresh_token_sealed = $4, issued_at = to_timestamp(NULLIF($5, '')::bigint / 1e6), "
        "expires_at = to_timestamp(NULLIF($6, '')::bigint / 1e6), renewed_at = NOW() WHERE "
        "token_owner = $1",
        owner_, configured_sha256_,
        absl::Base64Escape(key_->Seal(renewed->access_token, owner_ + ":access")),
        absl::Base64Escape(key_->Seal(renewed->refresh_token, owner_ + ":refresh")),
        MicrosOrEmpty(renewed->issued_at), MicrosOrEmpty(renewed->expires_at));
    result = *renewed;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace cf::publishing
