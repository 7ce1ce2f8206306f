// tools/up as an operator runs it (with binaries from this build instead of building them):
// it starts PostgreSQL, migrates, starts every service, and the factory works through its
// gateway. A dossier's clip is rendered, posted to the sandbox, its stats collected by analytics
// and found as a metrics row; then SIGTERM stops everything tools/up started.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "tests/integration/flow_client.h"

namespace cf {
namespace {

using std::chrono::seconds;

class ToolsUpTest : public ::testing::Test {
 protected:
  ToolsUpTest() {
    // Under /tmp: PostgreSQL runs as the postgres user, who cannot enter the test's folders.
    char pattern[] = "/tmp/cf-tools-up-XXXXXX";
    data_dir_ = mkdtemp(pattern) != nullptr ? pattern : "";
    for (const char* name : {"gateway", "catalog", "generation", "assembly", "publishing",
                             "analytics", "sandbox", "media", "pg"}) {
      ports_[name] = std::to_string(testing::FreePort());
    }
    // The bazel-bin of this build: the runfiles tree has the same layout.
    const std::string bin_dir = testing::RunfilePath("");
    std::vector<std::string> argv = {
        "/bin/bash", testing::RunfilePath("tools/up"), "--data-dir", data_dir_, "--bin-dir",
        bin_dir,     "--sandbox-day-seconds",          "20"};
    for (const auto& [name, port] : ports_) {
      argv.push_back("--" + name + "-port");
      argv.push_back(port);
    }
    // Services read these from the environment tools/up passes on: shorter polls for a test.
    up_ = std::make_unique<testing::Subprocess>(
        argv,
        std::map<std::string, std::string>{{"CF_JOB_POLL_MS", "200"},
                                           {"CF_POLL_INTERVAL_MS", "200"},
                                           {"CF_MARK_INTERVAL_MS", "200"}},
        log_path_);
  }

  ~ToolsUpTest() override {
    if (up_ != nullptr) {
      up_->Signal(SIGTERM);
      up_->Wait(std::chrono::minutes(1));
    }
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  std::string Gateway() { return "127.0.0.1:" + ports_["gateway"]; }

  std::string Log() {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  const std::string log_path_ = testing::TestTempPath("tools_up.log");
  std::string data_dir_;
  std::map<std::string, std::string> ports_;
  std::unique_ptr<testing::Subprocess> up_;
};

TEST_F(ToolsUpTest, StartsTheFactoryWhichPostsAndMeasuresThenStopsEverything) {
  ASSERT_FALSE(data_dir_.empty());
  // tools/up says "ready" once every service answers its health check.
  bool exited = false;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        exited = up_->Wait(std::chrono::milliseconds(1)) != -1;
        return exited || Log().find("ready: gateway") != std::string::npos;
      },
      std::chrono::minutes(3)));
  ASSERT_FALSE(exited) << Log();
  testing::FlowClient flow(Gateway());
  flow.MakeAssets();
  if (HasFatalFailure()) return;
  const std::string assembly_id = flow.StartRender(assembly::v1::PLATFORM_TIKTOK);
  ASSERT_FALSE(assembly_id.empty());
  ASSERT_TRUE(flow.WaitReady(assembly_id));
  const publishing::v1::Publish published = flow.PublishAndWatch(assembly_id);
  ASSERT_EQ(published.state(), publishing::v1::PUBLISH_STATE_PUBLISHED) << published.error();
  const std::string& id = published.published_content_id();

  // A sandbox day lasts 20 s here, so the post gathers views while the test waits.
  ASSERT_TRUE(testing::WaitUntil([&] { return flow.Stats(id).views() > 0; }, seconds(120)));
  analytics::v1::CollectMetricsRequest collect;
  collect.set_published_content_id(id);
  analytics::v1::CollectMetricsResponse collected;
  grpc::Status status = flow.analytics->CollectMetrics(flow.Context().get(), collect, &collected);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(collected.collected(), 1) << collected.DebugString();
  analytics::v1::ListMetricsRequest list;
  list.set_published_content_id(id);
  analytics::v1::ListMetricsResponse days;
  ASSERT_TRUE(flow.analytics->ListMetrics(flow.Context().get(), list, &days).ok());
  ASSERT_EQ(days.days_size(), 1);
  EXPECT_GT(days.days(0).row().views(), 0);
  EXPECT_LE(days.days(0).row().views(), flow.Stats(id).views());

  // SIGTERM: tools/up stops every service and PostgreSQL, and exits 0.
  up_->Signal(SIGTERM);
  const int exit_status = up_->Wait(std::chrono::minutes(1));
  up_.reset();
  ASSERT_TRUE(WIFEXITED(exit_status)) << exit_status;
  EXPECT_EQ(WEXITSTATUS(exit_status), 0) << Log();
  EXPECT_EQ(testing::HealthOf(Gateway()), "UNREACHABLE");
  EXPECT_EQ(testing::HealthOf("127.0.0.1:" + ports_["analytics"]), "UNREACHABLE");
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/pg/data/postmaster.pid"));
}

}  // namespace
}  // namespace cf
