// The catalog binary as a process: start-up checks, SIGTERM under load (it finishes every call
// it accepted, refuses the rest with nothing written, and exits 0 within its drain deadline),
// and GetDossier (served by the pipelined reader) through a database outage.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>

#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "common/testing/postgres.h"
#include "common/testing/private_postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

namespace catalog_v1 = cf::catalog::v1;

std::string OutputPath(const std::string& name) {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// Runs the catalog with `env` and expects it to exit 1 at start, logging `expected`.
void ExpectStartupFailure(const std::map<std::string, std::string>& env,
                          const std::string& log_name, const std::string& expected) {
  std::string log_path = OutputPath(log_name);
  std::map<std::string, std::string> full_env = env;
  full_env["CF_LISTEN"] = "127.0.0.1:" + std::to_string(cf::testing::FreePort());
  cf::testing::Subprocess catalog({cf::testing::RunfilePath("services/catalog/catalog_server")},
                                  full_env, log_path);
  int status = catalog.Wait(std::chrono::seconds(20));
  ASSERT_NE(status, -1) << "still running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(ReadFile(log_path).find(expected), std::string::npos) << ReadFile(log_path);
}

// PostgreSQL stops for 5 s and starts again: GetDossier answers UNAVAILABLE (promptly, not at
// its deadline) and health is NOT_SERVING meanwhile; within 5 s of the restart both recover,
// and the process never exits. Then every backend is terminated, and reads recover again.
TEST(CatalogProcessTest, GetDossierRidesOutADatabaseOutage) {
  cf::testing::PrivatePostgres postgres;
  std::string id;
  {
    pqxx::connection owner(postgres.OwnerConninfo());
    pqxx::nontransaction txn(owner);
    id = txn.exec1(
                "INSERT INTO cf_product_dossiers (slug, name) VALUES ('outage', 'Outage') "
                "RETURNING id::text")[0]
             .as<std::string>();
  }
  const std::string address = "127.0.0.1:" + std::to_string(cf::testing::FreePort());
  cf::testing::Subprocess catalog({cf::testing::RunfilePath("services/catalog/catalog_server")},
                                  {{"CF_DATABASE_URL", postgres.RoleConninfo("cf_catalog")},
                                   {"CF_LISTEN", address},
                                   {"CF_DB_CONNECT_TIMEOUT_S", "2"}},
                                  OutputPath("catalog_outage.log"));
  ASSERT_TRUE(cf::testing::WaitForServing(address, std::chrono::seconds(30)));
  auto stub = catalog_v1::CatalogService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto get = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    catalog_v1::GetDossierRequest request;
    request.set_id(id);
    catalog_v1::Dossier dossier;
    grpc::Status status = stub->GetDossier(&context, request, &dossier);
    EXPECT_TRUE(!status.ok() || dossier.slug() == "outage");
    return status.error_code();
  };
  ASSERT_EQ(get(), grpc::StatusCode::OK);

  postgres.Stop();
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(get(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::seconds(10));
  EXPECT_TRUE(cf::testing::WaitUntil(
      [&] { return cf::testing::HealthOf(address) == "NOT_SERVING"; }, std::chrono::seconds(8)));
  std::this_thread::sleep_until(stopped_at + std::chrono::seconds(5));  // the outage's length
  EXPECT_EQ(get(), grpc::StatusCode::UNAVAILABLE);

  postgres.Start();
  const auto back = std::chrono::steady_clock::now();
  ASSERT_TRUE(cf::testing::WaitUntil([&] { return get() == grpc::StatusCode::OK; },
                                     std::chrono::seconds(30)));
  const double recovery =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - back).count();
  EXPECT_LE(recovery, 5.0) << "GetDossier took " << recovery << " s to recover";
  EXPECT_TRUE(cf::testing::WaitUntil([&] { return cf::testing::HealthOf(address) == "SERVING"; },
                                     std::chrono::seconds(5)));

  {
    pqxx::connection owner(postgres.OwnerConninfo());
    pqxx::nontransaction txn(owner);
    txn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'cf_catalog'");
  }
  EXPECT_TRUE(cf::testing::WaitUntil([&] { return get() == grpc::StatusCode::OK; },
                                     std::chrono::seconds(5)));
  EXPECT_EQ(catalog.Wait(std::chrono::milliseconds(0)), -1) << "the catalog exited";
  std::printf("catalog outage: GetDossier answered again %.2f s after PostgreSQL came back\n",
              recovery);
}

TEST(CatalogProcessTest, MissingDatabaseUrlStopsStartWithAClearMessage) {
  ExpectStartupFailure({{"CF_DATABASE_URL", ""}}, "no_url.log", "CF_DATABASE_URL");
}

TEST(CatalogProcessTest, OldSchemaStopsStart) {
  cf::testing::TestDatabase empty(/*migrated=*/false);
  ExpectStartupFailure({{"CF_DATABASE_URL", empty.OwnerConninfo()}}, "old_schema.log",
                       "run the migrate tool first");
}

TEST(CatalogProcessTest, SigtermUnderLoadFailsNoAcceptedCall) {
  cf::testing::TestDatabase database;
  std::string address = "127.0.0.1:" + std::to_string(cf::testing::FreePort());
  std::string log_path = OutputPath("catalog.log");
  constexpr int kDrainSeconds = 10;
  cf::testing::Subprocess catalog({cf::testing::RunfilePath("services/catalog/catalog_server")},
                                  {{"CF_DATABASE_URL", database.RoleConninfo("cf_catalog")},
                                   {"CF_LISTEN", address},
                                   {"CF_DRAIN_TIMEOUT_S", std::to_string(kDrainSeconds)}},
                                  log_path);
  ASSERT_TRUE(cf::testing::WaitForServing(address, std::chrono::seconds(20)))
      << "catalog did not start; see " << log_path;

  auto stub = catalog_v1::CatalogService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  std::mutex mutex;
  std::map<std::string, grpc::StatusCode> outcomes;  // request_id -> result
  std::atomic<bool> stop{false};
  std::atomic<int> ok_after_signal{0};
  std::atomic<bool> signalled{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        catalog_v1::CreateDossierRequest request;
        request.set_request_id("client-" + std::to_string(c) + "-" + std::to_string(i));
        request.mutable_dossier()->set_name("Load " + request.request_id());
        catalog_v1::Dossier response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        grpc::Status status = stub->CreateDossier(&context, request, &response);
        if (status.ok() && signalled) ++ok_after_signal;
        std::lock_guard<std::mutex> lock(mutex);
        outcomes[request.request_id()] = status.error_code();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto signal_time = std::chrono::steady_clock::now();
  signalled = true;
  catalog.Signal(SIGTERM);
  int exit_status = catalog.Wait(std::chrono::seconds(kDrainSeconds + 5));
  auto drain_time = std::chrono::steady_clock::now() - signal_time;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // calls now fail fast
  stop = true;
  for (auto& client : clients) client.join();

  ASSERT_NE(exit_status, -1) << "catalog did not exit within the drain deadline";
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0) << exit_status;
  EXPECT_LT(drain_time, std::chrono::seconds(kDrainSeconds + 1));

  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  std::set<std::string> written;
  for (const auto& row : txn.exec("SELECT create_request_id FROM cf_product_dossiers")) {
    written.insert(row[0].as<std::string>());
  }
  int ok = 0, refused = 0;
  for (const auto& [request_id, code] : outcomes) {
    if (code == grpc::StatusCode::OK) {
      ++ok;
      EXPECT_EQ(written.count(request_id), 1u) << request_id << " succeeded but is missing";
    } else {
      ++refused;
      // A refused call must never have been accepted: nothing of it may be stored. Calls that
      // reach a closed listener get UNAVAILABLE; calls the gRPC core had received but not yet
      // handed to the service when shutdown began get CANCELLED. Neither ran.
      EXPECT_TRUE(code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED)
          << request_id << " failed with code " << code;
      EXPECT_EQ(written.count(request_id), 0u) << request_id << " failed after being accepted";
    }
  }
  EXPECT_GT(ok, 100);
  EXPECT_GT(refused, 0);  // calls after the listener closed
  std::printf("ok=%d refused=%d ok_after_sigterm=%d drain=%lldms\n", ok, refused,
              ok_after_signal.load(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(drain_time).count()));
}

}  // namespace
}  // namespace cf
