// The publishing logic against a real PostgreSQL, with assembly's API and the platforms
// played by in-process fakes: requests are checked before anything is written, and a publish
// the platform would refuse is refused up front, saying why.
#include "services/publishing/publishing.h"

#include <fstream>
#include <functional>
#include <map>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf::publishing {
namespace {

class FakeAssemblies final : public assembly::AssemblySource {
 public:
  absl::StatusOr<assembly::v1::Assembly> GetAssembly(const std::string& id,
                                                     const CallContext&) override {
    auto it = assemblies.find(id);
    if (it == assemblies.end()) return absl::NotFoundError("assembly " + id + " not found");
    return it->second;
  }
  absl::StatusOr<assembly::v1::Assembly> MarkPublished(const std::string& id,
                                                       const CallContext&) override {
    marked.push_back(id);
    return assemblies[id];
  }
  std::map<std::string, assembly::v1::Assembly> assemblies;
  std::vector<std::string> marked;
};

class FakePlatform final : public PlatformApi {
 public:
  explicit FakePlatform(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  absl::StatusOr<Advanced> Advance(const PostRequest&, const std::string& handle,
                                   PublishContext& context) override {
    if (!context.lookup_only() || !lookup) return absl::UnimplementedError("not in this test");
    handles_looked_up.push_back(handle);
    return lookup(context);
  }
  absl::StatusOr<PostFigures> Figures(const std::string& post_id) override {
    figures_asked.push_back(post_id);
    PostFigures figures;
    figures.views = 1200;
    figures.likes = 80;
    figures.unavailable = {"saves"};
    return figures;
  }
  absl::StatusOr<CreatorLimits> Limits() override { return limits; }
  CreatorLimits limits{{"public", "friends", "private"}, absl::Seconds(600)};
  std::vector<std::string> figures_asked;
  // What a ReconcilePublish lookup finds (the test's script).
  std::function<absl::StatusOr<Advanced>(PublishContext&)> lookup;
  std::vector<std::string> handles_looked_up;

 private:
  std::string name_;
};

// A promotion that makes two things (as a Spark Ad makes a campaign, then an ad group and an
// ad) and can be told to fail after the first, or to be refused.
class FakePromotion final : public PromotionApi {
 public:
  int64_t MinimumDailyBudgetCents() const override { return 2000; }
  absl::Status Start(const std::string& post_id, int64_t cents, absl::Time ends_at,
                     std::string* handle,
                     const std::function<absl::Status(const std::string&)>& record) override {
    handles_seen.push_back(*handle);
    budgets.push_back(cents);
    ends.push_back(ends_at);
    if (handle->empty()) {
      *handle = "campaign-" + post_id;
      if (absl::Status kept = record(*handle); !kept.ok()) return kept;
    }
    if (interrupt_once) {
      interrupt_once = false;
      return absl::UnavailableError("the ads API timed out");
    }
    if (refuse) return absl::FailedPreconditionError("the ad account is suspended");
    if (between) between();  // e.g. a StopPromotion arriving mid-start
    *handle += "+ad";
    return record(*handle);
  }
  absl::Status Stop(const std::string& handle) override {
    stopped.push_back(handle);
    if (stop_fails > 0) {
      --stop_fails;
      return absl::UnavailableError("the ads API is down");
    }
    return absl::OkStatus();
  }
  std::vector<std::string> handles_seen, stopped;
  std::vector<int64_t> budgets;
  std::vector<absl::Time> ends;
  bool interrupt_once = false;
  bool refuse = false;
  int stop_fails = 0;
  std::function<void()> between;
};

class PublishingTest : public ::testing::Test {
 protected:
  PublishingTest() {
    video_path_ = media_.PathFor("assemblies", "a.mp4");
    std::ofstream(video_path_) << "video bytes";
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    dossier_ = txn.exec(
                      "INSERT INTO cf_product_dossiers (slug, name) VALUES ('serum', 'Glow') "
                      "RETURNING id")[0][0]
                   .as<std::string>();
    txn.commit();
  }

  // A ready assembly of `platform`, in the database (for the foreign key) and in the fake API.
  assembly::v1::Assembly& Ready(const std::string& platform) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    const std::string id = txn.exec_params(
                                  "INSERT INTO cf_assembled_content (dossier_id, platform, status, "
                                  "job_state) VALUES ($1::uuid, $2, 'ready', 'done') RETURNING id",
                                  dossier_, platform)[0][0]
                               .as<std::string>();
    txn.commit();
    assembly::v1::Assembly& made = assemblies_.assemblies[id];
    made.set_id(id);
    made.set_state(assembly::v1::ASSEMBLY_STATE_READY);
    made.set_platform(platform == "tiktok"      ? assembly::v1::PLATFORM_TIKTOK
                      : platform == "instagram" ? assembly::v1::PLATFORM_INSTAGRAM
                      : platform == "facebook"  ? assembly::v1::PLATFORM_FACEBOOK
                                                : assembly::v1::PLATFORM_YOUTUBE);
    made.set_caption("Glow today");
    made.add_hashtags("skincare");
    made.set_title("Glow today");
    made.set_final_video_url(media_.UrlFor(video_path_));
    made.mutable_metadata()->set_width(1080);
    made.mutable_metadata()->set_height(1920);
    made.mutable_metadata()->set_duration_seconds(14.5);
    return made;
  }

  v1::PublishContentRequest Request(const std::string& assembly_id, const std::string& request_id) {
    v1::PublishContentRequest request;
    request.set_assembled_content_id(assembly_id);
    request.set_request_id(request_id);
    return request;
  }

  int PublishRows() {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec("SELECT count(*) FROM cf_publish_jobs")[0][0].as<int>();
  }

  // A publish of `assembly_id` that failed while the platform held `handle`, as a worker
  // leaves it.
  std::string FailedHolding(const std::string& assembly_id, const std::string& handle) {
    v1::Publish publish =
        publishing_.PublishContent(Request(assembly_id, "held-" + assembly_id), {}).value();
    jobs::Lease lease = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
    EXPECT_TRUE(store_.queue()->RecordExternalJob(lease, handle).value());
    EXPECT_TRUE(store_.queue()
                    ->Fail(lease, absl::StrCat(kLiveNotRecorded, ": no answer in time"), false,
                           absl::ZeroDuration())
                    .value());
    return publish.id();
  }

  absl::StatusOr<v1::ReconcilePublishResponse> Reconcile(const std::string& id) {
    v1::ReconcilePublishRequest request;
    request.set_id(id);
    return publishing_.ReconcilePublish(request);
  }

  // The error, or "" when the publish was queued.
  std::string Refusal(const v1::PublishContentRequest& request) {
    absl::StatusOr<v1::Publish> publish = publishing_.PublishContent(request, CallContext{});
    return publish.ok() ? "" : std::string(publish.status().message());
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_publishing"), 4};
  PublishStore store_{&pool_};
  media::MediaStore media_ =
      media::MediaStore::Open(cf::testing::TestTempPath("media-" + database_.name()),
                              "http://127.0.0.1:8091")
          .value();
  std::string video_path_;
  std::string dossier_;
  FakeAssemblies assemblies_;
  FakePlatform tiktok_{"tiktok"}, instagram_{"instagram"}, facebook_{"facebook"},
      youtube_{"youtube"};
  AffiliateReport affiliate_{"", absl::Seconds(5)};
  FakePromotion promotion_;
  PublishingOptions options_ = [] {
    PublishingOptions options;
    options.tiktok_audited = true;
    options.youtube_daily_quota = 3200;  // two uploads
    options.allow_loopback_urls = true;
    return options;
  }();
  Publishing publishing_{&store_,
                         &assemblies_,
                         {{"tiktok", &tiktok_},
                          {"instagram", &instagram_},
                          {"facebook", &facebook_},
                          {"youtube", &youtube_}},
                         {{"tiktok", &promotion_}},
                         &affiliate_,
                         &media_,
                         options_};
};

TEST_F(PublishingTest, BadRequestsNameTheFieldAndWriteNothing) {
  const std::string id = Ready("tiktok").id();
  std::vector<std::pair<v1::PublishContentRequest, std::string>> cases;
  cases.push_back({Request("not-a-uuid", "r"), "assembled_content_id"});
  cases.push_back({Request(id, ""), "request_id"});
  v1::PublishContentRequest budget = Request(id, "r");
  budget.set_promotion_budget("12.345");
  cases.push_back({budget, "promotion_budget"});
  v1::PublishContentRequest past = Request(id, "r");
  past.mutable_scheduled_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 60);
  cases.push_back({past, "scheduled_time"});
  v1::PublishContentRequest privacy = Request(id, "r");
  privacy.set_privacy(static_cast<v1::Privacy>(42));
  cases.push_back({privacy, "privacy"});
  for (const auto& [request, field] : cases) {
    SCOPED_TRACE(field);
    absl::StatusOr<v1::Publish> publish = publishing_.PublishContent(request, CallContext{});
    EXPECT_EQ(publish.status().code(), absl::StatusCode::kInvalidArgument);
    auto violations = GetFieldViolations(publish.status());
    ASSERT_EQ(violations.size(), 1u) << publish.status();
    EXPECT_EQ(violations[0].first, field);
  }
  EXPECT_EQ(PublishRows(), 0);
}

TEST_F(PublishingTest, OnlyAReadyAssemblyIsPublishedAndOnlyOnce) {
  assembly::v1::Assembly& assembly = Ready("tiktok");
  const std::string missing = "00000000-0000-0000-0000-000000000001";
  EXPECT_EQ(publishing_.PublishContent(Request(missing, "m"), {}).status().code(),
            absl::StatusCode::kNotFound);
  assembly.set_state(assembly::v1::ASSEMBLY_STATE_RENDERING);
  EXPECT_TRUE(absl::StrContains(Refusal(Request(assembly.id(), "r")), "only a ready"));
  assembly.set_state(assembly::v1::ASSEMBLY_STATE_PUBLISHED);
  EXPECT_TRUE(absl::StrContains(Refusal(Request(assembly.id(), "r")), "already published"));
  assembly.set_state(assembly::v1::ASSEMBLY_STATE_READY);
  absl::StatusOr<v1::Publish> first = publishing_.PublishContent(Request(assembly.id(), "r"), {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::PUBLISH_STATE_QUEUED);
  // A retry answers the first publish, even once the assembly has moved on.
  assembly.set_state(assembly::v1::ASSEMBLY_STATE_PUBLISHED);
  EXPECT_EQ(publishing_.PublishContent(Request(assembly.id(), "r"), {})->id(), first->id());
  assembly.set_state(assembly::v1::ASSEMBLY_STATE_READY);
  EXPECT_EQ(publishing_.PublishContent(Request(assembly.id(), "other"), {}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(PublishRows(), 1);
}

// What each platform would refuse is refused before anything is queued, saying why.
TEST_F(PublishingTest, APostThePlatformWouldRefuseIsRefusedUpFront) {
  assembly::v1::Assembly& tiktok = Ready("tiktok");
  tiktok.mutable_metadata()->set_duration_seconds(700);
  tiktok.mutable_metadata()->set_width(1920);
  tiktok.mutable_metadata()->set_height(1080);
  std::string why = Refusal(Request(tiktok.id(), "t1"));
  EXPECT_TRUE(absl::StrContains(why, "at most 600 s")) << why;
  EXPECT_TRUE(absl::StrContains(why, "1920x1080")) << why;
  tiktok.mutable_metadata()->set_duration_seconds(30);
  tiktok.mutable_metadata()->set_width(1080);
  tiktok.mutable_metadata()->set_height(1920);
  // The creator's own limits (creator_info): an unaudited app may only post privately.
  tiktok_.limits = {{"private"}, absl::Seconds(20)};
  why = Refusal(Request(tiktok.id(), "t2"));
  EXPECT_TRUE(absl::StrContains(why, "privacy public is not offered")) << why;
  EXPECT_TRUE(absl::StrContains(why, "at most 20s")) << why;

  assembly::v1::Assembly& instagram = Ready("instagram");
  for (int i = 0; i < 30; ++i) instagram.add_hashtags("tag" + std::to_string(i));
  v1::PublishContentRequest friends = Request(instagram.id(), "i1");
  friends.set_privacy(v1::PRIVACY_FRIENDS);
  why = Refusal(friends);
  EXPECT_TRUE(absl::StrContains(why, "31 hashtags")) << why;
  EXPECT_TRUE(absl::StrContains(why, "privacy friends")) << why;

  assembly::v1::Assembly& youtube = Ready("youtube");
  youtube.set_title(std::string(101, 'x'));
  why = Refusal(Request(youtube.id(), "y1"));
  EXPECT_TRUE(absl::StrContains(why, "title")) << why;
  EXPECT_EQ(PublishRows(), 0);
}

// TikTok's rules that creator_info does not state, checked before anything is queued: an
// unaudited app posts only privately, branded content is never private, so branded content
// cannot go out from an unaudited app at all.
TEST_F(PublishingTest, TikTokAuditAndBrandedContentRulesAreCheckedUpFront) {
  PublishingOptions unaudited_options = options_;
  unaudited_options.tiktok_audited = false;
  Publishing unaudited(&store_, &assemblies_, {{"tiktok", &tiktok_}}, {}, &affiliate_, &media_,
                       unaudited_options);
  auto refusal = [&](Publishing& publishing, const v1::PublishContentRequest& request) {
    absl::StatusOr<v1::Publish> publish = publishing.PublishContent(request, CallContext{});
    EXPECT_TRUE(publish.ok() || publish.status().code() == absl::StatusCode::kFailedPrecondition)
        << publish.status();
    return publish.ok() ? std::string() : std::string(publish.status().message());
  };
  assembly::v1::Assembly& plain = Ready("tiktok");
  v1::PublishContentRequest request = Request(plain.id(), "unaudited-public");
  EXPECT_TRUE(absl::StrContains(refusal(unaudited, request), "only privately"));
  request.set_request_id("unaudited-private");
  request.set_privacy(v1::PRIVACY_PRIVATE);
  EXPECT_EQ(refusal(unaudited, request), "");

  assembly::v1::Assembly& branded = Ready("tiktok");
  branded.set_compliance_disclosure("#ad");
  request = Request(branded.id(), "branded-unaudited");
  request.set_privacy(v1::PRIVACY_PRIVATE);
  EXPECT_TRUE(absl::StrContains(refusal(unaudited, request), "once the app is audited"));
  request.set_request_id("branded-private");
  EXPECT_TRUE(absl::StrContains(refusal(publishing_, request), "cannot be posted privately"));
  request.set_request_id("branded-public");
  request.set_privacy(v1::PRIVACY_PUBLIC);
  EXPECT_EQ(refusal(publishing_, request), "");
  EXPECT_EQ(PublishRows(), 2);  // the two accepted; nothing written for the refusals
}

TEST_F(PublishingTest, InstagramNeedsAVideoUrlItCanFetch) {
  Publishing local(&store_, &assemblies_, {{"instagram", &instagram_}}, {}, &affiliate_, &media_,
                   PublishingOptions{});  // loopback URLs not allowed: a real platform
  const std::string why = [&] {
    auto publish = local.PublishContent(Request(Ready("instagram").id(), "i"), {});
    return std::string(publish.status().message());
  }();
  EXPECT_TRUE(absl::StrContains(why, "CF_MEDIA_BASE_URL")) << why;
  EXPECT_TRUE(publishing_.PublishContent(Request(Ready("instagram").id(), "j"), {}).ok());
}

TEST_F(PublishingTest, YouTubeUploadsStopAtTheDailyQuota) {
  EXPECT_TRUE(publishing_.PublishContent(Request(Ready("youtube").id(), "y1"), {}).ok());
  EXPECT_TRUE(publishing_.PublishContent(Request(Ready("youtube").id(), "y2"), {}).ok());
  const std::string why = Refusal(Request(Ready("youtube").id(), "y3"));
  EXPECT_TRUE(absl::StrContains(why, "3200 of 3200 units")) << why;
  // Another day has its own quota: scheduled for it, the upload is planned there.
  v1::PublishContentRequest tomorrow = Request(Ready("youtube").id(), "y4");
  tomorrow.mutable_scheduled_time()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(48)));
  EXPECT_EQ(Refusal(tomorrow), "");
}

TEST_F(PublishingTest, PostStatsComeFromThePlatformAndPrivatePostsHaveNone) {
  assembly::v1::Assembly& assembly = Ready("tiktok");
  v1::Publish publish = publishing_.PublishContent(Request(assembly.id(), "s"), {}).value();
  jobs::Lease lease = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  const jobs::Completion confirmed =
      PublishedCompletion("730001", "https://t/730001", absl::InfinitePast(), "");
  ASSERT_TRUE(store_.queue()
                  ->Complete(lease, confirmed.set_sql, confirmed.args, confirmed.then_sql)
                  .value());
  const std::string posted = store_.Get(publish.id())->published_content_id();
  v1::GetPostStatsRequest request;
  request.set_published_content_id(posted);
  absl::StatusOr<v1::PostStats> stats = publishing_.GetPostStats(request);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->views(), 1200);
  EXPECT_EQ(stats->likes(), 80);
  EXPECT_EQ(stats->platform_post_id(), "730001");
  EXPECT_EQ(stats->spend(), "");  // no affiliate report configured: unavailable, not 0
  EXPECT_EQ(tiktok_.figures_asked, std::vector<std::string>{"730001"});
  EXPECT_TRUE(std::find(stats->unavailable().begin(), stats->unavailable().end(), "clicks") !=
              stats->unavailable().end());

  // An affiliate report that does not answer: the platform's figures still come, and clicks,
  // conversions and spend are unavailable.
  AffiliateReport down("http://127.0.0.1:1/report", absl::Seconds(2));
  Publishing with_down_report(&store_, &assemblies_, {{"tiktok", &tiktok_}}, {}, &down, &media_,
                              options_);
  absl::StatusOr<v1::PostStats> partial = with_down_report.GetPostStats(request);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(partial->views(), 1200);
  EXPECT_EQ(partial->spend(), "");
  for (const char* missing : {"clicks", "conversions", "spend", "saves"}) {
    EXPECT_TRUE(std::find(partial->unavailable().begin(), partial->unavailable().end(), missing) !=
                partial->unavailable().end())
        << missing;
  }

  // The assembly is marked published through its API, once.
  EXPECT_EQ(publishing_.MarkPublishedAssemblies(), 1);
  EXPECT_EQ(publishing_.MarkPublishedAssemblies(), 0);
  EXPECT_EQ(assemblies_.marked, std::vector<std::string>{assembly.id()});

  // A private TikTok post has no public id: nothing to ask the platform.
  v1::Publish hidden = publishing_.PublishContent(Request(Ready("tiktok").id(), "p"), {}).value();
  jobs::Lease second = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  const jobs::Completion unlisted = PublishedCompletion("", "", absl::InfinitePast(), "private");
  ASSERT_TRUE(
      store_.queue()->Complete(second, unlisted.set_sql, unlisted.args, unlisted.then_sql).value());
  request.set_published_content_id(store_.Get(hidden.id())->published_content_id());
  EXPECT_EQ(publishing_.GetPostStats(request).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A confirmed post of `platform`, as a publish's completion leaves it.
std::string Posted(PublishStore& store, Publishing& publishing, const std::string& assembly_id,
                   const std::string& post_id) {
  v1::Publish publish = publishing
                            .PublishContent(
                                [&] {
                                  v1::PublishContentRequest request;
                                  request.set_assembled_content_id(assembly_id);
                                  request.set_request_id("post-" + assembly_id);
                                  return request;
                                }(),
                                {})
                            .value();
  jobs::Lease lease = store.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  const jobs::Completion done = PublishedCompletion(post_id, "", absl::InfinitePast(), "");
  EXPECT_TRUE(store.queue()->Complete(lease, done.set_sql, done.args, done.then_sql).value());
  return store.Get(publish.id())->published_content_id();
}

// A publish that failed while the platform held its handle is reconciled: the lookup (which
// may send nothing that posts) finds the post, which is recorded once, and the assembly is
// marked published; asked again, the answer is the same.
TEST_F(PublishingTest, ReconcileRecordsThePostItsHandleFinds) {
  tiktok_.lookup = [](PublishContext&) -> absl::StatusOr<Advanced> {
    return Advanced{true,
                    {"7300000000000000077", "https://www.tiktok.com/@me/video/77",
                     absl::FromUnixSeconds(1700000000), ""},
                    absl::ZeroDuration()};
  };
  const std::string assembly_id = Ready("tiktok").id();
  const std::string id = FailedHolding(assembly_id, "{\"publish_id\": \"p-77\"}");
  EXPECT_TRUE(store_.Get(id)->holds_platform_handle());
  EXPECT_EQ(Reconcile("not-a-uuid").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Reconcile("00000000-0000-0000-0000-000000000000").status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<v1::ReconcilePublishResponse> found = Reconcile(id);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->finding(), v1::ReconcilePublishResponse::FINDING_RECORDED);
  EXPECT_EQ(found->publish().state(), v1::PUBLISH_STATE_PUBLISHED);
  EXPECT_EQ(found->publish().platform_post_id(), "7300000000000000077");
  EXPECT_EQ(found->publish().published_at().seconds(), 1700000000);
  EXPECT_FALSE(found->publish().holds_platform_handle());
  EXPECT_TRUE(found->publish().error().empty()) << found->publish().error();
  EXPECT_EQ(tiktok_.handles_looked_up, std::vector<std::string>{"{\"publish_id\": \"p-77\"}"});
  EXPECT_EQ(publishing_.MarkPublishedAssemblies(), 1);
  EXPECT_EQ(assemblies_.marked, std::vector<std::string>{assembly_id});

  absl::StatusOr<v1::ReconcilePublishResponse> again = Reconcile(id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->finding(), v1::ReconcilePublishResponse::FINDING_RECORDED);
  EXPECT_EQ(tiktok_.handles_looked_up.size(), 1u);  // nothing asked of the platform again
  pqxx::connection connection(database_.OwnerConninfo());
  EXPECT_EQ(pqxx::nontransaction(connection)
                .exec("SELECT count(*) FROM cf_published_content")[0][0]
                .as<int>(),
            1);
}

// The platform holds no post of the handle (an upload that never finished): the handle is let
// go, and the assembly may be published again, which it could not while the handle was held.
TEST_F(PublishingTest, ReconcileLetsGoOfAHandleThatMadeNoPost) {
  tiktok_.lookup = [](PublishContext&) -> absl::StatusOr<Advanced> {
    return NotPosted("the upload stopped at 0 of 11 bytes");
  };
  const std::string assembly_id = Ready("tiktok").id();
  const std::string id = FailedHolding(assembly_id, "{\"publish_id\": \"p-5\"}");
  EXPECT_EQ(publishing_.PublishContent(Request(assembly_id, "again"), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<v1::ReconcilePublishResponse> none = Reconcile(id);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->finding(), v1::ReconcilePublishResponse::FINDING_NOT_POSTED);
  EXPECT_EQ(none->publish().state(), v1::PUBLISH_STATE_FAILED);
  EXPECT_FALSE(none->publish().holds_platform_handle());
  EXPECT_TRUE(absl::StrContains(none->publish().error(), "upload stopped"))
      << none->publish().error();
  EXPECT_TRUE(publishing_.PublishContent(Request(assembly_id, "again"), {}).ok());
  // Nothing is left to reconcile.
  EXPECT_EQ(Reconcile(id).status().code(), absl::StatusCode::kFailedPrecondition);
}

// While the platform still works on it, nothing changes; only a failed publish holding a
// handle can be reconciled.
TEST_F(PublishingTest, ReconcileWhileThePlatformWorksChangesNothing) {
  tiktok_.lookup = [](PublishContext&) -> absl::StatusOr<Advanced> {
    return Advanced{false, {}, absl::Seconds(5)};
  };
  const std::string id = FailedHolding(Ready("tiktok").id(), "{\"publish_id\": \"p-6\"}");
  absl::StatusOr<v1::ReconcilePublishResponse> pending = Reconcile(id);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(pending->finding(), v1::ReconcilePublishResponse::FINDING_PENDING);
  EXPECT_EQ(store_.Get(id)->state(), v1::PUBLISH_STATE_FAILED);
  EXPECT_TRUE(store_.Get(id)->holds_platform_handle());

  tiktok_.lookup = [](PublishContext&) -> absl::StatusOr<Advanced> {
    return absl::UnavailableError("TikTok is unavailable");
  };
  EXPECT_EQ(Reconcile(id).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store_.Get(id)->holds_platform_handle());

  v1::Publish queued =
      publishing_.PublishContent(Request(Ready("tiktok").id(), "queued"), {}).value();
  absl::StatusOr<v1::ReconcilePublishResponse> refused = Reconcile(queued.id());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
}

TEST_F(PublishingTest, PromotionGoesPendingActiveCompletedWithExactBudgets) {
  const std::string post = Posted(store_, publishing_, Ready("tiktok").id(), "7301");
  v1::StartPromotionRequest start;
  start.set_id(post);
  for (const char* bad : {"", "abc", "0", "-5", "25.123"}) {
    start.set_budget(bad);
    EXPECT_EQ(publishing_.StartPromotion(start).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  start.set_budget("19.99");
  absl::StatusOr<v1::PublishedContent> low = publishing_.StartPromotion(start);
  EXPECT_EQ(low.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(low.status().message(), "20.00 a day")) << low.status();
  EXPECT_TRUE(promotion_.budgets.empty());  // refused before anything was made

  start.set_budget("25.5");
  start.set_days(31);
  EXPECT_EQ(publishing_.StartPromotion(start).status().code(), absl::StatusCode::kInvalidArgument);
  start.set_days(10);
  absl::StatusOr<v1::PublishedContent> active = publishing_.StartPromotion(start);
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->promotion_status(), v1::PROMOTION_STATUS_ACTIVE);
  EXPECT_EQ(active->promotion_budget(), "25.50");
  EXPECT_TRUE(active->has_promotion_started_at());
  EXPECT_EQ(promotion_.budgets, std::vector<int64_t>{2550});
  // It ends by itself ten days from now: the platform was given that end too.
  const absl::Time ends = absl::FromUnixSeconds(active->promotion_ends_at().seconds());
  EXPECT_LT(absl::AbsDuration(ends - (absl::Now() + absl::Hours(240))), absl::Minutes(1));
  ASSERT_EQ(promotion_.ends.size(), 1u);
  EXPECT_LT(absl::AbsDuration(promotion_.ends[0] - ends), absl::Seconds(1));
  EXPECT_EQ(publishing_.StartPromotion(start).status().code(),
            absl::StatusCode::kFailedPrecondition);  // already active

  v1::StopPromotionRequest stop;
  stop.set_id(post);
  absl::StatusOr<v1::PublishedContent> completed = publishing_.StopPromotion(stop);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->promotion_status(), v1::PROMOTION_STATUS_COMPLETED);
  EXPECT_TRUE(completed->has_promotion_ended_at());
  EXPECT_EQ(promotion_.stopped, std::vector<std::string>{"campaign-7301+ad"});
  // Stopping again disables again (harmless), and stays completed.
  EXPECT_EQ(publishing_.StopPromotion(stop)->promotion_status(), v1::PROMOTION_STATUS_COMPLETED);
}

// One start at a time: a second caller while a start holds the lease is ABORTED (retry later)
// rather than making a second ad group; a Stop arriving mid-start ends it, and what the start
// made after the stop is stopped too.
TEST_F(PublishingTest, PromotionStartsOneAtATimeAndAStopMidStartWins) {
  const std::string post = Posted(store_, publishing_, Ready("tiktok").id(), "7310");
  ASSERT_TRUE(store_.BeginPromotion(post, 2500, 7).ok());  // another caller's start, under way
  v1::StartPromotionRequest start;
  start.set_id(post);
  start.set_budget("25.00");
  EXPECT_EQ(publishing_.StartPromotion(start).status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(promotion_.budgets.empty());

  const std::string other = Posted(store_, publishing_, Ready("tiktok").id(), "7311");
  start.set_id(other);
  v1::StopPromotionRequest stop;
  stop.set_id(other);
  promotion_.between = [&] { EXPECT_TRUE(publishing_.StopPromotion(stop).ok()); };
  absl::StatusOr<v1::PublishedContent> raced = publishing_.StartPromotion(start);
  EXPECT_EQ(raced.status().code(), absl::StatusCode::kFailedPrecondition) << raced.status();
  EXPECT_EQ(store_.GetPublished(other)->promotion_status(), v1::PROMOTION_STATUS_COMPLETED);
  // The stop disabled what it saw; the start then stopped the ad it made after.
  EXPECT_EQ(promotion_.stopped, (std::vector<std::string>{"campaign-7311", "campaign-7311+ad"}));
}

// A stop the platform does not take says so and can be asked again; a refusal whose leftovers
// cannot be stopped stays pending (never failed while something may spend).
TEST_F(PublishingTest, NothingEndsWhileItMayStillSpend) {
  const std::string post = Posted(store_, publishing_, Ready("tiktok").id(), "7320");
  v1::StartPromotionRequest start;
  start.set_id(post);
  start.set_budget("20");
  ASSERT_TRUE(publishing_.StartPromotion(start).ok());
  v1::StopPromotionRequest stop;
  stop.set_id(post);
  promotion_.stop_fails = 1;
  EXPECT_EQ(publishing_.StopPromotion(stop).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(store_.GetPublished(post)->promotion_note(), "still be spending"));
  absl::StatusOr<v1::PublishedContent> again = publishing_.StopPromotion(stop);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->promotion_note().empty());

  const std::string refused = Posted(store_, publishing_, Ready("tiktok").id(), "7321");
  start.set_id(refused);
  promotion_.refuse = true;
  promotion_.stop_fails = 1;
  EXPECT_EQ(publishing_.StartPromotion(start).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::PublishedContent pending = store_.GetPublished(refused).value();
  EXPECT_EQ(pending.promotion_status(), v1::PROMOTION_STATUS_PENDING);
  EXPECT_TRUE(absl::StrContains(pending.promotion_note(), "call StopPromotion"))
      << pending.promotion_note();
  stop.set_id(refused);
  ASSERT_TRUE(publishing_.StopPromotion(stop).ok());
}

// A stop the platform did not confirm leaks no spend: the ad group is kept as unstopped, a new
// StartPromotion stops it first (or refuses while it cannot), and the service retries the stop
// by itself until the platform confirms it.
TEST_F(PublishingTest, AFailedStopIsRetriedAndANewStartStopsTheOldAdGroupFirst) {
  const std::string post = Posted(store_, publishing_, Ready("tiktok").id(), "7330");
  v1::StartPromotionRequest start;
  start.set_id(post);
  start.set_budget("20");
  ASSERT_TRUE(publishing_.StartPromotion(start).ok());
  const std::string first_handle = store_.PromotionHandle(post);
  v1::StopPromotionRequest stop;
  stop.set_id(post);
  promotion_.stop_fails = 2;
  EXPECT_EQ(publishing_.StopPromotion(stop).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.UnstoppedHandle(post), first_handle);
  // A new start while the old ad group cannot be stopped: refused, nothing new made.
  const size_t starts = promotion_.handles_seen.size();
  absl::StatusOr<v1::PublishedContent> refused = publishing_.StartPromotion(start);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "may still be spending"));
  EXPECT_EQ(promotion_.handles_seen.size(), starts);
  // The service's own retry, once due, confirms the stop.
  EXPECT_EQ(publishing_.RetryUnconfirmedStops(), 0);  // not due for a minute
  {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction(connection)
        .exec("UPDATE cf_published_content SET promotion_stop_retry_at = NOW()");
  }
  EXPECT_EQ(publishing_.RetryUnconfirmedStops(), 1);
  EXPECT_EQ(store_.UnstoppedHandle(post), "");
  EXPECT_EQ(promotion_.stopped.back(), first_handle);

  // A stop that fails between a start's look and its begin: the begin, under the row's lock,
  // refuses; and a later stop never writes over the ad group still unconfirmed.
  ASSERT_TRUE(publishing_.StartPromotion(start).ok());
  promotion_.stop_fails = 1;
  EXPECT_FALSE(publishing_.StopPromotion(stop).ok());
  const std::string unconfirmed = store_.UnstoppedHandle(post);
  EXPECT_EQ(store_.BeginPromotion(post, 2000, 7).status().code(), absl::StatusCode::kUnavailable);
  {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction(connection)
        .exec("UPDATE cf_published_content SET promotion_handle = 'another-ad-group'");
  }
  ASSERT_TRUE(store_.MarkPromotionStopped(post, "").ok());
  EXPECT_EQ(store_.UnstoppedHandle(post), unconfirmed);
  EXPECT_EQ(publishing_.StopPromotion(stop).status().code(), absl::StatusCode::kOk);
  EXPECT_EQ(store_.UnstoppedHandle(post), "");

  // Stopped again, unconfirmed: a new start stops the old ad group first, then starts.
  ASSERT_TRUE(publishing_.StartPromotion(start).ok());
  const std::string second_handle = store_.PromotionHandle(post);
  promotion_.stop_fails = 1;
  EXPECT_FALSE(publishing_.StopPromotion(stop).ok());
  ASSERT_TRUE(publishing_.StartPromotion(start).ok());
  EXPECT_EQ(promotion_.stopped.back(), second_handle);
  EXPECT_EQ(store_.UnstoppedHandle(post), "");
  EXPECT_EQ(store_.GetPublished(post)->promotion_status(), v1::PROMOTION_STATUS_ACTIVE);
}

// A start cut short stays pending with what it made recorded; calling again continues from
// there (nothing is made twice). A refusal ends failed, with the reason, and stops the spend.
TEST_F(PublishingTest, AnInterruptedPromotionContinuesAndARefusedOneFails) {
  const std::string post = Posted(store_, publishing_, Ready("tiktok").id(), "7302");
  v1::StartPromotionRequest start;
  start.set_id(post);
  start.set_budget("30");
  promotion_.interrupt_once = true;
  absl::StatusOr<v1::PublishedContent> cut = publishing_.StartPromotion(start);
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.GetPublished(post)->promotion_status(), v1::PROMOTION_STATUS_PENDING);
  EXPECT_TRUE(absl::StrContains(store_.GetPublished(post)->promotion_note(), "timed out"));
  start.set_budget("40");  // another budget while one is being started: refused
  EXPECT_EQ(publishing_.StartPromotion(start).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Left alone, the sweeper continues it once it has been idle for half a minute.
  EXPECT_EQ(publishing_.StartRequestedPromotions(), 0);
  {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    txn.exec("UPDATE cf_published_content SET promotion_lease_until = NOW() - interval '1 minute'");
  }
  EXPECT_EQ(publishing_.StartRequestedPromotions(), 1);
  EXPECT_EQ(store_.GetPublished(post)->promotion_status(), v1::PROMOTION_STATUS_ACTIVE);
  EXPECT_EQ(promotion_.handles_seen, (std::vector<std::string>{"", "campaign-7302"}));

  const std::string other = Posted(store_, publishing_, Ready("tiktok").id(), "7303");
  start.set_id(other);
  promotion_.refuse = true;
  EXPECT_EQ(publishing_.StartPromotion(start).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::PublishedContent failed = store_.GetPublished(other).value();
  EXPECT_EQ(failed.promotion_status(), v1::PROMOTION_STATUS_FAILED);
  EXPECT_TRUE(absl::StrContains(failed.promotion_note(), "suspended")) << failed.promotion_note();
  EXPECT_EQ(promotion_.stopped.back(), "campaign-7303");
}

// A promotion asked for with the publish: checked up front, started once the post is
// confirmed.
TEST_F(PublishingTest, APromotionAskedForWithThePublishStartsOnceItIsPosted) {
  v1::PublishContentRequest request = Request(Ready("facebook").id(), "fb-promoted");
  request.set_promotion_budget("30.00");
  EXPECT_TRUE(absl::StrContains(Refusal(request), "not offered")) << Refusal(request);
  request = Request(Ready("tiktok").id(), "too-little");
  request.set_promotion_budget("5");
  EXPECT_TRUE(absl::StrContains(Refusal(request), "20.00 a day")) << Refusal(request);
  EXPECT_EQ(PublishRows(), 0);

  request.set_request_id("promoted");
  request.set_promotion_budget("30");
  v1::Publish publish = publishing_.PublishContent(request, {}).value();
  EXPECT_EQ(publishing_.StartRequestedPromotions(), 0);  // not posted yet
  jobs::Lease lease = store_.queue()->Claim("w", 1, absl::Seconds(30))->at(0);
  const jobs::Completion done = PublishedCompletion("7399", "", absl::InfinitePast(), "");
  ASSERT_TRUE(store_.queue()->Complete(lease, done.set_sql, done.args, done.then_sql).value());
  EXPECT_EQ(publishing_.StartRequestedPromotions(), 1);
  v1::PublishedContent content =
      store_.GetPublished(store_.Get(publish.id())->published_content_id()).value();
  EXPECT_EQ(content.promotion_status(), v1::PROMOTION_STATUS_ACTIVE);
  EXPECT_EQ(content.promotion_budget(), "30.00");
  EXPECT_EQ(publishing_.StartRequestedPromotions(), 0);  // once
}

TEST_F(PublishingTest, PromotionWhereTheAdapterOffersNoneIsRefused) {
  const std::string post = Posted(store_, publishing_, Ready("facebook").id(), "fb-1");
  v1::StartPromotionRequest start;
  start.set_id(post);
  start.set_budget("50.00");
  absl::StatusOr<v1::PublishedContent> refused = publishing_.StartPromotion(start);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "not offered")) << refused.status();
  EXPECT_EQ(store_.GetPublished(post)->promotion_status(), v1::PROMOTION_STATUS_NONE);
}

}  // namespace
}  // namespace cf::publishing
