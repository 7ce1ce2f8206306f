// The job queue against a real PostgreSQL, as the generation role.
#include "services/generation/job_store.h"

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::generation {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  std::string InsertDossier() {
    return Owner(
               "INSERT INTO cf_product_dossiers (slug, name) VALUES ('d-' || "
               "gen_random_uuid(), 'D') RETURNING id")[0][0]
        .as<std::string>();
  }

  pqxx::result Owner(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }

  NewJob ImageJob(const std::string& dossier) {
    NewJob job;
    job.dossier_id = dossier;
    job.type = "before";
    job.prompt = "a prompt";
    job.aspect_ratio = "9:16";
    job.model = "local-ffmpeg";
    job.dossier.name = "Patch \"quoted\"";
    job.dossier.benefits = {"Clear skin", "Fast, really"};
    job.dossier.price = "9.99";
    job.max_attempts = 3;
    return job;
  }

  std::string State(JobKind kind, const std::string& id) {
    return Owner(std::string("SELECT status FROM ") + TableOf(kind) + " WHERE id = '" + id +
                 "'")[0][0]
        .as<std::string>();
  }

  // Claims up to `limit` jobs through the queue, decoded as the providers see them.
  std::vector<ClaimedJob> Claim(JobKind kind, const std::string& worker, int limit,
                                std::vector<jobs::Lease>* leases = nullptr) {
    auto claimed = store_.queue(kind)->Claim(worker, limit, absl::Seconds(30));
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    std::vector<ClaimedJob> jobs;
    for (const jobs::Lease& lease : claimed.value_or(std::vector<jobs::Lease>())) {
      jobs.push_back(DecodeClaim(kind, lease));
      if (leases != nullptr) leases->push_back(lease);
    }
    return jobs;
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_generation"), 4};
  JobStore store_{&pool_};
};

TEST_F(JobStoreTest, CreateIsIdempotentAndCapped) {
  std::string dossier = InsertDossier();
  auto first = store_.Create(JobKind::kImage, ImageJob(dossier), 3, "req-1", 5);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 3u);
  auto again = store_.Create(JobKind::kImage, ImageJob(dossier), 3, "req-1", 5);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  auto over = store_.Create(JobKind::kImage, ImageJob(dossier), 3, "req-2", 5);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Owner("SELECT count(*) FROM cf_generated_images")[0][0].as<int>(), 3);
  auto image = store_.GetImage((*first)[0]);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->state(), v1::JOB_STATE_PENDING);
  EXPECT_EQ(image->type(), v1::IMAGE_TYPE_BEFORE);
  EXPECT_EQ(image->aspect_ratio(), v1::ASPECT_RATIO_9_16);
  EXPECT_EQ(image->max_attempts(), 3);
}

TEST_F(JobStoreTest, ConcurrentCreatesRespectTheCap) {
  std::string dossier = InsertDossier();
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      store_.Create(JobKind::kImage, ImageJob(dossier), 2, "r" + std::to_string(i), 7)
          .IgnoreError();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(Owner("SELECT count(*) FROM cf_generated_images")[0][0].as<int>(), 7);
}

TEST_F(JobStoreTest, VideoSourceMustBeACompletedImageOfTheDossier) {
  std::string dossier = InsertDossier();
  std::string other = InsertDossier();
  std::string image = store_.Create(JobKind::kImage, ImageJob(dossier), 1, "", 10)->front();
  NewJob video = ImageJob(dossier);
  video.type = "demo";
  video.duration_seconds = 4;
  video.source_image_id = "00000000-0000-0000-0000-000000000001";
  EXPECT_EQ(store_.Create(JobKind::kVideo, video, 1, "", 10).status().code(),
            absl::StatusCode::kNotFound);
  video.source_image_id = image;
  EXPECT_EQ(store_.Create(JobKind::kVideo, video, 1, "", 10).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Owner("UPDATE cf_generated_images SET status = 'completed', image_url = 'file:///x.png'");
  NewJob foreign = video;
  foreign.dossier_id = other;
  EXPECT_EQ(store_.Create(JobKind::kVideo, foreign, 1, "", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto created = store_.Create(JobKind::kVideo, video, 2, "", 10);
  ASSERT_TRUE(created.ok()) << created.status();
  std::vector<ClaimedJob> claimed = Claim(JobKind::kVideo, "w", 5);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].source_image_url, "file:///x.png");
  EXPECT_EQ(claimed[0].duration_seconds, 4);
}

// A worker that dies while a Veo operation runs spends no attempt (the paid operation goes on
// and the next claim polls it); a video with no operation yet spends it as any job does.
TEST_F(JobStoreTest, ACrashDuringAVideoOperationSpendsNoAttempt) {
  std::string dossier = InsertDossier();
  std::string image = store_.Create(JobKind::kImage, ImageJob(dossier), 1, "", 10)->front();
  Owner("UPDATE cf_generated_images SET status = 'completed', image_url = 'file:///x.png'");
  NewJob video = ImageJob(dossier);
  video.type = "demo";
  video.duration_seconds = 4;
  video.source_image_id = image;
  ASSERT_TRUE(store_.Create(JobKind::kVideo, video, 1, "", 10).ok());
  jobs::JobQueue* queue = store_.queue(JobKind::kVideo);
  jobs::Lease lease = queue->Claim("w", 1, absl::Seconds(30))->at(0);
  ASSERT_TRUE(queue->RecordExternalJob(lease, "models/veo/operations/7").value());
  pqxx::connection maintenance(database_.RoleConninfo("cf_generation"));
  for (int crash = 0; crash < 7; ++crash) {  // more than max_attempts
    Owner("UPDATE cf_generated_videos SET lease_expires_at = NOW() - interval '1 second'");
    ASSERT_EQ(queue->RescueExpired(maintenance), 1);
    ASSERT_EQ(queue->Claim("w", 1, absl::Seconds(30))->size(), 1u) << crash;
  }
  EXPECT_EQ(Owner("SELECT attempts FROM cf_generated_videos")[0][0].as<int>(), 1);
  // A day after it was asked for, the next crash ends it, saying the operation may be done.
  Owner(
      "UPDATE cf_generated_videos SET created_at = NOW() - interval '25 hours', "
      "lease_expires_at = NOW() - interval '1 second'");
  ASSERT_EQ(queue->RescueExpired(maintenance), 1);
  pqxx::result ended = Owner("SELECT status, last_error, remotion_job_id FROM cf_generated_videos");
  EXPECT_EQ(ended[0][0].as<std::string>(), "failed");
  EXPECT_EQ(ended[0][1].as<std::string>().rfind("the video model's operation may have finished", 0),
            0u)
      << ended[0][1].as<std::string>();
  EXPECT_EQ(ended[0][2].as<std::string>(), "models/veo/operations/7");
}

TEST_F(JobStoreTest, ClaimTakesEachJobOnceAndCarriesTheSnapshot) {
  std::string dossier = InsertDossier();
  ASSERT_TRUE(store_.Create(JobKind::kImage, ImageJob(dossier), 10, "", 50).ok());
  std::vector<std::vector<ClaimedJob>> claims(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { claims[i] = Claim(JobKind::kImage, "w" + std::to_string(i), 3); });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> ids;
  size_t total = 0;
  for (const auto& claim : claims) {
    for (const ClaimedJob& job : claim) {
      ids.insert(job.id);
      EXPECT_EQ(job.attempt, 1);
      EXPECT_EQ(job.output_stem.rfind(job.id + "-", 0), 0u) << job.output_stem;
      EXPECT_EQ(job.dossier.name, "Patch \"quoted\"");
      EXPECT_EQ(job.dossier.benefits, (std::vector<std::string>{"Clear skin", "Fast, really"}));
      EXPECT_EQ(job.dossier.price, "9.99");
    }
    total += claim.size();
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_TRUE(Claim(JobKind::kImage, "late", 3).empty());
}

TEST_F(JobStoreTest, CompletionWritesTheUrlAndTheSeedsMetadata) {
  std::string dossier = InsertDossier();
  std::string id = store_.Create(JobKind::kImage, ImageJob(dossier), 1, "", 10)->front();
  std::vector<jobs::Lease> leases;
  ASSERT_EQ(Claim(JobKind::kImage, "w", 1, &leases).size(), 1u);
  EXPECT_EQ(State(JobKind::kImage, id), "generating");

  JobResult result;
  result.url = "file:///out.png";
  result.model = "local-ffmpeg";
  result.width = 1080;
  result.height = 1920;
  result.format = "png";
  result.file_size = 1234;
  result.generation_seconds = 0.5;
  jobs::Completion completion = CompletionFor(JobKind::kImage, result);
  ASSERT_TRUE(store_.queue(JobKind::kImage)
                  ->Complete(leases[0], completion.set_sql, completion.args)
                  .value());

  v1::Image image = store_.GetImage(id).value();
  EXPECT_EQ(image.state(), v1::JOB_STATE_COMPLETED);
  EXPECT_EQ(image.progress(), 100);
  EXPECT_EQ(image.image_url(), "file:///out.png");
  EXPECT_EQ(image.metadata().width(), 1080);
  EXPECT_EQ(image.metadata().file_size(), 1234);
  EXPECT_EQ(image.metadata().format(), "png");
  EXPECT_TRUE(image.has_completed_at());
  EXPECT_EQ(Owner("SELECT metadata->>'fileSize' FROM cf_generated_images")[0][0].as<std::string>(),
            "1234");
}

TEST_F(JobStoreTest, CancelAndRetrySpeakTheSeedsStatuses) {
  std::string dossier = InsertDossier();
  std::string id = store_.Create(JobKind::kImage, ImageJob(dossier), 1, "", 10)->front();
  absl::Status retry = store_.Retry(JobKind::kImage, id);
  EXPECT_EQ(retry.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(retry.message().find("the image is pending"), absl::string_view::npos) << retry;
  ASSERT_TRUE(store_.Cancel(JobKind::kImage, id).ok());
  EXPECT_EQ(State(JobKind::kImage, id), "cancelled");
  EXPECT_EQ(store_.GetImage(id)->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_TRUE(Claim(JobKind::kImage, "w", 1).empty());
  EXPECT_EQ(store_.Cancel(JobKind::kImage, "00000000-0000-0000-0000-000000000001").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(JobStoreTest, ListsNewestFirstWithFilters) {
  std::string dossier = InsertDossier();
  auto ids = store_.Create(JobKind::kImage, ImageJob(dossier), 5, "", 10).value();
  Owner(
      "UPDATE cf_generated_images SET created_at = NOW() - (batch_index || ' minutes')::interval");
  std::vector<std::string> seen;
  std::optional<JobCursor> after;
  int pages = 0;
  do {
    std::optional<JobCursor> next;
    auto page = store_.ListImages({dossier, "before", "pending"}, after, 2, &next);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& image : *page) seen.push_back(image.id());
    after = next;
    ++pages;
  } while (after && pages < 10);
  EXPECT_EQ(seen, ids);  // batch 0 is the newest
  std::optional<JobCursor> next;
  EXPECT_TRUE(store_.ListImages({dossier, "after", ""}, std::nullopt, 10, &next)->empty());
}

}  // namespace
}  // namespace cf::generation
