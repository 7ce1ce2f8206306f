// Publishes against a real PostgreSQL: created once per request id and once per assembly,
// cancelled only before they start, driven by the job runner through a scripted platform, and
// confirmed into exactly one cf_published_content row.
#include "services/publishing/publish_store.h"

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "common/jobs/runner.h"
#include "common/media/media_store.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/publishing/publish_handler.h"
#include "services/publishing/youtube.h"

namespace cf::publishing {
namespace {

// A platform that takes two calls to post: the first records a handle and asks to be polled,
// the second finds the handle and confirms. It can be told to rate-limit once first.
class ScriptedPlatform final : public PlatformApi {
 public:
  std::string name() const override { return "tiktok"; }
  absl::StatusOr<Advanced> Advance(const PostRequest& post, const std::string& handle,
                                   PublishContext& context) override {
    std::lock_guard<std::mutex> lock(mutex_);
    handles_seen.push_back(handle);
    if (rate_limit_once) {
      rate_limit_once = false;
      return WithRetryAfter(absl::ResourceExhaustedError("slow down"), absl::Milliseconds(50));
    }
    if (handle.empty()) {
      if (!context.RecordHandle("publish-42")) return absl::CancelledError("lost");
      context.SetPhase("processing");
      return Advanced{false, {}, absl::Milliseconds(50)};
    }
    last_caption = post.caption;
    return Advanced{true,
                    {"7300000000000000042", "https://www.tiktok.com/@me/video/73",
                     absl::FromUnixSeconds(1700000000), ""},
                    absl::ZeroDuration()};
  }
  absl::StatusOr<PostFigures> Figures(const std::string&) override { return PostFigures{}; }

  std::mutex mutex_;
  std::vector<std::string> handles_seen;
  bool rate_limit_once = false;
  std::string last_caption;
};

class PublishStoreTest : public ::testing::Test {
 protected:
  PublishStoreTest() {
    media::MediaStore::Open(media_root_, "").IgnoreError();
    video_path_ = media_.PathFor("assemblies", "a.mp4");
    std::ofstream(video_path_) << "not really a video, but bytes to send";
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    const std::string dossier =
        txn.exec(
               "INSERT INTO cf_product_dossiers (slug, name) VALUES ('serum', 'Glow Serum') "
               "RETURNING id")[0][0]
            .as<std::string>();
    for (int i = 0; i < 2; ++i) {
      assemblies_.push_back(
          txn.exec_params("INSERT INTO cf_assembled_content (dossier_id, platform, caption, "
                          "status, job_state, final_video_url) VALUES ($1::uuid, 'tiktok', "
                          "'Glow', 'ready', 'done', $2) RETURNING id",
                          dossier, media_.UrlFor(video_path_))[0][0]
              .as<std::string>());
    }
    txn.commit();
  }

  NewPublish Publish(int assembly, const std::string& request_id) {
    return NewPublish{assemblies_[assembly],
                      "tiktok",
                      request_id,
                      "public",
                      std::nullopt,
                      {{"video_url", media_.UrlFor(video_path_)}, {"caption", "Glow #skin"}}};
  }

  absl::StatusOr<bool> Complete(const jobs::Lease& lease, const jobs::Completion& completion) {
    return store_.queue()->Complete(lease, completion.set_sql, completion.args,
                                    completion.then_sql);
  }

  int PublishedRows() {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec("SELECT count(*) FROM cf_published_content")[0][0].as<int>();
  }

  std::unique_ptr<jobs::JobRunner> StartWorkers(jobs::JobHandler* handler) {
    jobs::RunnerOptions options;
    options.worker_id = "test";
    options.poll_interval = absl::Milliseconds(50);
    options.conninfo = database_.RoleConninfo("cf_publishing");
    auto runner = std::make_unique<jobs::JobRunner>(
        std::vector<jobs::QueueWork>{{store_.queue(), handler, 1}}, options);
    runner->Start();
    return runner;
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_publishing"), 4};
  PublishStore store_{&pool_};
  std::string media_root_ = cf::testing::TestTempPath("media-" + database_.name());
  media::MediaStore media_ = media::MediaStore::Open(media_root_, "").value();
  std::string video_path_;
  std::vector<std::string> assemblies_;
};

TEST_F(PublishStoreTest, OncePerRequestIdAndOneUnfinishedPerAssembly) {
  absl::StatusOr<v1::Publish> first = store_.Create(Publish(0, "req-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::PUBLISH_STATE_QUEUED);
  EXPECT_EQ(first->platform(), assembly::v1::PLATFORM_TIKTOK);
  EXPECT_EQ(store_.Create(Publish(0, "req-1"))->id(), first->id());
  EXPECT_EQ(store_.FindByRequestId("req-1")->id(), first->id());

  absl::StatusOr<v1::Publish> second = store_.Create(Publish(0, "req-2"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StrContains(second.status().message(), first->id())) << second.status();
  // Another assembly is free; a cancelled publish frees its assembly.
  EXPECT_TRUE(store_.Create(Publish(1, "req-3")).ok());
  ASSERT_TRUE(store_.Cancel(first->id()).ok());
  EXPECT_EQ(store_.Get(first->id())->state(), v1::PUBLISH_STATE_CANCELLED);
  EXPECT_TRUE(store_.Create(Publish(0, "req-2")).ok());
}

TEST_F(PublishStoreTest, AScheduledPublishWaitsAndCanBeCancelledUntilItStarts) {
  NewPublish later = Publish(0, "later");
  later.scheduled_time = absl::Now() + absl::Hours(1);
  v1::Publish scheduled = store_.Create(later).value();
  EXPECT_EQ(scheduled.state(), v1::PUBLISH_STATE_SCHEDULED);
  EXPECT_TRUE(scheduled.has_scheduled_time());
  EXPECT_TRUE(store_.queue()->Claim("w", 5, absl::Seconds(30))->empty());  // not due
  EXPECT_EQ(store_.Cancel(scheduled.id())->state(), v1::PUBLISH_STATE_CANCELLED);

  v1::Publish now = store_.Create(Publish(1, "now")).value();
  auto leases = store_.queue()->Claim("w", 5, absl::Seconds(30));
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ(store_.Get(now.id())->state(), v1::PUBLISH_STATE_UPLOADING);
  // Started: the platform may have the video already, so it is not cancelled.
  EXPECT_EQ(store_.Cancel(now.id()).status().code(), absl::StatusCode::kFailedPrecondition);
}

// The confirmed post is written by the fenced completion itself: once, and never by a worker
// whose lease was taken over.
TEST_F(PublishStoreTest, TheCompletionRecordsThePostOnce) {
  v1::Publish publish = store_.Create(Publish(0, "once")).value();
  jobs::Lease stale = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  {
    // The lease expires and another worker claims the publish.
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    txn.exec("UPDATE cf_publish_jobs SET lease_expires_at = NOW() - interval '1 second'");
    txn.commit();
    pqxx::connection maintenance(database_.RoleConninfo("cf_publishing"));
    EXPECT_EQ(store_.queue()->RescueExpired(maintenance), 1);
  }
  jobs::Lease current = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  const jobs::Completion completion =
      PublishedCompletion("post-1", "https://example/1", absl::InfinitePast(), "");
  EXPECT_FALSE(Complete(stale, completion).value());
  EXPECT_EQ(PublishedRows(), 0);
  EXPECT_TRUE(Complete(current, completion).value());
  EXPECT_TRUE(Complete(current, completion).value());  // a retry after a lost answer
  EXPECT_EQ(PublishedRows(), 1);
  // Published: no second publish of the assembly, even before it is marked published.
  absl::StatusOr<v1::Publish> again = store_.Create(Publish(0, "once-more"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition) << again.status();
  EXPECT_TRUE(absl::StrContains(again.status().message(), "already published"));
  EXPECT_EQ(PublishedRows(), 1);
  v1::Publish done = store_.Get(publish.id()).value();
  EXPECT_EQ(done.state(), v1::PUBLISH_STATE_PUBLISHED);
  EXPECT_EQ(done.platform_post_id(), "post-1");
  v1::PublishedContent post = store_.GetPublished(done.published_content_id()).value();
  EXPECT_EQ(post.publish_id(), publish.id());
  EXPECT_EQ(post.assembled_content_id(), assemblies_[0]);
  EXPECT_EQ(post.promotion_status(), v1::PROMOTION_STATUS_NONE);
  // The assembly is still to be marked published; then it is not listed again.
  auto unmarked = store_.Unmarked(10).value();
  ASSERT_EQ(unmarked.size(), 1u);
  EXPECT_EQ(unmarked[0].second, assemblies_[0]);
  ASSERT_TRUE(store_.SetMarked(publish.id()).ok());
  EXPECT_TRUE(store_.Unmarked(10)->empty());
}

// A heartbeat holds the row while the completion runs: PostgreSQL then re-checks the row and
// computes the UPDATE again. The post is still inserted exactly once (it used to be inserted
// from the UPDATE's SET, and this race failed the publish with a duplicate key).
TEST_F(PublishStoreTest, ACompletionRacingAHeartbeatRecordsThePostOnce) {
  v1::Publish publish = store_.Create(Publish(0, "race")).value();
  jobs::Lease lease = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  pqxx::connection heartbeat(database_.RoleConninfo("cf_publishing"));
  pqxx::work holding(heartbeat);
  holding.exec(
      "UPDATE cf_publish_jobs SET lease_expires_at = lease_expires_at + interval '1 second'");
  const jobs::Completion completion =
      PublishedCompletion("post-9", "https://example/9", absl::InfinitePast(), "");
  std::future<absl::StatusOr<bool>> completed =
      std::async(std::launch::async, [&] { return Complete(lease, completion); });
  ASSERT_TRUE(testing::WaitUntil([&] {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(
                  "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                  "query LIKE 'WITH done AS (UPDATE cf_publish_jobs%'")[0][0]
               .as<int>() > 0;
  }));
  holding.commit();
  absl::StatusOr<bool> done = completed.get();
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(*done);
  EXPECT_EQ(PublishedRows(), 1);
  EXPECT_EQ(store_.Get(publish.id())->published_content_id(), publish.id());
}

// The runner drives a publish through its handle: recorded on the first call, found on the next,
// a rate limit waited out without spending an attempt.
TEST_F(PublishStoreTest, TheWorkerResumesByTheRecordedHandle) {
  ScriptedPlatform platform;
  platform.rate_limit_once = true;
  PublishJobHandler handler(&media_, &store_, {{"tiktok", &platform}});
  v1::Publish publish = store_.Create(Publish(0, "run")).value();
  std::unique_ptr<jobs::JobRunner> workers = StartWorkers(&handler);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return store_.Get(publish.id())->state() == v1::PUBLISH_STATE_PUBLISHED; },
      std::chrono::seconds(30)));
  workers->Stop();
  v1::Publish done = store_.Get(publish.id()).value();
  EXPECT_EQ(done.platform_post_id(), "7300000000000000042");
  EXPECT_EQ(done.published_at().seconds(), 1700000000);  // the platform's time
  EXPECT_EQ(done.attempts(), 1);                         // the rate limit and the poll spent none
  std::lock_guard<std::mutex> lock(platform.mutex_);
  EXPECT_EQ(platform.handles_seen, (std::vector<std::string>{"", "", "publish-42"}));
  EXPECT_EQ(platform.last_caption, "Glow #skin");
  EXPECT_EQ(PublishedRows(), 1);
}

// A publish that failed while the platform held its handle may have posted: its assembly
// takes no new publish. One that failed before any handle (or whose platform said no post came
// of it, clearing the handle) does not block.
TEST_F(PublishStoreTest, AFailureWithTheHandleHeldBlocksAnotherPublish) {
  v1::Publish first = store_.Create(Publish(0, "unknown")).value();
  jobs::Lease lease = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  ASSERT_TRUE(store_.queue()->RecordExternalJob(lease, "{\"publish_id\": \"p-1\"}").value());
  ASSERT_TRUE(store_.queue()->Fail(lease, "the worker stopped responding", false, {}).value());
  absl::StatusOr<v1::Publish> blocked = store_.Create(Publish(0, "after-unknown"));
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kFailedPrecondition) << blocked.status();
  EXPECT_TRUE(absl::StrContains(blocked.status().message(), first.id()));

  store_.Create(Publish(1, "refused")).value();
  jobs::Lease other = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  ASSERT_TRUE(store_.queue()->Fail(other, "TikTok refused the request", false, {}).value());
  EXPECT_TRUE(store_.Create(Publish(1, "after-refusal")).ok());
}

// A platform that takes the handle, then keeps failing in passing ways.
class FlakyPlatform final : public PlatformApi {
 public:
  std::string name() const override { return "tiktok"; }
  absl::StatusOr<Advanced> Advance(const PostRequest&, const std::string& handle,
                                   PublishContext& context) override {
    ++calls;
    if (handle.empty() && !context.RecordHandle("publish-7")) return absl::CancelledError("lost");
    return absl::UnavailableError("status/fetch answered 503");
  }
  absl::StatusOr<PostFigures> Figures(const std::string&) override { return PostFigures{}; }
  std::atomic<int> calls{0};
};

// Once the platform has the handle, passing failures re-check without spending attempts (so
// they never end a publish that may have posted as a plain failure); after the deadline it
// ends as live on the platform, not recorded, and the assembly takes no new publish.
TEST_F(PublishStoreTest, PassingFailuresAfterTheHandleSpendNoAttempts) {
  FlakyPlatform platform;
  PublishJobHandler patient(&media_, &store_, {{"tiktok", &platform}},
                            {absl::Milliseconds(20), absl::Hours(1)});
  v1::Publish publish = store_.Create(Publish(0, "flaky")).value();
  {
    std::unique_ptr<jobs::JobRunner> workers = StartWorkers(&patient);
    ASSERT_TRUE(testing::WaitUntil([&] { return platform.calls >= 5; }));
    workers->Stop();
  }
  v1::Publish waiting = store_.Get(publish.id()).value();
  EXPECT_NE(waiting.state(), v1::PUBLISH_STATE_FAILED) << waiting.error();
  EXPECT_LE(waiting.attempts(), 1);

  PublishJobHandler impatient(&media_, &store_, {{"tiktok", &platform}},
                              {absl::Milliseconds(20), absl::ZeroDuration()});
  std::unique_ptr<jobs::JobRunner> workers = StartWorkers(&impatient);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return store_.Get(publish.id())->state() == v1::PUBLISH_STATE_FAILED; }));
  workers->Stop();
  EXPECT_TRUE(absl::StartsWith(store_.Get(publish.id())->error(), kLiveNotRecorded))
      << store_.Get(publish.id())->error();
  EXPECT_TRUE(store_.Get(publish.id())->holds_platform_handle());
  EXPECT_EQ(store_.Create(Publish(0, "after-flaky")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A worker killed while the platform holds the handle spends no attempt, however often (the
// publish would otherwise end failed at max_attempts while its post may be live); past the
// publish's deadline, the rescuer ends it as live on the platform, not recorded.
TEST_F(PublishStoreTest, CrashesWhileTheHandleIsHeldSpendNoAttemptsUntilTheDeadline) {
  v1::Publish publish = store_.Create(Publish(0, "crashy")).value();
  pqxx::connection maintenance(database_.RoleConninfo("cf_publishing"));
  auto crash = [&] {
    pqxx::connection owner(database_.OwnerConninfo());
    pqxx::nontransaction(owner).exec(
        "UPDATE cf_publish_jobs SET lease_expires_at = NOW() - interval '1 second'");
    return store_.queue()->RescueExpired(maintenance);
  };
  jobs::Lease lease = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  ASSERT_TRUE(store_.queue()->RecordExternalJob(lease, "{\"publish_id\": \"p-9\"}").value());
  for (int i = 0; i < 8; ++i) {  // max_attempts is 5
    ASSERT_EQ(crash(), 1);
    ASSERT_EQ(store_.queue()->Claim("w", 1, absl::Seconds(30))->size(), 1u) << "crash " << i;
  }
  EXPECT_EQ(store_.Get(publish.id())->attempts(), 1);
  {
    pqxx::connection owner(database_.OwnerConninfo());
    pqxx::nontransaction(owner).exec(
        "UPDATE cf_publish_jobs SET created_at = NOW() - interval '25 hours'");
  }
  ASSERT_EQ(crash(), 1);
  v1::Publish ended = store_.Get(publish.id()).value();
  EXPECT_EQ(ended.state(), v1::PUBLISH_STATE_FAILED);
  EXPECT_TRUE(absl::StartsWith(ended.error(), kLiveNotRecorded)) << ended.error();
  EXPECT_TRUE(ended.holds_platform_handle());
}

// Publishes sharing a turn key take turns: the second waits while the first is queued or
// running with its turn, and goes once the first has ended.
TEST_F(PublishStoreTest, PublishesOfOneTurnKeyTakeTurns) {
  v1::Publish first = store_.Create(Publish(0, "turn-a")).value();
  v1::Publish second = store_.Create(Publish(1, "turn-b")).value();
  std::vector<jobs::Lease> leases = store_.queue()->Claim("w", 2, absl::Seconds(30)).value();
  ASSERT_EQ(leases.size(), 2u);
  const jobs::Lease& a = leases[0].id == first.id() ? leases[0] : leases[1];
  const jobs::Lease& b = leases[0].id == first.id() ? leases[1] : leases[0];
  EXPECT_TRUE(store_.TakeTurn(a, "instagram:same").value());
  EXPECT_TRUE(store_.TakeTurn(a, "instagram:same").value());  // again: still its own
  EXPECT_FALSE(store_.TakeTurn(b, "instagram:same").value());
  EXPECT_TRUE(store_.TakeTurn(b, "instagram:other").value());
  ASSERT_TRUE(store_.queue()->Release(b).value());
  // The first waits between polls (queued): still its turn.
  ASSERT_TRUE(store_.queue()->Defer(a, absl::ZeroDuration()).value());
  leases = store_.queue()->Claim("w", 2, absl::Seconds(30)).value();
  ASSERT_EQ(leases.size(), 2u);
  const jobs::Lease& a2 = leases[0].id == first.id() ? leases[0] : leases[1];
  const jobs::Lease& b2 = leases[0].id == first.id() ? leases[1] : leases[0];
  EXPECT_FALSE(store_.TakeTurn(b2, "instagram:same").value());
  ASSERT_TRUE(Complete(a2, PublishedCompletion("m-1", "", absl::InfinitePast(), "")).value());
  EXPECT_TRUE(store_.TakeTurn(b2, "instagram:same").value());
  EXPECT_FALSE(store_.TakeTurn(a2, "instagram:same").value());  // a stale lease takes nothing
}

// A platform that rate-limits for ever, after taking the handle or before.
class LimitedPlatform final : public PlatformApi {
 public:
  std::string name() const override { return "tiktok"; }
  absl::StatusOr<Advanced> Advance(const PostRequest&, const std::string& handle,
                                   PublishContext& context) override {
    ++calls;
    if (take_handle && handle.empty() && !context.RecordHandle("publish-8")) {
      return absl::CancelledError("lost");
    }
    return WithRetryAfter(absl::ResourceExhaustedError("spam flag: try again later"), retry_after);
  }
  absl::Duration retry_after = absl::Milliseconds(20);
  absl::StatusOr<PostFigures> Figures(const std::string&) override { return PostFigures{}; }
  bool take_handle = false;
  std::atomic<int> calls{0};
};

// A rate limit that never lifts ends the publish past the wait limit, saying why; one that
// came after the platform took the handle keeps it, as live on the platform, not recorded.
TEST_F(PublishStoreTest, ARateLimitThatNeverLiftsEndsThePublishPastTheWaitLimit) {
  LimitedPlatform platform;
  PublishDeadlines deadlines{absl::Milliseconds(20), absl::Hours(24), absl::Hours(1)};
  PublishJobHandler handler(&media_, &store_, {{"tiktok", &platform}}, deadlines);
  v1::Publish publish = store_.Create(Publish(0, "limited")).value();
  {
    std::unique_ptr<jobs::JobRunner> workers = StartWorkers(&handler);
    ASSERT_TRUE(testing::WaitUntil([&] { return platform.calls >= 3; }));
    workers->Stop();
  }
  EXPECT_NE(store_.Get(publish.id())->state(), v1::PUBLISH_STATE_FAILED);
  EXPECT_EQ(store_.Get(publish.id())->attempts(), 0);
  {
    pqxx::connection owner(database_.OwnerConninfo());
    pqxx::nontransaction(owner).exec(
        "UPDATE cf_publish_jobs SET created_at = NOW() - interval '2 hours'");
  }
  std::unique_ptr<jobs::JobRunner> workers = StartWorkers(&handler);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return store_.Get(publish.id())->state() == v1::PUBLISH_STATE_FAILED; }));
  v1::Publish ended = store_.Get(publish.id()).value();
  EXPECT_TRUE(absl::StrContains(ended.error(), "spam flag")) << ended.error();
  EXPECT_FALSE(ended.holds_platform_handle());
  EXPECT_FALSE(absl::StartsWith(ended.error(), kLiveNotRecorded)) << ended.error();

  platform.take_handle = true;
  v1::Publish held = store_.Create(Publish(1, "limited-held")).value();
  {
    pqxx::connection owner(database_.OwnerConninfo());
    pqxx::nontransaction(owner).exec_params(
        "UPDATE cf_publish_jobs SET created_at = NOW() - interval '2 hours' WHERE id = $1",
        held.id());
  }
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return store_.Get(held.id())->state() == v1::PUBLISH_STATE_FAILED; }));
  workers->Stop();
  ended = store_.Get(held.id()).value();
  EXPECT_TRUE(absl::StartsWith(ended.error(), kLiveNotRecorded)) << ended.error();
  EXPECT_TRUE(absl::StrContains(ended.error(), "spam flag")) << ended.error();
  EXPECT_TRUE(ended.holds_platform_handle());
}

// Told to wait beyond the wait limit (YouTube's quota, until its next day): the publish ends
// now, saying why, instead of starting a day late.
TEST_F(PublishStoreTest, AWaitLongerThanTheWaitLimitEndsThePublishNow) {
  LimitedPlatform platform;
  platform.retry_after = absl::Hours(2);
  PublishDeadlines deadlines{absl::Milliseconds(20), absl::Hours(24), absl::Hours(1)};
  PublishJobHandler handler(&media_, &store_, {{"tiktok", &platform}}, deadlines);
  v1::Publish publish = store_.Create(Publish(0, "quota")).value();
  std::unique_ptr<jobs::JobRunner> workers = StartWorkers(&handler);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return store_.Get(publish.id())->state() == v1::PUBLISH_STATE_FAILED; }));
  workers->Stop();
  EXPECT_EQ(platform.calls, 1);
  const std::string error = store_.Get(publish.id())->error();
  EXPECT_TRUE(absl::StrContains(error, "past the wait limit")) << error;
  EXPECT_FALSE(store_.Get(publish.id())->holds_platform_handle());
}

TEST_F(PublishStoreTest, ListsPageNewestFirstAndCountsYouTubeUploads) {
  v1::Publish a = store_.Create(Publish(0, "a")).value();
  v1::Publish b = store_.Create(Publish(1, "b")).value();
  auto page = store_.List({}, std::nullopt, 1).value();
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id(), b.id());
  ASSERT_TRUE(page.next.has_value());
  auto rest = store_.List({}, page.next, 1).value();
  ASSERT_EQ(rest.items.size(), 1u);
  EXPECT_EQ(rest.items[0].id(), a.id());
  EXPECT_FALSE(rest.next.has_value());
  EXPECT_EQ(store_.List({assemblies_[0], "", ""}, std::nullopt, 10)->items.size(), 1u);
}

// YouTube's quota is planned on the day each upload happens (a scheduled one's day), and spent
// in one statement: publishes racing for the last units cannot both take them.
TEST_F(PublishStoreTest, YouTubeQuotaIsPlannedByUploadDayAndNeverOverspent) {
  const absl::CivilDay today = YouTubeQuotaDay(absl::Now());
  EXPECT_EQ(store_.YouTubeUnitsPlanned(today, 1600).value(), 0);
  NewPublish now = Publish(0, "yt-now");
  now.platform = "youtube";
  ASSERT_TRUE(store_.Create(now).ok());
  NewPublish later = Publish(1, "yt-later");
  later.platform = "youtube";
  later.scheduled_time = absl::FromCivil(today + 3, absl::UTCTimeZone()) + absl::Hours(20);
  ASSERT_TRUE(store_.Create(later).ok());
  EXPECT_EQ(store_.YouTubeUnitsPlanned(today, 1600).value(), 1600);
  EXPECT_EQ(store_.YouTubeUnitsPlanned(YouTubeQuotaDay(*later.scheduled_time), 1600).value(), 1600);
  EXPECT_EQ(store_.YouTubeUnitsPlanned(today + 1, 1600).value(), 0);

  // Eight uploads race for a 4,000-unit day at 1,600 each: two get through.
  std::vector<std::future<absl::StatusOr<bool>>> racing;
  for (int i = 0; i < 8; ++i) {
    racing.push_back(std::async(std::launch::async,
                                [&] { return store_.SpendYouTubeQuota(today + 5, 1600, 4000); }));
  }
  int spent = 0;
  for (auto& result : racing) spent += result.get().value() ? 1 : 0;
  EXPECT_EQ(spent, 2);
  EXPECT_EQ(store_.YouTubeUnitsPlanned(today + 5, 1600).value(), 3200);
  EXPECT_FALSE(store_.SpendYouTubeQuota(today + 6, 1600, 1000).value());  // more than a day
}

}  // namespace
}  // namespace cf::publishing
