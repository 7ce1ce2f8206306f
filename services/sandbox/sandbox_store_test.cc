#include "services/sandbox/sandbox_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/testing/subprocess.h"

namespace cf::sandbox {
namespace {

TEST(SandboxStoreTest, StartsEmptyWithTheDocumentedCredentials) {
  auto store = SandboxStore::Open(testing::TestTempPath("empty-store"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto lock = (*store)->Lock();
  State& state = (*store)->state();
  EXPECT_TRUE(state.posts.empty());
  EXPECT_EQ(state.Tokens("tiktok").valid, std::vector<std::string>{"sandbox-access"});
  EXPECT_FALSE(state.Tokens("meta").refresh_revoked);
  EXPECT_EQ((*store)->VideoPath("tiktok", "7"),
            testing::TestTempPath("empty-store") + "/videos/tiktok/7.mp4");
}

TEST(SandboxStoreTest, ReloadsEverythingItSaved) {
  const std::string dir = testing::TestTempPath("reload-store");
  {
    auto store = SandboxStore::Open(dir);
    ASSERT_TRUE(store.ok());
    auto lock = (*store)->Lock();
    State& state = (*store)->state();
    EXPECT_EQ(state.NextNumber(), 1);
    Post post;
    post.platform = "youtube";
    post.key = "abc";
    post.caption = "caption \"quoted\" \xF0\x9F\x98\x80";
    post.flags = {{"selfDeclaredMadeForKids", false}};
    post.created_ms = 123;
    post.probed = true;
    post.promotion_daily_budget = "5.00";
    post.promotion_started_ms = 456;
    post.promotion_ended_ms = 789;
    post.promotion_earlier_spend_cents = 1999;
    state.posts.push_back(post);
    AdCampaign campaign;
    campaign.id = "1800000000000001";
    campaign.name = "Spark";
    state.campaigns[campaign.id] = campaign;
    AdGroup group;
    group.id = "1800000000000002";
    group.campaign_id = campaign.id;
    group.budget_cents = 2001;
    group.operation_status = "DISABLE";
    state.adgroups[group.id] = group;
    Ad ad;
    ad.id = "1800000000000003";
    ad.adgroup_id = group.id;
    ad.tiktok_item_id = "7300000000000000001";
    state.ads[ad.id] = ad;
    Upload upload;
    upload.platform = "tiktok";
    upload.id = "tt1";
    upload.total_bytes = 10;
    upload.received_bytes = 4;
    upload.request = {{"title", "t"}};
    state.uploads["tt1"] = upload;
    Container container;
    container.id = "c1";
    container.status_code = "FINISHED";
    state.containers["c1"] = container;
    state.Tokens("google").valid.push_back("sbx-google-1");
    state.Tokens("google").issued = 1;
    state.Tokens("meta").refresh_revoked = true;
    ASSERT_TRUE((*store)->Save().ok());
  }
  auto store = SandboxStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto lock = (*store)->Lock();
  State& state = (*store)->state();
  EXPECT_EQ(state.next_number, 2);
  ASSERT_EQ(state.posts.size(), 1u);
  Post* post = state.FindPost("youtube", "abc");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->caption, "caption \"quoted\" \xF0\x9F\x98\x80");
  EXPECT_EQ(post->flags["selfDeclaredMadeForKids"], false);
  EXPECT_EQ(post->promotion_daily_budget, "5.00");
  EXPECT_EQ(post->promotion_started_ms, 456);
  EXPECT_EQ(post->promotion_ended_ms, 789);
  EXPECT_EQ(post->promotion_earlier_spend_cents, 1999);
  EXPECT_FALSE(post->promoted());
  EXPECT_EQ(state.campaigns.at("1800000000000001").name, "Spark");
  EXPECT_EQ(state.adgroups.at("1800000000000002").budget_cents, 2001);
  EXPECT_EQ(state.adgroups.at("1800000000000002").operation_status, "DISABLE");
  EXPECT_EQ(state.ads.at("1800000000000003").tiktok_item_id, "7300000000000000001");
  EXPECT_TRUE(post->probed);
  EXPECT_EQ(state.uploads.at("tt1").received_bytes, 4);
  EXPECT_EQ(state.uploads.at("tt1").request["title"], "t");
  EXPECT_EQ(state.containers.at("c1").status_code, "FINISHED");
  EXPECT_EQ(state.Tokens("google").valid,
            (std::vector<std::string>{"sandbox-access", "sbx-google-1"}));
  EXPECT_TRUE(state.Tokens("meta").refresh_revoked);
  EXPECT_EQ(state.FindPost("youtube", "nope"), nullptr);
}

TEST(SandboxStoreTest, RefusesAStateItCannotRead) {
  const std::string dir = testing::TestTempPath("broken-store");
  ASSERT_TRUE(SandboxStore::Open(dir).ok());
  std::ofstream(dir + "/state.json") << "{not json";
  EXPECT_FALSE(SandboxStore::Open(dir).ok());
  std::ofstream(dir + "/state.json", std::ios::trunc) << R"({"posts": 5})";
  EXPECT_FALSE(SandboxStore::Open(dir).ok());
  std::ofstream(dir + "/state.json", std::ios::trunc) << R"({"posts": [{"key": 5}]})";
  EXPECT_FALSE(SandboxStore::Open(dir).ok());
}

}  // namespace
}  // namespace cf::sandbox
