// Drafts and renders against a real PostgreSQL, rendered by the job runner with real speech and
// ffmpeg.
#include "services/assembly/assembly_store.h"

#include <sys/stat.h>

#include <pqxx/pqxx>

#include "common/jobs/runner.h"
#include "common/media/ffmpeg.h"
#include "common/media/media_store.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/assembly/render_handler.h"
#include "services/assembly/voice.h"

namespace cf::assembly {
namespace {

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

class AssemblyStoreTest : public ::testing::Test {
 protected:
  AssemblyStoreTest() {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    dossier_id_ = txn.exec(
                         "INSERT INTO cf_product_dossiers (slug, name) VALUES ('serum', 'Glow "
                         "Serum') RETURNING id")[0][0]
                      .as<std::string>();
    txn.commit();
  }

  // A clip and a still in the media folder, as generation would have left them.
  Draft MakeDraft() {
    const std::string clip = media_.PathFor("videos", "clip.mp4");
    const std::string still = media_.PathFor("images", "still.png");
    testing::CommandOutput(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i "
        "testsrc=s=1280x720:r=30:d=2 -pix_fmt yuv420p '" +
        clip + "'");
    testing::CommandOutput(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=800x600 "
        "-frames:v 1 '" +
        still + "'");
    Draft draft;
    draft.dossier_id = dossier_id_;
    draft.platform = "tiktok";
    draft.video_ids = {"00000000-0000-0000-0000-00000000000a"};
    draft.image_ids = {"00000000-0000-0000-0000-00000000000b"};
    draft.post.caption = "#ad \xc2\xb7 Commission earned Tired of dull skin?\nTap the link!";
    draft.post.hashtags = {"skincare", "glow"};
    draft.post.compliance_disclosure = "#ad \xc2\xb7 Commission earned";
    draft.options.set_caption_style("bold");
    draft.options.set_music_track("calm");
    draft.snapshot = {
        {"dossier", {{"name", "Glow Serum"}}},
        {"script",
         {{"hook", "Tired of dull skin?"}, {"body", "Meet Glow Serum."}, {"cta", "Tap the link!"}}},
        {"clips", {{{"id", draft.video_ids[0]}, {"url", media_.UrlFor(clip)}}}},
        {"images", {{{"id", draft.image_ids[0]}, {"url", media_.UrlFor(still)}}}}};
    return draft;
  }

  // One render worker over the store's queue, with real speech.
  std::unique_ptr<jobs::JobRunner> StartRenderer() {
    jobs::RunnerOptions options;
    options.worker_id = "test";
    options.poll_interval = absl::Milliseconds(100);
    options.conninfo = database_.RoleConninfo("cf_assembly");
    auto runner = std::make_unique<jobs::JobRunner>(
        std::vector<jobs::QueueWork>{{store_.queue(), &handler_, 1}}, options);
    runner->Start();
    return runner;
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_assembly"), 4};
  AssemblyStore store_{&pool_};
  media::MediaStore media_ =
      media::MediaStore::Open(cf::testing::TestTempPath("media-" + database_.name()), "").value();
  FliteVoice voice_;
  RenderJobHandler handler_{&media_, &voice_, absl::Minutes(5)};
  std::string dossier_id_;
};

TEST_F(AssemblyStoreTest, ARepeatedRequestIdReturnsTheFirstDraft) {
  Draft draft = MakeDraft();
  absl::StatusOr<v1::Assembly> first = store_.Create(draft, "req-1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::ASSEMBLY_STATE_DRAFT);
  EXPECT_EQ(first->platform(), v1::PLATFORM_TIKTOK);
  EXPECT_EQ(first->hashtags_size(), 2);
  EXPECT_EQ(first->options().music_track(), "calm");
  EXPECT_TRUE(first->options().voiceover());
  absl::StatusOr<v1::Assembly> again = store_.Create(draft, "req-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id(), first->id());
  EXPECT_NE(store_.Create(draft, "req-2")->id(), first->id());
}

// draft -> rendering -> ready, for real; then again only with force, into a new file while the
// old one stays.
TEST_F(AssemblyStoreTest, RendersADraftOnTheJobQueue) {
  v1::Assembly draft = store_.Create(MakeDraft(), "").value();
  absl::StatusOr<v1::Assembly> queued = store_.Render(draft.id(), false);
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_EQ(queued->state(), v1::ASSEMBLY_STATE_RENDERING);
  EXPECT_EQ(store_.Render(draft.id(), false).status().code(),
            absl::StatusCode::kFailedPrecondition);  // already rendering

  std::unique_ptr<jobs::JobRunner> runner = StartRenderer();
  auto state = [&] { return store_.Get(draft.id()).value().state(); };
  ASSERT_TRUE(testing::WaitUntil([&] { return state() != v1::ASSEMBLY_STATE_RENDERING; },
                                 std::chrono::minutes(3)));
  v1::Assembly ready = store_.Get(draft.id()).value();
  ASSERT_EQ(ready.state(), v1::ASSEMBLY_STATE_READY) << ready.error();
  EXPECT_EQ(ready.progress(), 100);
  EXPECT_EQ(ready.metadata().width(), 1080);
  EXPECT_EQ(ready.metadata().height(), 1920);
  EXPECT_GT(ready.metadata().duration_seconds(), 2.0);
  EXPECT_EQ(ready.metadata().voice(), "slt");
  const std::string first_file = media_.LocalPathOf(ready.final_video_url()).value();
  EXPECT_TRUE(Exists(first_file));
  EXPECT_TRUE(Exists(media_.LocalPathOf(ready.cover_url()).value()));
  auto info = media::Probe(first_file);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->codec, "h264");
  EXPECT_EQ(info->file_size, ready.metadata().file_size());

  EXPECT_EQ(store_.Render(draft.id(), false).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_.Render(draft.id(), true).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return state() == v1::ASSEMBLY_STATE_READY; },
                                 std::chrono::minutes(3)));
  v1::Assembly again = store_.Get(draft.id()).value();
  EXPECT_NE(again.final_video_url(), ready.final_video_url());
  EXPECT_TRUE(Exists(first_file));  // the old file was never removed under the old row
  EXPECT_TRUE(Exists(media_.LocalPathOf(again.final_video_url()).value()));
  EXPECT_EQ(again.attempts(), 1);
  runner->Stop();
}

// A script whose voice runs past the platform's maximum fails at once, saying by how much.
TEST_F(AssemblyStoreTest, AVoiceTooLongFailsWithoutRetrying) {
  Draft draft = MakeDraft();
  draft.platform = "instagram";  // 90 s
  std::string long_body;
  for (int i = 0; i < 60; ++i) long_body += "This serum makes your skin glow every single day. ";
  draft.snapshot["script"]["body"] = long_body;
  v1::Assembly created = store_.Create(draft, "").value();
  ASSERT_TRUE(store_.Render(created.id(), false).ok());
  std::unique_ptr<jobs::JobRunner> runner = StartRenderer();
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return store_.Get(created.id()).value().state() == v1::ASSEMBLY_STATE_FAILED; },
      std::chrono::minutes(2)));
  v1::Assembly failed = store_.Get(created.id()).value();
  EXPECT_NE(failed.error().find("over instagram's 90 s by"), std::string::npos) << failed.error();
  EXPECT_EQ(failed.attempts(), 1);
  runner->Stop();
}

}  // namespace
}  // namespace cf::assembly
