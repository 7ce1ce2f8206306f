// tools/up as an operator runs it (with binaries from this build instead of building them):
// it starts PostgreSQL, migrates, starts every service, and the factory works through its
// gateway. A dossier's clip is rendered, posted to the sandbox, its stats collected by analytics
// and found as a metrics row; then SIGTERM stops everything tools/up started.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/testing/postgres.h"
#include "common/testing/private_postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "tests/integration/flow_client.h"

namespace cf {
namespace {

using std::chrono::seconds;

constexpr char kDataDirPrefix[] = "/tmp/cf-tools-up-";

// Stops a private PostgreSQL tools/up left running in `data_dir`, if any.
void StopPostgres(const std::string& data_dir) {
  if (!std::filesystem::exists(data_dir + "/pg/data/postmaster.pid")) return;
  testing::RunAsPostgresUser(std::string(testing::kPostgresBin) + "/pg_ctl -D '" + data_dir +
                             "/pg/data' -m immediate -w stop >/dev/null 2>&1");
}

// Folders of earlier runs that were killed before they could clean up (their test process is
// gone): their PostgreSQL is stopped and the folder removed.
void SweepKilledRuns() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", error)) {
    const std::string path = entry.path().string();
    if (path.rfind(kDataDirPrefix, 0) != 0) continue;
    std::ifstream owner_file(path + "/test.pid");
    pid_t owner = 0;
    if (!(owner_file >> owner) || owner <= 0 || kill(owner, 0) == 0 || errno != ESRCH) continue;
    StopPostgres(path);
    std::filesystem::remove_all(path, error);
  }
}

// tools/up's pid, for the SIGTERM handler: Bazel sends SIGTERM when a test runs out of time,
// and tools/up then stops everything it started before the test process ends.
volatile pid_t up_pid = 0;

void ForwardTermination(int) {
  const pid_t pid = up_pid;
  if (pid > 0) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  _exit(1);
}

class ToolsUpTest : public ::testing::Test {
 protected:
  ToolsUpTest() {
    SweepKilledRuns();
    // Under /tmp: PostgreSQL runs as the postgres user, who cannot enter the test's folders.
    std::string pattern = std::string(kDataDirPrefix) + "XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return;
    data_dir_ = pattern;
    std::ofstream(data_dir_ + "/test.pid") << getpid();
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
    up_pid = up_->pid();
    signal(SIGTERM, ForwardTermination);
  }

  ~ToolsUpTest() override {
    signal(SIGTERM, SIG_DFL);
    up_pid = 0;
    if (up_ != nullptr) {
      up_->Signal(SIGTERM);
      up_->Wait(std::chrono::minutes(1));
    }
    up_.reset();  // SIGKILL if it is still running
    if (data_dir_.empty()) return;
    StopPostgres(data_dir_);  // a run cut short may leave it running
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
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
  ASSERT_TRUE(flow.WaitForViews(id));
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
