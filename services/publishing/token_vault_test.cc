// Renewed tokens in the database (a real PostgreSQL): sealed, shared by replicas, renewed by
// one replica at a time, kept across a restart, and never used for credentials other than the
// ones they were renewed from. A renewal never blocks readers of the current token.
#include "services/publishing/token_vault.h"

#include <atomic>
#include <future>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::publishing {
namespace {

constexpr char kKey[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// A platform's token endpoint in memory: each renewal issues access-<n> and rotates the
// refresh token, as TikTok does.
struct FakeEndpoint {
  std::atomic<int> renewals{0};
  TokenSource::Renew Renew() {
    return [this](const Grant& current) -> absl::StatusOr<Grant> {
      const int n = ++renewals;
      Grant next;
      next.access_token = "access-" + std::to_string(n);
      next.refresh_token = "refresh-" + std::to_string(n) + "-from-" + current.refresh_token;
      next.issued_at = absl::FromUnixSeconds(1700000000);
      next.expires_at = absl::FromUnixSeconds(1700086400);
      return next;
    };
  }
};

class TokenVaultTest : public ::testing::Test {
 protected:
  // A replica's token source for TikTok, configured with `access` and `refresh`.
  std::unique_ptr<TokenSource> Replica(const std::string& access = "configured-access",
                                       const std::string& refresh = "configured-refresh",
                                       const crypto::SealingKey* key = nullptr) {
    auto tokens = std::make_unique<TokenSource>("TikTok", access, refresh, endpoint_.Renew());
    absl::Status kept = tokens->UseStore(std::make_unique<TokenVault>(
        &pool_, key != nullptr ? key : &key_, "tiktok", tokens->CurrentGrant()));
    EXPECT_TRUE(kept.ok()) << kept;
    return tokens;
  }
  pqxx::result Sql(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    return pqxx::nontransaction(connection).exec(sql);
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_publishing"), 4};
  crypto::SealingKey key_ = crypto::SealingKey::Parse(kKey, "CF_TOKEN_KEY").value();
  FakeEndpoint endpoint_;
};

TEST_F(TokenVaultTest, ARenewalIsSharedByReplicasAndSurvivesARestart) {
  std::unique_ptr<TokenSource> first = Replica();
  std::unique_ptr<TokenSource> second = Replica();
  EXPECT_EQ(first->Current(), "configured-access");
  ASSERT_EQ(first->RenewAfter("configured-access").value(), "access-1");
  // The other replica meets the expiry with the old token: it takes the stored one, and
  // calls the platform for nothing (a second refresh would use a refresh token that rotated).
  EXPECT_EQ(second->RenewAfter("configured-access").value(), "access-1");
  EXPECT_EQ(endpoint_.renewals, 1);
  EXPECT_EQ(second->CurrentGrant().refresh_token, "refresh-1-from-configured-refresh");
  // A restart starts from what is stored, expiry included.
  std::unique_ptr<TokenSource> restarted = Replica();
  EXPECT_EQ(restarted->Current(), "access-1");
  EXPECT_EQ(restarted->CurrentGrant().expires_at, absl::FromUnixSeconds(1700086400));
  ASSERT_EQ(restarted->RenewAfter("access-1").value(), "access-2");
  EXPECT_EQ(restarted->CurrentGrant().refresh_token,
            "refresh-2-from-refresh-1-from-configured-refresh");
  // Nothing is stored in the clear.
  pqxx::result row =
      Sql("SELECT access_token_sealed || refresh_token_sealed FROM cf_platform_tokens");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_FALSE(absl::StrContains(row[0][0].as<std::string>(), "access-2"));
  EXPECT_FALSE(absl::StrContains(row[0][0].as<std::string>(), "refresh-2"));
}

TEST_F(TokenVaultTest, ReplicasRenewingAtOnceCallThePlatformOnce) {
  std::vector<std::unique_ptr<TokenSource>> replicas;
  for (int i = 0; i < 4; ++i) replicas.push_back(Replica());
  std::vector<std::future<absl::StatusOr<std::string>>> renewed;
  for (auto& replica : replicas) {
    renewed.push_back(std::async(std::launch::async,
                                 [&replica] { return replica->RenewAfter("configured-access"); }));
  }
  for (auto& result : renewed) EXPECT_EQ(result.get().value(), "access-1");
  EXPECT_EQ(endpoint_.renewals, 1);
}

TEST_F(TokenVaultTest, OtherCredentialsOrAnotherKeyDoNotUseTheStoredTokens) {
  ASSERT_EQ(Replica()->RenewAfter("configured-access").value(), "access-1");
  // Configured with other credentials (another account, or tokens an operator replaced): those
  // are used, and their renewal replaces the stored row.
  std::unique_ptr<TokenSource> replaced = Replica("new-access", "new-refresh");
  EXPECT_EQ(replaced->Current(), "new-access");
  ASSERT_EQ(replaced->RenewAfter("new-access").value(), "access-2");
  EXPECT_EQ(replaced->CurrentGrant().refresh_token, "refresh-2-from-new-refresh");
  // Another key does not open them: the start fails, saying what to do.
  crypto::SealingKey other =
      crypto::SealingKey::Parse(std::string(64, 'a'), "CF_TOKEN_KEY").value();
  TokenSource tokens("TikTok", "new-access", "new-refresh", endpoint_.Renew());
  absl::Status kept = tokens.UseStore(
      std::make_unique<TokenVault>(&pool_, &other, "tiktok", tokens.CurrentGrant()));
  EXPECT_EQ(kept.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(kept.message(), "CF_TOKEN_KEY")) << kept;
}

TEST_F(TokenVaultTest, ARefusedRenewalStoresNothingAndSaysToSignInAgain) {
  TokenSource tokens("TikTok", "configured-access", "configured-refresh",
                     [](const Grant&) -> absl::StatusOr<Grant> {
                       return absl::PermissionDeniedError("invalid_grant");
                     });
  ASSERT_TRUE(
      tokens.UseStore(std::make_unique<TokenVault>(&pool_, &key_, "tiktok", tokens.CurrentGrant()))
          .ok());
  absl::StatusOr<std::string> refused = tokens.RenewAfter("configured-access");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "sign in again")) << refused.status();
  EXPECT_EQ(
      Sql("SELECT count(*) FROM cf_platform_tokens WHERE configured_sha256 <> ''")[0][0].as<int>(),
      0);
  EXPECT_EQ(tokens.Current(), "configured-access");
}

// Current() answers while a renewal waits on the platform.
TEST(TokenSourceTest, ARenewalDoesNotBlockReaders) {
  absl::Notification entered, release;
  TokenSource tokens("Meta", "old", "", [&](const Grant&) -> absl::StatusOr<Grant> {
    entered.Notify();
    release.WaitForNotification();
    Grant next;
    next.access_token = "new";
    return next;
  });
  std::future<absl::StatusOr<std::string>> renewing =
      std::async(std::launch::async, [&] { return tokens.RenewAfter("old"); });
  entered.WaitForNotification();
  std::future<std::string> read = std::async(std::launch::async, [&] { return tokens.Current(); });
  ASSERT_EQ(read.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(read.get(), "old");
  release.Notify();
  EXPECT_EQ(renewing.get().value(), "new");
  EXPECT_EQ(tokens.Current(), "new");
}

}  // namespace
}  // namespace cf::publishing
