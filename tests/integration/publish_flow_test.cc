// From a dossier to posts on all four platforms and their metrics, through the gateway, against
// the real binaries: catalog, generation, assembly, publishing, analytics, the gateway, the
// sandbox platform and the media server (tools/up's stack). Each assembly is rendered, published
// and watched until the platform confirms it; then the post is found on the sandbox's feed page,
// its video fetched, its stats collected by analytics and ranked.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "cf/analytics/v1/analytics.grpc.pb.h"
#include "cf/assembly/v1/assembly.grpc.pb.h"
#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "cf/generation/v1/generation.grpc.pb.h"
#include "cf/publishing/v1/publishing.grpc.pb.h"
#include "common/http/http_client.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/sandbox/sandbox_processes.h"
#include "tests/integration/flow_client.h"

namespace cf {
namespace {

using std::chrono::seconds;

class PublishFlowTest : public ::testing::Test {
 protected:
  PublishFlowTest() {
    EXPECT_TRUE(sandbox_.ready());
    const std::string& media = sandbox_.media_dir();
    media_url_ = sandbox_.media_url();
    sandbox_url_ = sandbox_.url();

    catalog_ = Start("catalog", "services/catalog/catalog_server",
                     {{"CF_DATABASE_URL", database_.RoleConninfo("cf_catalog")}});
    generation_ = Start("generation", "services/generation/generation_server",
                        {{"CF_DATABASE_URL", database_.RoleConninfo("cf_generation")},
                         {"CF_CATALOG_ADDR", addresses_["catalog"]},
                         {"CF_MEDIA_DIR", media},
                         {"CF_MEDIA_BASE_URL", media_url_},
                         {"CF_JOB_POLL_MS", "200"}});
    assembly_ = Start("assembly", "services/assembly/assembly_server",
                      {{"CF_DATABASE_URL", database_.RoleConninfo("cf_assembly")},
                       {"CF_CATALOG_ADDR", addresses_["catalog"]},
                       {"CF_GENERATION_ADDR", addresses_["generation"]},
                       {"CF_MEDIA_DIR", media},
                       {"CF_MEDIA_BASE_URL", media_url_},
                       {"CF_RENDER_WORKERS", "2"},
                       {"CF_JOB_POLL_MS", "200"}});
    publishing_ = Start("publishing", "services/publishing/publishing_server",
                        {{"CF_DATABASE_URL", database_.RoleConninfo("cf_publishing")},
                         {"CF_ASSEMBLY_ADDR", addresses_["assembly"]},
                         {"CF_MEDIA_DIR", media},
                         {"CF_MEDIA_BASE_URL", media_url_},
                         {"CF_SANDBOX_URL", sandbox_url_},
                         {"CF_POLL_INTERVAL_MS", "200"},
                         {"CF_MARK_INTERVAL_MS", "200"},
                         {"CF_JOB_POLL_MS", "200"}});
    // Its schedule stays out of the way: the test collects on demand.
    analytics_ = Start("analytics", "services/analytics/analytics_server",
                       {{"CF_DATABASE_URL", database_.RoleConninfo("cf_analytics")},
                        {"CF_PUBLISHING_ADDR", addresses_["publishing"]},
                        {"CF_COLLECT_FIRST_DELAY_S", "86400"}});
    gateway_ = Start("gateway", "services/gateway/gateway_server",
                     {{"CF_CATALOG_ADDR", addresses_["catalog"]},
                      {"CF_GENERATION_ADDR", addresses_["generation"]},
                      {"CF_ASSEMBLY_ADDR", addresses_["assembly"]},
                      {"CF_PUBLISHING_ADDR", addresses_["publishing"]},
                      {"CF_ANALYTICS_ADDR", addresses_["analytics"]}});
    flow_ = std::make_unique<testing::FlowClient>(addresses_["gateway"]);
  }

  std::unique_ptr<testing::Subprocess> Start(const std::string& name, const std::string& binary,
                                             std::map<std::string, std::string> env) {
    return testing::StartService(name, binary, std::move(env), &addresses_);
  }

  static http::Response Fetch(const std::string& url) {
    http::Request request;
    request.url = url;
    absl::StatusOr<http::Response> response = http::Send(request);
    return response.ok() ? *response : http::Response{};
  }

  // Analytics collects each post's stats from publishing (which reads the sandbox), finds
  // today's row, ranks the posts, and takes more days over a client stream.
  void CheckMetrics(const std::vector<publishing::v1::Publish>& published) {
    for (const auto& publish : published) {
      ASSERT_TRUE(flow_->WaitForViews(publish.published_content_id()));
    }
    std::map<std::string, int64_t> views_before;
    for (const auto& publish : published) {
      views_before[publish.published_content_id()] =
          flow_->Stats(publish.published_content_id()).views();
    }
    analytics::v1::CollectMetricsRequest collect;
    collect.mutable_since()->set_seconds(0);
    analytics::v1::CollectMetricsResponse collected;
    grpc::Status status =
        flow_->analytics->CollectMetrics(flow_->Context().get(), collect, &collected);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(collected.collected(), static_cast<int>(published.size())) << collected.DebugString();
    EXPECT_EQ(collected.failed(), 0) << collected.DebugString();
    for (const auto& publish : published) {
      const std::string& id = publish.published_content_id();
      analytics::v1::ListMetricsRequest list;
      list.set_published_content_id(id);
      analytics::v1::ListMetricsResponse days;
      ASSERT_TRUE(flow_->analytics->ListMetrics(flow_->Context().get(), list, &days).ok());
      ASSERT_EQ(days.days_size(), 1) << id;
      const analytics::v1::MetricsRow& row = days.days(0).row();
      // The totals grow while the test runs: the row holds a reading between two others.
      EXPECT_GE(row.views(), views_before[id]);
      EXPECT_LE(row.views(), flow_->Stats(id).views());
      EXPECT_GT(row.views(), 0);
      EXPECT_LE(row.clicks(), row.views());
      EXPECT_EQ(days.totals().views(), row.views());
    }

    analytics::v1::CreateScoringConfigRequest config;
    config.set_name("every post");
    (*config.mutable_weights())["engagement"] = 0.5;
    (*config.mutable_weights())["ctr"] = 0.5;
    config.set_min_views_threshold(0);
    analytics::v1::ScoringConfig created;
    ASSERT_TRUE(
        flow_->analytics->CreateScoringConfig(flow_->Context().get(), config, &created).ok());
    analytics::v1::FindWinnersRequest find;
    find.set_scoring_config_id(created.id());
    find.set_group_by(analytics::v1::WINNER_GROUPING_PLATFORM);
    analytics::v1::FindWinnersResponse winners;
    status = flow_->analytics->FindWinners(flow_->Context().get(), find, &winners);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(winners.cohort_size(), 4);

    // Yesterday's figures for the first post, over the gateway's client-streaming relay; the
    // same rows again change nothing.
    for (int round = 0; round < 2; ++round) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + seconds(30));
      analytics::v1::IngestMetricsResponse ingested;
      auto stream = flow_->analytics->StreamMetrics(&context, &ingested);
      analytics::v1::IngestMetricsRequest batch;
      analytics::v1::MetricsRow* row = batch.add_rows();
      row->set_published_content_id(published[0].published_content_id());
      const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
      row->mutable_date()->set_year(static_cast<int>(today.year()));
      row->mutable_date()->set_month(today.month());
      row->mutable_date()->set_day(today.day());
      row->set_views(10);
      row->set_clicks(20);  // more clicks than views: refused, named
      ASSERT_TRUE(stream->Write(batch));
      batch.mutable_rows(0)->set_clicks(1);
      ASSERT_TRUE(stream->Write(batch));
      ASSERT_TRUE(stream->WritesDone());
      ASSERT_TRUE(stream->Finish().ok());
      EXPECT_EQ(ingested.accepted(), 1);
      EXPECT_EQ(ingested.changed(), round == 0 ? 1 : 0);
      ASSERT_EQ(ingested.errors_size(), 1);
      EXPECT_EQ(ingested.errors(0).field(), "rows[0].clicks");
    }
  }

  cf::testing::TestDatabase database_;
  // A sandbox day lasts 20 s, so the posts gather views while the test runs.
  sandbox::SandboxProcesses sandbox_{
      "sandbox", {"--processing_ms=300", "--post_id_delay_ms=200", "--day_seconds=20"}};
  std::string media_url_, sandbox_url_;
  std::map<std::string, std::string> addresses_;
  std::unique_ptr<testing::Subprocess> catalog_, generation_, assembly_, publishing_, analytics_,
      gateway_;
  std::unique_ptr<testing::FlowClient> flow_;
};

TEST_F(PublishFlowTest, RenderedAssembliesArePostedOnEveryPlatformOnce) {
  flow_->MakeAssets();
  if (HasFatalFailure()) return;
  const std::vector<assembly::v1::Platform> platforms = {
      assembly::v1::PLATFORM_TIKTOK, assembly::v1::PLATFORM_INSTAGRAM,
      assembly::v1::PLATFORM_FACEBOOK, assembly::v1::PLATFORM_YOUTUBE};
  std::vector<std::string> assembly_ids;
  for (assembly::v1::Platform platform : platforms) {
    assembly_ids.push_back(flow_->StartRender(platform));
    ASSERT_FALSE(assembly_ids.back().empty());
  }
  for (const std::string& id : assembly_ids) ASSERT_TRUE(flow_->WaitReady(id));

  std::vector<publishing::v1::Publish> published;
  for (const std::string& id : assembly_ids) {
    publishing::v1::Publish last = flow_->PublishAndWatch(id);
    if (HasFailure()) return;
    ASSERT_EQ(last.state(), publishing::v1::PUBLISH_STATE_PUBLISHED) << last.error();
    EXPECT_FALSE(last.platform_post_id().empty());
    EXPECT_FALSE(last.platform_url().empty());
    EXPECT_FALSE(last.published_content_id().empty());
    published.push_back(last);
  }

  // Each assembly is marked published, and cannot be published again.
  for (const std::string& id : assembly_ids) {
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return flow_->GetAssembly(id).state() == assembly::v1::ASSEMBLY_STATE_PUBLISHED; },
        seconds(30)));
    publishing::v1::PublishContentRequest request;
    request.set_assembled_content_id(id);
    request.set_request_id("publish-again-" + id);
    publishing::v1::Publish refused;
    EXPECT_EQ(
        flow_->publishing->PublishContent(flow_->Context().get(), request, &refused).error_code(),
        grpc::StatusCode::FAILED_PRECONDITION);
  }

  CheckMetrics(published);
  if (HasFatalFailure()) return;

  publishing::v1::ListPublishedContentRequest list;
  list.set_page_size(2);
  publishing::v1::ListPublishedContentResponse page;
  ASSERT_TRUE(flow_->publishing->ListPublishedContent(flow_->Context().get(), list, &page).ok());
  EXPECT_EQ(page.published_content_size(), 2);
  EXPECT_FALSE(page.next_page_token().empty());
  for (const publishing::v1::Publish& publish : published) {
    publishing::v1::GetPostStatsRequest stats_request;
    stats_request.set_published_content_id(publish.published_content_id());
    publishing::v1::PostStats stats;
    grpc::Status status =
        flow_->publishing->GetPostStats(flow_->Context().get(), stats_request, &stats);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(stats.platform_post_id(), publish.platform_post_id());
    EXPECT_FALSE(stats.spend().empty());
  }

  // Promotion: a Spark Ad for the TikTok post (the first published), refused on Facebook.
  publishing::v1::StartPromotionRequest promote;
  promote.set_id(published[0].published_content_id());
  promote.set_budget("25.00");
  publishing::v1::PublishedContent promoted;
  grpc::Status promotion =
      flow_->publishing->StartPromotion(flow_->Context().get(), promote, &promoted);
  ASSERT_TRUE(promotion.ok()) << promotion.error_message();
  EXPECT_EQ(promoted.promotion_status(), publishing::v1::PROMOTION_STATUS_ACTIVE);
  EXPECT_EQ(promoted.promotion_budget(), "25.00");
  publishing::v1::StopPromotionRequest stop;
  stop.set_id(promoted.id());
  publishing::v1::PublishedContent stopped;
  ASSERT_TRUE(flow_->publishing->StopPromotion(flow_->Context().get(), stop, &stopped).ok());
  EXPECT_EQ(stopped.promotion_status(), publishing::v1::PROMOTION_STATUS_COMPLETED);
  promote.set_id(published[2].published_content_id());
  EXPECT_EQ(
      flow_->publishing->StartPromotion(flow_->Context().get(), promote, &promoted).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);

  // The sandbox's feed shows every post with its video, which plays (it is the rendered file).
  http::Response page_html = Fetch(sandbox_url_ + "/");
  ASSERT_EQ(page_html.status, 200);
  for (const publishing::v1::Publish& publish : published) {
    EXPECT_TRUE(absl::StrContains(page_html.body, publish.platform_post_id()))
        << publish.platform_post_id();
  }
  EXPECT_TRUE(absl::StrContains(page_html.body, "Commission earned"));
  std::smatch video;
  ASSERT_TRUE(std::regex_search(page_html.body, video, std::regex("src=\"(/[^\"]+\\.mp4)\"")))
      << page_html.body.substr(0, 2000);
  http::Response file = Fetch(sandbox_url_ + video[1].str());
  ASSERT_EQ(file.status, 200);
  const std::string copy = testing::TestTempPath("posted.mp4");
  std::ofstream(copy, std::ios::binary) << file.body;
  EXPECT_TRUE(absl::StrContains(
      testing::CommandOutput("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '" +
                             copy + "'"),
      "h264"));
  nlohmann::json stats =
      nlohmann::json::parse(Fetch(sandbox_url_ + "/_sandbox/stats").body, nullptr, false);
  EXPECT_EQ(stats.value("duplicates", -1), 0) << stats.dump();
}

}  // namespace
}  // namespace cf
