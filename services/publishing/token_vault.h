// Renewed platform tokens in the database (cf_platform_tokens), sealed with CF_TOKEN_KEY, so a
// restart and every replica use the newest, and renewals are serialized across replicas by the
// row's lock.
#ifndef CF_SERVICES_PUBLISHING_TOKEN_VAULT_H_
#define CF_SERVICES_PUBLISHING_TOKEN_VAULT_H_

#include <string>

#include "common/crypto/sealed.h"
#include "common/db/pool.h"
#include "services/publishing/api_support.h"

namespace cf::publishing {

class TokenVault final : public TokenSource::Store {
 public:
  // `owner`: whose tokens ("tiktok", "meta", "youtube"). `configured`: the grant the service
  // was configured with; a stored grant renewed from other credentials is not used.
  // `pool` and `key` outlive the vault.
  TokenVault(db::ConnectionPool* pool, const crypto::SealingKey* key, std::string owner,
             const Grant& configured);

  absl::StatusOr<std::optional<Grant>> Load() override;
  absl::StatusOr<Grant> RenewLocked(const std::string& seen,
                                    const TokenSource::Renew& renew) override;

 private:
  absl::StatusOr<Grant> Unseal(const pqxx::row& row) const;

  db::ConnectionPool* pool_;
  const crypto::SealingKey* key_;
  std::string owner_;
  Grant configured_;
  std::string configured_sha256_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_TOKEN_VAULT_H_
