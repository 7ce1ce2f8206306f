// Never twice, and never unknown: publishing killed with SIGKILL at every step of a publish
// (before the platform call, during the upload, after the platform made the post but before the
// commit, and at random moments), again and again, while the sandbox injects 5xx, timeouts,
// rate limits, lost answers and expired tokens. Over 300 publishes spread across the four
// platforms, the sandbox (which never deduplicates) counts no duplicate post, every publish ends
// published or failed with a reason, and once ReconcilePublish has been called for each publish
// that failed holding its platform handle, every post the sandbox holds is recorded by exactly
// one publish.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "cf/publishing/v1/publishing.grpc.pb.h"
#include "common/http/http_client.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/sandbox/sandbox_processes.h"

namespace cf {
namespace {

namespace v1 = publishing::v1;

constexpr int kPublishes = 300;
constexpr int kKillsPerStep = 6;
// Publishes whose worker was killed while the platform held their handle, sent past their
// deadline, so the rescuer ends them as live on the platform, not recorded, and every run has
// some to reconcile: the platform made a post of some (TikTok, Facebook and YouTube go on by
// themselves) and not of others (an Instagram container nobody published).
constexpr int kOverdue = 8;
const char* const kPlatforms[] = {"tiktok", "instagram", "facebook", "youtube"};

class PublishCrashTest : public ::testing::Test {
 protected:
  PublishCrashTest() {
    EXPECT_TRUE(sandbox_.ready());
    testing::CommandOutput("mkdir -p '" + sandbox_.media_dir() + "/assemblies'");
  }

  nlohmann::json Stats() { return sandbox_.Stats(); }
  int SandboxPosts() { return sandbox_.Posts(); }

  pqxx::result Owner(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }
  int Count(const std::string& where) {
    return Owner("SELECT count(*) FROM cf_publish_jobs WHERE " + where)[0][0].as<int>();
  }

  // Ready assemblies and their publishes, queued as PublishContent would leave them; one small
  // video, each post with its own caption (the sandbox tells duplicates by caption and bytes).
  void QueuePublishes() {
    testing::CommandOutput(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=320x568:r=30:d=1 -f lavfi -i "
        "sine=d=1 -shortest -pix_fmt yuv420p '" +
        sandbox_.media_dir() + "/assemblies/clip.mp4'");
    const std::string dossier =
        Owner("INSERT INTO cf_product_dossiers (slug, name) VALUES ('crash', 'Crash') RETURNING id")
            [0][0]
                .as<std::string>();
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    for (int i = 0; i < kPublishes; ++i) {
      const std::string platform = kPlatforms[i % 4];
      const std::string assembly =
          txn.exec_params(
                 "INSERT INTO cf_assembled_content (dossier_id, platform, status, "
                 "job_state) VALUES ($1::uuid, $2, 'ready', 'done') RETURNING id",
                 dossier, platform)[0][0]
              .as<std::string>();
      nlohmann::json snapshot = {{"video_url", sandbox_.media_url() + "/assemblies/clip.mp4"},
                                 {"caption", absl::StrCat("#ad Glow number ", i, "\n\n#glow")},
                                 {"title", absl::StrCat("Glow number ", i)},
                                 {"hashtags", {"glow"}},
                                 {"disclosure", true},
                                 {"ai_generated", true},
                                 {"duration", 1},
                                 {"width", 320},
                                 {"height", 568}};
      txn.exec_params(
          "INSERT INTO cf_publish_jobs (assembled_content_id, platform, request_id, "
          "publish_snapshot, max_attempts) VALUES ($1::uuid, $2, $3, $4::jsonb, 30)",
          assembly, platform, absl::StrCat("crash-", i), snapshot.dump());
    }
    txn.commit();
  }

  // Faults on every call the adapters make, more on the calls that make a post.
  void InjectFaults() {
    const std::map<std::string, std::vector<std::string>> operations = {
        {"tiktok", {"init", "upload", "status"}},
        {"instagram", {"create_container", "container_status", "publish", "list_media"}},
        {"facebook", {"start", "transfer", "finish", "video_status"}},
        {"youtube", {"insert", "upload", "status"}}};
    const std::set<std::string> post_steps = {"upload", "publish", "finish"};
    nlohmann::json faults = nlohmann::json::array();
    for (const auto& [platform, names] : operations) {
      for (const std::string& operation : names) {
        const double more = post_steps.count(operation) ? 2.0 : 1.0;
        faults.push_back({{"platform", platform},
                          {"operation", operation},
                          {"kind", "error_500"},
                          {"probability", 0.03}});
        faults.push_back({{"platform", platform},
                          {"operation", operation},
                          {"kind", "lost_answer"},
                          {"probability", 0.04 * more}});
        faults.push_back({{"platform", platform},
                          {"operation", operation},
                          {"kind", "slow"},
                          {"probability", 0.03},
                          {"delay_ms", 2500}});
        faults.push_back({{"platform", platform},
                          {"operation", operation},
                          {"kind", "rate_limit"},
                          {"probability", 0.02},
                          {"delay_ms", 500}});
        if (!(platform == "tiktok" && operation == "upload")) {  // a signed URL, no token
          faults.push_back({{"platform", platform},
                            {"operation", operation},
                            {"kind", "token_expired"},
                            {"probability", 0.02}});
        }
        if (operation == "upload" || operation == "transfer") {
          // Slow uploads (within the timeout): a kill often lands inside one.
          faults.push_back({{"platform", platform},
                            {"operation", operation},
                            {"kind", "slow"},
                            {"probability", 0.5},
                            {"delay_ms", 700}});
        }
      }
    }
    ASSERT_TRUE(sandbox_.AddFaults(faults, 20261125));
  }

  std::unique_ptr<testing::Subprocess> StartPublishing(const std::string& worker) {
    address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    const std::string& address = address_;
    auto server = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{testing::RunfilePath("services/publishing/publishing_server")},
        std::map<std::string, std::string>{
            {"CF_DATABASE_URL", database_.RoleConninfo("cf_publishing")},
            {"CF_ASSEMBLY_ADDR", "127.0.0.1:1"},  // marking assemblies is not under test here
            {"CF_LISTEN", address},
            {"CF_MEDIA_DIR", sandbox_.media_dir()},
            {"CF_MEDIA_BASE_URL", sandbox_.media_url()},
            {"CF_SANDBOX_URL", sandbox_.url()},
            {"CF_WORKER_ID", worker},
            // 75 YouTube uploads, and their retries, in one day: more than the default quota.
            {"CF_YOUTUBE_DAILY_QUOTA", "100000000"},
            // Renewed tokens outlive each kill (TikTok's refresh tokens rotate).
            {"CF_TOKEN_KEY", "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"},
            {"CF_PUBLISH_WORKERS", "2"},
            {"CF_PLATFORM_TIMEOUT_S", "2"},
            {"CF_UPLOAD_TIMEOUT_S", "2"},
            {"CF_POLL_INTERVAL_MS", "100"},
            {"CF_JOB_LEASE_S", "3"},
            {"CF_JOB_RESCUE_S", "1"},
            {"CF_JOB_POLL_MS", "100"},
            {"CF_JOB_BACKOFF_MS", "100"},
            {"CF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "1000"}},
        testing::TestTempPath("publishing.log"));
    EXPECT_TRUE(testing::WaitForServing(address, std::chrono::seconds(60)));
    return server;
  }

  int Terminal() { return Count("job_state IN ('done', 'failed')"); }

  // ReconcilePublish, through the running server, until the platform has settled it.
  v1::ReconcilePublishResponse::Finding Reconcile(const std::string& id) {
    auto stub = publishing::v1::PublishingService::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    v1::ReconcilePublishResponse::Finding finding = v1::ReconcilePublishResponse::FINDING_PENDING;
    std::string last;
    const bool settled = testing::WaitUntil(
        [&] {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          publishing::v1::ReconcilePublishRequest request;
          request.set_id(id);
          publishing::v1::ReconcilePublishResponse response;
          grpc::Status status = stub->ReconcilePublish(&context, request, &response);
          last = status.ok() ? response.detail() : status.error_message();
          if (status.ok()) finding = response.finding();
          return status.ok() && finding != v1::ReconcilePublishResponse::FINDING_PENDING;
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(settled) << "publish " << id << ": " << last;
    return finding;
  }

  // The sandbox's posts that are live (not failed by the platform), as (platform, post id).
  std::set<std::pair<std::string, std::string>> LivePosts() {
    std::set<std::pair<std::string, std::string>> live;
    nlohmann::json posts =
        nlohmann::json::parse(sandbox_.Get("/_sandbox/posts").body, nullptr, false);
    for (const nlohmann::json& post : posts["posts"]) {
      if (!post.value("fail_reason", "").empty()) continue;
      live.emplace(post.value("platform", ""), post.value("post_id", ""));
    }
    return live;
  }

  std::string address_;
  cf::testing::TestDatabase database_;
  sandbox::SandboxProcesses sandbox_{
      "sandbox", {"--processing_ms=150", "--post_id_delay_ms=100", "--rate_scale=100"}};
};

TEST_F(PublishCrashTest, KilledAtEveryStepItNeverPostsTwice) {
  QueuePublishes();
  InjectFaults();
  if (HasFatalFailure()) return;
  std::mt19937 random(20261125);
  std::map<std::string, int> kills;  // by the step it interrupted
  int overdue = 0;
  int total_kills = 0;
  const auto killed_enough = [&] {
    if (kills.size() < 4) return false;
    for (const auto& [step, count] : kills) {
      if (count < kKillsPerStep) return false;
    }
    return true;
  };
  // Killed until every publish has ended, and at least until each step was hit often enough.
  for (int round = 0; (Terminal() < kPublishes || !killed_enough()) && round < 400; ++round) {
    const std::string worker = absl::StrCat("crash-", round);
    auto server = StartPublishing(worker);
    const std::string mine = absl::StrCat("job_state = 'running' AND lease_owner = '", worker, "'");
    std::string step;
    // The step this round waits for, in turn: then the process dies at once.
    switch (round % 4) {
      case 0:  // claimed, nothing sent yet (no handle)
        step = "before the call";
        testing::WaitUntil([&] { return Count(mine + " AND platform_handle IS NULL") > 0; },
                           std::chrono::seconds(5));
        break;
      case 1:  // the platform has a handle; bytes are going up (uploads are slowed)
        step = "during the upload";
        testing::WaitUntil([&] { return Count(mine + " AND platform_handle <> ''") > 0; },
                           std::chrono::seconds(5));
        break;
      case 2:  // the platform made a post that no commit has recorded yet
        step = "after the post, before the commit";
        testing::WaitUntil([&] { return SandboxPosts() > Count("job_state = 'done'"); },
                           std::chrono::seconds(5));
        break;
      default:
        step = "at a random moment";
        testing::WaitUntil(
            [] { return false; },
            std::chrono::milliseconds(std::uniform_int_distribution<>(50, 1500)(random)));
    }
    server->Signal(SIGKILL);
    server->Wait(std::chrono::seconds(10));
    if (overdue < kOverdue) {
      // The killed worker's publishes that hold a handle, made overdue: the rescuer ends them.
      overdue +=
          Owner(absl::StrCat("UPDATE cf_publish_jobs SET created_at = NOW() - interval '25 hours' "
                             "WHERE id IN (SELECT id FROM cf_publish_jobs WHERE job_state = "
                             "'running' AND coalesce(platform_handle, '') <> '' LIMIT ",
                             kOverdue - overdue, ") RETURNING 1"))
              .size();
    }
    if (round % 10 == 9) {
      // The access tokens expire for real (TikTok's and Google's are refreshed; Meta's, which
      // cannot be exchanged once expired, meet 401s from the fault rules instead).
      for (const char* owner : {"tiktok", "youtube"}) {
        EXPECT_EQ(
            sandbox_.Call("POST", absl::StrCat("/_sandbox/tokens/expire?platform=", owner)).status,
            200);
      }
    }
    ++kills[step];
    ++total_kills;
  }

  auto last = StartPublishing("final");
  ASSERT_TRUE(testing::WaitUntil([&] { return Terminal() == kPublishes; }, std::chrono::minutes(8)))
      << Terminal() << " of " << kPublishes << " ended";
  for (const auto& [step, count] : kills) std::printf("killed %s: %d\n", step.c_str(), count);
  const int published = Count("job_state = 'done'");
  const int failed = Count("job_state = 'failed'");
  std::printf("publishes: %d published, %d failed; sandbox posts: %d\n", published, failed,
              SandboxPosts());
  EXPECT_TRUE(killed_enough()) << total_kills << " kills";
  nlohmann::json stats = Stats();
  EXPECT_EQ(stats.value("duplicates", -1), 0) << stats.dump();
  EXPECT_EQ(Count("job_state = 'failed' AND coalesce(last_error, '') = ''"), 0);
  // A publish that failed holding its handle says it may be live; nothing else keeps one.
  EXPECT_EQ(Count("job_state = 'failed' AND coalesce(platform_handle, '') <> '' AND "
                  "last_error NOT LIKE 'live on the platform, not recorded%'"),
            0);

  // The operator's way back: each is reconciled, and none posts again.
  std::map<v1::ReconcilePublishResponse::Finding, int> findings;
  for (const pqxx::row& row : Owner("SELECT id::text FROM cf_publish_jobs WHERE job_state = "
                                    "'failed' AND coalesce(platform_handle, '') <> ''")) {
    ++findings[Reconcile(row[0].as<std::string>())];
  }
  std::printf("reconciled: %d recorded, %d not posted\n",
              findings[v1::ReconcilePublishResponse::FINDING_RECORDED],
              findings[v1::ReconcilePublishResponse::FINDING_NOT_POSTED]);
  EXPECT_EQ(overdue, kOverdue);
  EXPECT_GE(findings[v1::ReconcilePublishResponse::FINDING_RECORDED] +
                findings[v1::ReconcilePublishResponse::FINDING_NOT_POSTED],
            kOverdue);
  last->Signal(SIGTERM);
  EXPECT_EQ(last->Wait(std::chrono::seconds(30)), 0);

  // Every live post on the platforms is known to the database, each by exactly one publish.
  std::set<std::pair<std::string, std::string>> recorded;
  for (const pqxx::row& row :
       Owner("SELECT platform, coalesce(platform_post_id, '') FROM cf_published_content")) {
    recorded.emplace(row[0].as<std::string>(), row[1].as<std::string>());
  }
  const std::set<std::pair<std::string, std::string>> live = LivePosts();
  int unknown = 0;
  for (const auto& post : live) {
    if (recorded.count(post) == 0) {
      ++unknown;
      ADD_FAILURE() << post.first << " post " << post.second << " is unknown to the database";
    }
  }
  EXPECT_EQ(unknown, 0);
  EXPECT_EQ(Stats().value("duplicates", -1), 0);  // reconciles posted nothing again
  EXPECT_EQ(Count("job_state = 'failed' AND coalesce(platform_handle, '') <> ''"), 0);
  EXPECT_EQ(Owner("SELECT count(*) FROM cf_published_content")[0][0].as<int>(),
            Count("job_state = 'done'"));
  EXPECT_EQ(static_cast<int>(live.size()), Count("job_state = 'done'"));
  EXPECT_GE(Count("job_state = 'done'"), (kPublishes - kOverdue) * 9 / 10);
  for (const pqxx::row& row : Owner(
           "SELECT platform, last_error FROM cf_publish_jobs WHERE job_state = 'failed' LIMIT 5")) {
    std::printf("failed on %s: %s\n", row[0].c_str(), row[1].c_str());
  }
}

}  // namespace
}  // namespace cf
