// The analytics binary with a read replica: FindWinners and ListMetrics read the replica while
// writes go to the primary, readiness follows the replica too, and a replica whose schema is
// older than the service needs stops the start.
//
// The "replica" is a second migrated database on the test server: it holds other data than the
// primary, which shows which one each call reads.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cf/analytics/v1/analytics.grpc.pb.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::map<std::string, std::string> Environment(const cf::testing::TestDatabase& primary,
                                               const std::string& replica_url,
                                               const std::string& address) {
  return {{"CF_DATABASE_URL", primary.RoleConninfo("cf_analytics")},
          {"CF_READ_DATABASE_URL", replica_url},
          {"CF_PUBLISHING_ADDR", "127.0.0.1:1"},
          {"CF_COLLECT_FIRST_DELAY_S", "86400"},
          {"CF_LISTEN", address}};
}

// A post with one day of metrics, written straight into `database`.
std::string AddPostWithMetrics(const cf::testing::TestDatabase& database) {
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::work txn(connection);
  const std::string post = txn.exec(R"sql(
      WITH d AS (INSERT INTO cf_product_dossiers (slug, name) VALUES ('d', 'D') RETURNING id),
           a AS (INSERT INTO cf_assembled_content (dossier_id, platform)
                 SELECT id, 'tiktok' FROM d RETURNING id)
      INSERT INTO cf_published_content (assembled_content_id, platform, platform_post_id,
                                        published_at)
      SELECT id, 'tiktok', 'p1', '2025-01-01' FROM a RETURNING id)sql")[0][0]
                               .as<std::string>();
  txn.exec(
      "INSERT INTO cf_performance_metrics (published_content_id, date, views, likes) "
      "VALUES ('" +
      post + "', '2025-01-02', 5000, 400)");
  txn.commit();
  return post;
}

TEST(AnalyticsProcessTest, ReportsReadTheReplicaAndReadinessFollowsIt) {
  cf::testing::TestDatabase primary;
  cf::testing::TestDatabase replica;
  const std::string on_primary = AddPostWithMetrics(primary);
  const std::string address = "127.0.0.1:" + std::to_string(cf::testing::FreePort());
  cf::testing::Subprocess analytics(
      {cf::testing::RunfilePath("services/analytics/analytics_server")},
      Environment(primary, replica.RoleConninfo("cf_analytics"), address),
      cf::testing::TestTempPath("analytics_replica.log"));
  ASSERT_TRUE(cf::testing::WaitForServing(address, seconds(60)))
      << ReadFile(cf::testing::TestTempPath("analytics_replica.log"));
  auto stub = analytics::v1::AnalyticsService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto context = [] {
    auto made = std::make_unique<grpc::ClientContext>();
    made->set_deadline(std::chrono::system_clock::now() + seconds(30));
    return made;
  };

  // The post exists on the primary only: the reports, which read the replica, do not see it.
  analytics::v1::ListMetricsRequest list;
  list.set_published_content_id(on_primary);
  analytics::v1::ListMetricsResponse days;
  EXPECT_EQ(stub->ListMetrics(context().get(), list, &days).error_code(),
            grpc::StatusCode::NOT_FOUND);
  analytics::v1::FindWinnersRequest find;
  analytics::v1::FindWinnersResponse winners;
  ASSERT_TRUE(stub->FindWinners(context().get(), find, &winners).ok());
  EXPECT_EQ(winners.cohort_size(), 0);
  // What the replica holds, they do see.
  const std::string on_replica = AddPostWithMetrics(replica);
  ASSERT_TRUE(stub->FindWinners(context().get(), find, &winners).ok());
  EXPECT_EQ(winners.cohort_size(), 1);
  ASSERT_EQ(winners.winners_size(), 1);
  EXPECT_EQ(winners.winners(0).key(), on_replica);
  // Writes go to the primary.
  analytics::v1::IngestMetricsRequest ingest;
  analytics::v1::MetricsRow* row = ingest.add_rows();
  row->set_published_content_id(on_primary);
  row->mutable_date()->set_year(2025);
  row->mutable_date()->set_month(1);
  row->mutable_date()->set_day(3);
  row->set_views(10);
  analytics::v1::IngestMetricsResponse ingested;
  ASSERT_TRUE(stub->IngestMetrics(context().get(), ingest, &ingested).ok());
  EXPECT_EQ(ingested.accepted(), 1);

  // The replica goes away: the service stops being ready (the primary is still up).
  {
    pqxx::connection admin(cf::testing::AdminConninfo());
    pqxx::nontransaction txn(admin);
    txn.exec("ALTER DATABASE " + txn.quote_name(replica.name()) + " WITH ALLOW_CONNECTIONS false");
    txn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
             txn.quote(replica.name()));
  }
  EXPECT_TRUE(cf::testing::WaitUntil(
      [&] { return cf::testing::HealthOf(address) == "NOT_SERVING"; }, seconds(60)));
  {
    pqxx::connection admin(cf::testing::AdminConninfo());
    pqxx::nontransaction txn(admin);
    txn.exec("ALTER DATABASE " + txn.quote_name(replica.name()) + " WITH ALLOW_CONNECTIONS true");
  }
  EXPECT_TRUE(cf::testing::WaitUntil([&] { return cf::testing::HealthOf(address) == "SERVING"; },
                                     seconds(60)));
}

TEST(AnalyticsProcessTest, AReplicaWithAnOlderSchemaStopsTheStart) {
  cf::testing::TestDatabase primary;
  cf::testing::TestDatabase empty(/*migrated=*/false);
  const std::string log = cf::testing::TestTempPath("analytics_old_replica.log");
  cf::testing::Subprocess analytics(
      {cf::testing::RunfilePath("services/analytics/analytics_server")},
      Environment(primary, empty.OwnerConninfo(),
                  "127.0.0.1:" + std::to_string(cf::testing::FreePort())),
      log);
  const int status = analytics.Wait(seconds(30));
  ASSERT_NE(status, -1) << "still running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(ReadFile(log).find("read replica check failed"), std::string::npos) << ReadFile(log);
}

}  // namespace
}  // namespace cf
