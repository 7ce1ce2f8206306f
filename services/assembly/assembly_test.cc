// The logic of CreateAssembly and friends, with the catalog and generation as in-process fakes
// and the store on a real PostgreSQL.
#include "services/assembly/assembly.h"

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::assembly {
namespace {

constexpr char kDossier[] = "10000000-0000-0000-0000-000000000001";
constexpr char kOtherDossier[] = "10000000-0000-0000-0000-000000000002";
constexpr char kScript[] = "20000000-0000-0000-0000-000000000001";
constexpr char kClip[] = "30000000-0000-0000-0000-000000000001";
constexpr char kRenderingClip[] = "30000000-0000-0000-0000-000000000002";
constexpr char kOtherClip[] = "30000000-0000-0000-0000-000000000003";
constexpr char kImage[] = "40000000-0000-0000-0000-000000000001";
constexpr char kMissing[] = "50000000-0000-0000-0000-000000000001";

class FakeDossiers final : public catalog::DossierSource {
 public:
  absl::StatusOr<catalog::v1::Dossier> GetDossier(const std::string& id,
                                                  const CallContext&) override {
    auto it = dossiers.find(id);
    if (it == dossiers.end()) return absl::NotFoundError("dossier " + id + " not found");
    return it->second;
  }
  std::map<std::string, catalog::v1::Dossier> dossiers;
};

class FakeContent final : public generation::ContentSource {
 public:
  absl::StatusOr<generation::v1::Script> GetScript(const std::string& id,
                                                   const CallContext&) override {
    return Find(scripts, "script", id);
  }
  absl::StatusOr<generation::v1::Video> GetVideo(const std::string& id,
                                                 const CallContext&) override {
    return Find(videos, "video", id);
  }
  absl::StatusOr<generation::v1::Image> GetImage(const std::string& id,
                                                 const CallContext&) override {
    return Find(images, "image", id);
  }
  std::map<std::string, generation::v1::Script> scripts;
  std::map<std::string, generation::v1::Video> videos;
  std::map<std::string, generation::v1::Image> images;

 private:
  template <typename Message>
  static absl::StatusOr<Message> Find(const std::map<std::string, Message>& items,
                                      const std::string& what, const std::string& id) {
    auto it = items.find(id);
    if (it == items.end()) return absl::NotFoundError(what + " " + id + " not found");
    return it->second;
  }
};

v1::GetAssemblyRequest MakeGet(const std::string& id) {
  v1::GetAssemblyRequest get;
  get.set_id(id);
  return get;
}

class AssemblyTest : public ::testing::Test {
 protected:
  AssemblyTest() {
    {
      pqxx::connection connection(database_.OwnerConninfo());
      pqxx::work txn(connection);
      for (const char* id : {kDossier, kOtherDossier}) {
        txn.exec_params(
            "INSERT INTO cf_product_dossiers (id, slug, name) VALUES ($1::uuid, $1::text, 'X')",
            id);
      }
      // The script as generation stored it (the assembly's script_id references it).
      txn.exec_params(
          "INSERT INTO cf_scripts (id, dossier_id, awareness_level, hook, body, cta) VALUES "
          "($1::uuid, $2::uuid, 1, 'h', 'b', 'c')",
          kScript, kDossier);
      txn.commit();
    }
    catalog::v1::Dossier dossier;
    dossier.set_id(kDossier);
    dossier.set_name("Glow Serum");
    dossier.set_category("Skin Care");
    dossier.add_benefits("Glow");
    dossier.set_affiliate_link("https://example.com/ref/1");
    dossiers_.dossiers[kDossier] = dossier;
    generation::v1::Script script;
    script.set_id(kScript);
    script.set_dossier_id(kDossier);
    script.set_hook("Tired of dull skin?");
    script.set_body("Meet Glow Serum.");
    script.set_cta("Tap the link!");
    content_.scripts[kScript] = script;
    auto video = [&](const char* id, const char* dossier, generation::v1::JobState state) {
      generation::v1::Video clip;
      clip.set_id(id);
      clip.set_dossier_id(dossier);
      clip.set_state(state);
      clip.set_video_url(std::string("file:///media/videos/") + id + ".mp4");
      content_.videos[id] = clip;
    };
    video(kClip, kDossier, generation::v1::JOB_STATE_COMPLETED);
    video(kRenderingClip, kDossier, generation::v1::JOB_STATE_GENERATING);
    video(kOtherClip, kOtherDossier, generation::v1::JOB_STATE_COMPLETED);
    generation::v1::Image image;
    image.set_id(kImage);
    image.set_dossier_id(kDossier);
    image.set_state(generation::v1::JOB_STATE_COMPLETED);
    image.set_image_url(std::string("file:///media/images/") + kImage + ".png");
    content_.images[kImage] = image;
  }

  v1::CreateAssemblyRequest Request() {
    v1::CreateAssemblyRequest request;
    request.set_dossier_id(kDossier);
    request.set_script_id(kScript);
    request.add_video_ids(kClip);
    request.add_image_ids(kImage);
    request.set_platform(v1::PLATFORM_TIKTOK);
    return request;
  }

  int Rows() {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec("SELECT count(*) FROM cf_assembled_content")[0][0].as<int>();
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_assembly"), 2};
  AssemblyStore store_{&pool_};
  FakeDossiers dossiers_;
  FakeContent content_;
  FliteVoice voice_;
  Assemblies assemblies_{&store_, &dossiers_, &content_, &voice_};
  CallContext call_;
};

TEST_F(AssemblyTest, ADraftHasItsCaptionHashtagsDisclosureAndDefaults) {
  absl::StatusOr<v1::Assembly> draft = assemblies_.CreateAssembly(Request(), call_);
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->state(), v1::ASSEMBLY_STATE_DRAFT);
  EXPECT_TRUE(absl::StartsWith(draft->caption(), "#ad")) << draft->caption();
  EXPECT_EQ(draft->compliance_disclosure(), "#ad \xc2\xb7 Commission earned");
  EXPECT_EQ(draft->hashtags(0), "skincare");
  EXPECT_TRUE(draft->ai_generated());
  EXPECT_EQ(draft->options().aspect_ratio(), "9:16");
  EXPECT_EQ(draft->options().caption_style(), "bold");
  EXPECT_EQ(draft->options().music_track(), "calm");
  EXPECT_EQ(draft->options().voice(), "slt");
  EXPECT_EQ(draft->options().template_(), "standard");
  // The render's snapshot holds what the worker needs, so it calls no service.
  pqxx::connection connection(database_.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  std::string snapshot =
      txn.exec("SELECT render_snapshot::text FROM cf_assembled_content")[0][0].as<std::string>();
  EXPECT_TRUE(absl::StrContains(snapshot, std::string("file:///media/videos/") + kClip))
      << snapshot;
  EXPECT_TRUE(absl::StrContains(snapshot, "Tired of dull skin?"));
  EXPECT_TRUE(absl::StrContains(snapshot, "affiliateLink"));
}

TEST_F(AssemblyTest, BadInputIsRefusedNamingTheFieldAndWritesNothing) {
  v1::CreateAssemblyRequest request = Request();
  request.set_dossier_id("nope");
  request.add_video_ids("also-nope");
  request.set_platform(v1::PLATFORM_UNSPECIFIED);
  absl::Status status = assemblies_.CreateAssembly(request, call_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  auto fields = GetFieldViolations(status);
  ASSERT_EQ(fields.size(), 3u) << status;
  EXPECT_EQ(fields[0].first, "dossier_id");
  EXPECT_EQ(fields[1].first, "video_ids[1]");
  EXPECT_EQ(fields[2].first, "platform");

  request = Request();
  request.set_platform(v1::PLATFORM_INSTAGRAM);
  request.mutable_options()->set_aspect_ratio("16:9");
  request.mutable_options()->set_caption_style("comic");
  status = assemblies_.CreateAssembly(request, call_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "9:16, 1:1, 4:5")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "bold, clean, pop")) << status;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(AssemblyTest, AssetsMustExistBelongAndBeCompleted) {
  auto refused = [&](const char* clip) {
    v1::CreateAssemblyRequest request = Request();
    request.set_video_ids(0, clip);
    return assemblies_.CreateAssembly(request, call_).status();
  };
  absl::Status foreign = refused(kOtherClip);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(foreign.message(), kOtherClip)) << foreign;
  absl::Status unfinished = refused(kRenderingClip);
  EXPECT_EQ(unfinished.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(unfinished.message(), kRenderingClip)) << unfinished;
  absl::Status missing = refused(kMissing);
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.message(), kMissing)) << missing;
  v1::CreateAssemblyRequest no_dossier = Request();
  no_dossier.set_dossier_id(kMissing);
  EXPECT_EQ(assemblies_.CreateAssembly(no_dossier, call_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Rows(), 0);
}

TEST_F(AssemblyTest, AScriptTooLongForThePlatformIsRefusedSayingByHowMuch) {
  std::string body;
  for (int i = 0; i < 250; ++i) body += "glow ";  // 100 s at 150 words a minute
  content_.scripts[kScript].set_body(body);
  v1::CreateAssemblyRequest request = Request();
  request.set_platform(v1::PLATFORM_INSTAGRAM);  // 90 s
  absl::Status status = assemblies_.CreateAssembly(request, call_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), "over instagram's 90 s by")) << status;
  request.set_platform(v1::PLATFORM_TIKTOK);  // 600 s
  EXPECT_TRUE(assemblies_.CreateAssembly(request, call_).ok());
}

TEST_F(AssemblyTest, OptionsCatalogListsWhatCreateAccepts) {
  v1::AssemblyOptionsCatalog catalog = assemblies_.ListAssemblyOptions({}).value();
  ASSERT_EQ(catalog.platforms_size(), 4);
  EXPECT_EQ(catalog.platforms(1).aspect_ratios_size(), 3);  // instagram
  EXPECT_EQ(catalog.caption_styles(0).name(), "bold");
  EXPECT_EQ(catalog.music_tracks_size(), 3);
  EXPECT_EQ(catalog.voices(0).name(), "slt");
  v1::CreateAssemblyRequest request = Request();
  request.mutable_options()->set_music_track("none");
  request.mutable_options()->set_font(catalog.fonts(1).name());
  EXPECT_TRUE(assemblies_.CreateAssembly(request, call_).ok());
}

TEST_F(AssemblyTest, ListsPageNewestFirstAndTokensKeepTheirFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::CreateAssemblyRequest request = Request();
    request.set_request_id("list-" + std::to_string(i));
    ids.push_back(assemblies_.CreateAssembly(request, call_).value().id());
  }
  v1::ListAssembliesRequest list;
  list.set_dossier_id(kDossier);
  list.set_page_size(2);
  v1::ListAssembliesResponse first = assemblies_.ListAssemblies(list).value();
  ASSERT_EQ(first.assemblies_size(), 2);
  EXPECT_EQ(first.assemblies(0).id(), ids[2]);
  ASSERT_FALSE(first.next_page_token().empty());
  list.set_page_token(first.next_page_token());
  v1::ListAssembliesResponse second = assemblies_.ListAssemblies(list).value();
  ASSERT_EQ(second.assemblies_size(), 1);
  EXPECT_EQ(second.assemblies(0).id(), ids[0]);
  EXPECT_TRUE(second.next_page_token().empty());
  list.set_platform(v1::PLATFORM_YOUTUBE);  // another filter: the token is refused
  absl::Status refused = assemblies_.ListAssemblies(list).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(refused).at(0).first, "page_token");
}

TEST_F(AssemblyTest, ADraftIsEditedByFieldMaskAndKeepsItsDisclosure) {
  v1::Assembly draft = assemblies_.CreateAssembly(Request(), call_).value();
  v1::UpdateAssemblyRequest update;
  update.mutable_assembly()->set_id(draft.id());
  update.mutable_assembly()->set_caption("Glow up!");  // drops the disclosure
  update.mutable_update_mask()->add_paths("caption");
  absl::Status refused = assemblies_.UpdateAssembly(update).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.message(), "disclosure")) << refused;

  update.mutable_assembly()->set_caption(draft.compliance_disclosure() + " Glow up!");
  update.mutable_assembly()->add_hashtags("#Glow");
  update.mutable_assembly()->add_hashtags("glow");
  update.mutable_assembly()->mutable_options()->set_music_track("none");
  update.mutable_update_mask()->add_paths("hashtags");
  update.mutable_update_mask()->add_paths("options.music_track");
  v1::Assembly edited = assemblies_.UpdateAssembly(update).value();
  EXPECT_EQ(edited.caption(), draft.compliance_disclosure() + " Glow up!");
  ASSERT_EQ(edited.hashtags_size(), 1);
  EXPECT_EQ(edited.hashtags(0), "glow");
  EXPECT_EQ(edited.options().music_track(), "none");
  EXPECT_EQ(edited.options().caption_style(), "bold");  // untouched
  EXPECT_EQ(assemblies_.GetAssembly(MakeGet(draft.id())).value().options().music_track(), "none");

  update.mutable_update_mask()->add_paths("platform");
  EXPECT_EQ(assemblies_.UpdateAssembly(update).status().code(), absl::StatusCode::kInvalidArgument);
  update.mutable_update_mask()->clear_paths();
  update.mutable_update_mask()->add_paths("options.caption_style");
  update.mutable_assembly()->mutable_options()->set_caption_style("comic");
  EXPECT_EQ(assemblies_.UpdateAssembly(update).status().code(), absl::StatusCode::kInvalidArgument);

  v1::RenderAssemblyRequest render;
  render.set_id(draft.id());
  ASSERT_TRUE(assemblies_.RenderAssembly(render).ok());
  update.mutable_assembly()->mutable_options()->set_caption_style("clean");
  EXPECT_EQ(assemblies_.UpdateAssembly(update).status().code(),
            absl::StatusCode::kFailedPrecondition);  // rendering: no longer a draft
}

// Publishing's seam: ready assemblies oldest first; marked published once, and never rendered
// again.
TEST_F(AssemblyTest, ReadyAssembliesArePublishedOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    v1::CreateAssemblyRequest request = Request();
    request.set_request_id("ready-" + std::to_string(i));
    ids.push_back(assemblies_.CreateAssembly(request, call_).value().id());
  }
  {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    txn.exec(
        "UPDATE cf_assembled_content SET job_state = 'done', status = 'ready', "
        "final_video_url = 'file:///v.mp4'");
  }
  v1::ListReadyToPublishRequest ready;
  ready.set_platform(v1::PLATFORM_TIKTOK);
  v1::ListReadyToPublishResponse listed = assemblies_.ListReadyToPublish(ready).value();
  ASSERT_EQ(listed.assemblies_size(), 2);
  EXPECT_EQ(listed.assemblies(0).id(), ids[0]);  // oldest first
  v1::MarkPublishedRequest mark;
  mark.set_id(ids[0]);
  EXPECT_EQ(assemblies_.MarkPublished(mark).value().state(), v1::ASSEMBLY_STATE_PUBLISHED);
  EXPECT_EQ(assemblies_.MarkPublished(mark).value().state(), v1::ASSEMBLY_STATE_PUBLISHED);
  EXPECT_EQ(assemblies_.ListReadyToPublish(ready).value().assemblies_size(), 1);
  v1::RenderAssemblyRequest render;
  render.set_id(ids[0]);
  render.set_force(true);
  EXPECT_EQ(assemblies_.RenderAssembly(render).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::Assembly draft = assemblies_.CreateAssembly(Request(), call_).value();
  mark.set_id(draft.id());
  EXPECT_EQ(assemblies_.MarkPublished(mark).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cf::assembly
