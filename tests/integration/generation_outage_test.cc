// Database outages and shutdown, against the real generation binary.
//
// While it runs jobs and answers calls, its PostgreSQL is stopped for 10 s and started again;
// separately, every backend is killed with pg_terminate_backend. During the outage health is
// NOT_SERVING and calls are UNAVAILABLE; after it, health is SERVING again within 5 s, every
// job completes exactly once, and the process never exited. And a SIGTERM during a Veo poll
// that hangs exits 0 within the grace, giving the job back.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "cf/generation/v1/generation.grpc.pb.h"
#include "common/testing/postgres.h"
#include "common/testing/private_postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

using Clock = std::chrono::steady_clock;

class OutageTest : public ::testing::Test {
 protected:
  pqxx::result Owner(const std::string& sql) {
    pqxx::connection connection(postgres_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }
  int Count(const std::string& where) {
    return Owner("SELECT count(*) FROM cf_generated_images WHERE " + where)[0][0].as<int>();
  }

  std::vector<std::string> QueueImages(int count) {
    std::string dossier =
        Owner(
            "INSERT INTO cf_product_dossiers (slug, name) VALUES ('outage-' || gen_random_uuid(), "
            "'Outage') RETURNING id")[0][0]
            .as<std::string>();
    std::vector<std::string> ids;
    for (const auto& row :
         Owner("INSERT INTO cf_generated_images (dossier_id, type, prompt, aspect_ratio, "
               "max_attempts, dossier_snapshot) SELECT '" +
               dossier +
               "', 'product', 'p', '1:1', 20, jsonb_build_object('name', 'Outage') "
               "FROM generate_series(1, " +
               std::to_string(count) + ") RETURNING id::text")) {
      ids.push_back(row[0].as<std::string>());
    }
    return ids;
  }

  std::unique_ptr<testing::Subprocess> StartServer() {
    address_ = "127.0.0.1:" + std::to_string(testing::FreePort());
    std::map<std::string, std::string> env = {
        {"CF_DATABASE_URL", postgres_.RoleConninfo("cf_generation")},
        {"CF_CATALOG_ADDR", "127.0.0.1:1"},
        {"CF_LISTEN", address_},
        {"CF_MEDIA_DIR", testing::TestTempPath("media")},
        {"CF_WORKER_ID", "outage"},
        {"CF_ATTEMPT_LOG", attempt_log_},
        {"CF_IMAGE_WORKERS", "2"},
        {"CF_VIDEO_WORKERS", "0"},
        {"CF_JOB_LEASE_S", "10"},
        {"CF_JOB_POLL_MS", "200"},
        {"CF_JOB_BACKOFF_MS", "200"},
        {"CF_DB_CONNECT_TIMEOUT_S", "2"}};
    auto server = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{testing::RunfilePath("services/generation/generation_server")},
        env, testing::TestTempPath("generation.log"));
    EXPECT_TRUE(testing::WaitForServing(address_, std::chrono::seconds(30)));
    return server;
  }

  grpc::StatusCode GetImage(const std::string& id) {
    auto stub = generation::v1::GenerationService::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    generation::v1::GetImageRequest request;
    request.set_id(id);
    generation::v1::Image image;
    return stub->GetImage(&context, request, &image).error_code();
  }

  // Every job completed, each by exactly one accepted completion.
  void ExpectEachCompletedOnce(const std::vector<std::string>& ids) {
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return Count("status = 'completed'") == static_cast<int>(ids.size()); },
        std::chrono::minutes(3)))
        << Count("status = 'completed'") << " of " << ids.size() << " completed";
    std::map<std::string, int> accepted;
    std::ifstream log(attempt_log_);
    std::string line;
    while (std::getline(log, line)) {
      std::istringstream fields(line);
      std::string ms, event, kind, id;
      if (fields >> ms >> event >> kind >> id && event == "complete-accepted") ++accepted[id];
    }
    for (const std::string& id : ids) EXPECT_EQ(accepted[id], 1) << id;
    EXPECT_EQ(Count("true"), static_cast<int>(ids.size()));
  }

  testing::PrivatePostgres postgres_;
  std::string address_;
  std::string attempt_log_ = testing::TestTempPath("outage-attempts.log");
};

TEST_F(OutageTest, PostgresStoppedForTenSeconds) {
  std::vector<std::string> ids = QueueImages(40);
  auto server = StartServer();
  ASSERT_TRUE(testing::WaitUntil([&] { return Count("status = 'completed'") >= 3; },
                                 std::chrono::minutes(2)));

  postgres_.Stop();
  auto stopped_at = Clock::now();
  EXPECT_TRUE(testing::WaitUntil([&] { return testing::HealthOf(address_) == "NOT_SERVING"; },
                                 std::chrono::seconds(8)));
  EXPECT_EQ(GetImage(ids[0]), grpc::StatusCode::UNAVAILABLE);
  std::this_thread::sleep_until(stopped_at + std::chrono::seconds(10));  // the outage's length
  EXPECT_EQ(server->Wait(std::chrono::milliseconds(0)), -1) << "the server exited";

  postgres_.Start();
  auto back = Clock::now();
  ASSERT_TRUE(testing::WaitUntil([&] { return testing::HealthOf(address_) == "SERVING"; },
                                 std::chrono::seconds(30)));
  double recovery = std::chrono::duration<double>(Clock::now() - back).count();
  EXPECT_LE(recovery, 5.0) << "health took " << recovery << " s to recover";
  EXPECT_EQ(GetImage(ids[0]), grpc::StatusCode::OK);
  ExpectEachCompletedOnce(ids);
  EXPECT_EQ(server->Wait(std::chrono::milliseconds(0)), -1) << "the server exited";
  std::printf("outage: health SERVING again %.2f s after PostgreSQL came back\n", recovery);
}

TEST_F(OutageTest, EveryBackendTerminated) {
  std::vector<std::string> ids = QueueImages(40);
  auto server = StartServer();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(testing::WaitUntil([&] { return Count("status = 'completed'") >= 3 * (round + 1); },
                                   std::chrono::minutes(2)));
    Owner(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = "
        "'cf_generation'");
    auto killed = Clock::now();
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          return testing::HealthOf(address_) == "SERVING" &&
                 GetImage(ids[0]) == grpc::StatusCode::OK;
        },
        std::chrono::seconds(30)));
    EXPECT_LE(std::chrono::duration<double>(Clock::now() - killed).count(), 5.0);
  }
  ExpectEachCompletedOnce(ids);
  EXPECT_EQ(server->Wait(std::chrono::milliseconds(0)), -1) << "the server exited";
}

// A Veo operation whose poll never answers: SIGTERM still ends the process within the grace.
TEST(ShutdownTest, SigtermDuringAHangingVeoPollExitsWithinTheGrace) {
  testing::TestDatabase database;
  httplib::Server fake;
  std::atomic<int> polls{0};
  std::atomic<bool> release{false};
  fake.Get(R"(/v1beta/models/veo-3\.1-generate-preview/operations/op1)",
           [&](const httplib::Request&, httplib::Response& response) {
             ++polls;
             while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(20));
             response.set_content(R"({"done":false})", "application/json");
           });
  int port = fake.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { fake.listen_after_bind(); });
  {
    pqxx::connection connection(database.OwnerConninfo());
    pqxx::work txn(connection);
    std::string dossier = txn.exec(
                                 "INSERT INTO cf_product_dossiers (slug, name) VALUES "
                                 "('veo', 'Veo') RETURNING id")[0][0]
                              .as<std::string>();
    std::string image = txn.exec(
                               "INSERT INTO cf_generated_images (dossier_id, type, prompt, "
                               "status, job_state, image_url) VALUES ('" +
                               dossier +
                               "', 'product', 'p', 'completed', 'done', 'file:///none.png') "
                               "RETURNING id")[0][0]
                            .as<std::string>();
    txn.exec(
        "INSERT INTO cf_generated_videos (dossier_id, source_image_id, type, prompt, "
        "duration, aspect_ratio, remotion_job_id) VALUES ('" +
        dossier + "', '" + image +
        "', 'demo', 'p', 6, '9:16', 'models/veo-3.1-generate-preview/operations/op1')");
    txn.commit();
  }
  std::string address = "127.0.0.1:" + std::to_string(testing::FreePort());
  testing::Subprocess server(
      {testing::RunfilePath("services/generation/generation_server")},
      {{"CF_DATABASE_URL", database.RoleConninfo("cf_generation")},
       {"CF_CATALOG_ADDR", "127.0.0.1:1"},
       {"CF_LISTEN", address},
       {"CF_MEDIA_DIR", testing::TestTempPath("media-veo")},
       {"CF_VIDEO_PROVIDER", "veo"},
       {"CF_GOOGLE_API_KEY", "test-key"},
       {"CF_GOOGLE_API_BASE_URL", "http://127.0.0.1:" + std::to_string(port)},
       {"CF_IMAGE_WORKERS", "0"},
       {"CF_JOB_POLL_MS", "100"},
       {"CF_DRAIN_TIMEOUT_S", "5"}},
      testing::TestTempPath("generation-veo.log"));
  ASSERT_TRUE(testing::WaitForServing(address, std::chrono::seconds(30)));
  ASSERT_TRUE(testing::WaitUntil([&] { return polls > 0; }, std::chrono::seconds(30)));
  auto signalled = Clock::now();
  server.Signal(SIGTERM);
  int status = server.Wait(std::chrono::seconds(20));
  double took = std::chrono::duration<double>(Clock::now() - signalled).count();
  release = true;
  fake.stop();
  serving.join();
  ASSERT_NE(status, -1) << "still running 20 s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LE(took, 5.0 + 2.0) << "the 5 s grace was overrun";
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  auto row = txn.exec("SELECT status, attempts, remotion_job_id FROM cf_generated_videos")[0];
  EXPECT_EQ(row[0].as<std::string>(), "pending");  // given back for the next replica to poll
  EXPECT_EQ(row[1].as<int>(), 0);
  EXPECT_EQ(row[2].as<std::string>(), "models/veo-3.1-generate-preview/operations/op1");
  std::printf("shutdown during a hanging Veo poll: exited 0 after %.2f s\n", took);
}

}  // namespace
}  // namespace cf
