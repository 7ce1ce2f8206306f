// The assembly renderer killed with SIGKILL mid-render, again and again: after a last restart
// every assembly ends ready, each pointing at a complete file of its own last attempt, and no
// partial file is ever the final one.
#include <signal.h>
#include <sys/stat.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "common/media/ffmpeg.h"
#include "common/media/media_store.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/assembly/assembly_store.h"

namespace cf::assembly {
namespace {

constexpr int kAssemblies = 6;
constexpr int kKills = 20;

class AssemblyCrashTest : public ::testing::Test {
 protected:
  pqxx::result Owner(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }
  int Count(const std::string& where) {
    return Owner("SELECT count(*) FROM cf_assembled_content WHERE " + where)[0][0].as<int>();
  }

  // Drafts over one clip and one still, queued for rendering; attempts are not the limit here.
  void QueueRenders() {
    const std::string dossier =
        Owner(
            "INSERT INTO cf_product_dossiers (slug, name) VALUES ('crash', 'Crash') "
            "RETURNING id")[0][0]
            .as<std::string>();
    const std::string clip = media_.PathFor("videos", "clip.mp4");
    const std::string still = media_.PathFor("images", "still.png");
    testing::CommandOutput(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=1280x720:r=30:d=3 "
        "-pix_fmt yuv420p '" +
        clip + "'");
    testing::CommandOutput(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=800x600 "
        "-frames:v 1 '" +
        still + "'");
    for (int i = 0; i < kAssemblies; ++i) {
      Draft draft;
      draft.dossier_id = dossier;
      draft.platform = i % 2 == 0 ? "tiktok" : "youtube";
      draft.post.caption = "Tired of dull skin?";
      draft.options.set_caption_style("bold");
      draft.options.set_music_track(i % 3 == 0 ? "none" : "calm");
      draft.snapshot = {{"script",
                         {{"hook", "Tired of dull skin?"},
                          {"body", "Meet Glow Serum, number " + std::to_string(i) + "."},
                          {"cta", "Tap the link and glow today!"}}},
                        {"clips", {{{"id", "c"}, {"url", media_.UrlFor(clip)}}}},
                        {"images", {{{"id", "i"}, {"url", media_.UrlFor(still)}}}}};
      ids_.push_back(store_.Create(draft, "").value().id());
      ASSERT_TRUE(store_.Render(ids_.back(), false).ok());
    }
    Owner("UPDATE cf_assembled_content SET max_attempts = 100");
  }

  std::unique_ptr<testing::Subprocess> StartServer(const std::string& worker) {
    const std::string address = "127.0.0.1:" + std::to_string(testing::FreePort());
    auto server = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{testing::RunfilePath("services/assembly/assembly_server")},
        std::map<std::string, std::string>{
            {"CF_DATABASE_URL", database_.RoleConninfo("cf_assembly")},
            {"CF_CATALOG_ADDR", "127.0.0.1:1"},  // renders need no other service
            {"CF_GENERATION_ADDR", "127.0.0.1:1"},
            {"CF_LISTEN", address},
            {"CF_MEDIA_DIR", media_.root()},
            {"CF_WORKER_ID", worker},
            {"CF_RENDER_WORKERS", "2"},
            {"CF_JOB_LEASE_S", "3"},
            {"CF_JOB_RESCUE_S", "1"},
            {"CF_JOB_POLL_MS", "200"},
            {"CF_JOB_BACKOFF_MS", "200"},
            {"CF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "1000"}},
        testing::TestTempPath("assembly.log"));
    EXPECT_TRUE(testing::WaitForServing(address, std::chrono::seconds(60)));
    return server;
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_assembly"), 2};
  AssemblyStore store_{&pool_};
  media::MediaStore media_ = media::MediaStore::Open(testing::TestTempPath("media"), "").value();
  std::vector<std::string> ids_;
};

TEST_F(AssemblyCrashTest, KilledMidRenderLosesNothing) {
  QueueRenders();
  int kills = 0;
  for (int round = 0; kills < kKills && round < 3 * kKills; ++round) {
    const std::string worker = absl::StrCat("crash-", round);
    auto server = StartServer(worker);
    // Killed once one of its renders is in ffmpeg (phase "render").
    const bool mid_render = testing::WaitUntil(
        [&] {
          return Count(absl::StrCat("job_state = 'running' AND phase = 'render' AND lease_owner "
                                    "= '",
                                    worker, "'")) > 0;
        },
        std::chrono::seconds(60));
    server->Signal(SIGKILL);
    server->Wait(std::chrono::seconds(10));
    if (mid_render) ++kills;
    // Keep work coming: what finished is rendered again.
    for (const std::string& id : ids_) {
      if (store_.Get(id).value().state() == v1::ASSEMBLY_STATE_READY) {
        ASSERT_TRUE(store_.Render(id, true).ok());
      }
    }
  }
  EXPECT_EQ(kills, kKills);

  auto last = StartServer("crash-final");
  ASSERT_TRUE(testing::WaitUntil([&] { return Count("status = 'ready'") == kAssemblies; },
                                 std::chrono::minutes(6)))
      << Count("status = 'ready'") << " of " << kAssemblies << " ready";
  last->Signal(SIGTERM);
  EXPECT_EQ(last->Wait(std::chrono::seconds(30)), 0);

  for (const std::string& id : ids_) {
    SCOPED_TRACE(id);
    v1::Assembly assembly = store_.Get(id).value();
    const std::string token =
        Owner("SELECT lease_token FROM cf_assembled_content WHERE id = '" + id + "'")[0][0]
            .as<std::string>();
    absl::StatusOr<std::string> file = media_.LocalPathOf(assembly.final_video_url());
    ASSERT_TRUE(file.ok()) << assembly.final_video_url();
    // Its own last attempt's file, whole: the size and length the completion recorded.
    EXPECT_NE(file->find(id + "-" + token + ".mp4"), std::string::npos) << *file;
    EXPECT_EQ(file->find(".partial"), std::string::npos);
    auto info = media::Probe(*file);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->file_size, assembly.metadata().file_size());
    EXPECT_NEAR(info->duration, assembly.metadata().duration_seconds(), 0.1);
    EXPECT_GT(assembly.attempts(), 0);
    struct stat cover;
    EXPECT_EQ(stat(media_.LocalPathOf(assembly.cover_url()).value().c_str(), &cover), 0);
  }
}

}  // namespace
}  // namespace cf::assembly
