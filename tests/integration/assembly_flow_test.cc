// The whole path to a finished video, through the gateway, against the real catalog,
// generation, assembly and gateway binaries: a dossier, its scripts, an image, a clip from it,
// an assembly for TikTok, rendered and watched until ready, then checked with ffprobe.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>

#include "absl/strings/match.h"
#include "cf/assembly/v1/assembly.grpc.pb.h"
#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "cf/generation/v1/generation.grpc.pb.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

using std::chrono::seconds;

class AssemblyFlowTest : public ::testing::Test {
 protected:
  AssemblyFlowTest() {
    const std::string media = testing::TestTempPath("media");
    catalog_ = Start("catalog", "services/catalog/catalog_server",
                     {{"CF_DATABASE_URL", database_.RoleConninfo("cf_catalog")}});
    generation_ = Start("generation", "services/generation/generation_server",
                        {{"CF_DATABASE_URL", database_.RoleConninfo("cf_generation")},
                         {"CF_CATALOG_ADDR", addresses_["catalog"]},
                         {"CF_MEDIA_DIR", media},
                         {"CF_JOB_POLL_MS", "200"}});
    assembly_ = Start("assembly", "services/assembly/assembly_server",
                      {{"CF_DATABASE_URL", database_.RoleConninfo("cf_assembly")},
                       {"CF_CATALOG_ADDR", addresses_["catalog"]},
                       {"CF_GENERATION_ADDR", addresses_["generation"]},
                       {"CF_MEDIA_DIR", media},
                       {"CF_JOB_POLL_MS", "200"}});
    gateway_ = Start("gateway", "services/gateway/gateway_server",
                     {{"CF_CATALOG_ADDR", addresses_["catalog"]},
                      {"CF_GENERATION_ADDR", addresses_["generation"]},
                      {"CF_ASSEMBLY_ADDR", addresses_["assembly"]}});
    auto channel = grpc::CreateChannel(addresses_["gateway"], grpc::InsecureChannelCredentials());
    catalog_stub_ = catalog::v1::CatalogService::NewStub(channel);
    generation_stub_ = generation::v1::GenerationService::NewStub(channel);
    assembly_stub_ = assembly::v1::AssemblyService::NewStub(channel);
  }

  std::unique_ptr<testing::Subprocess> Start(const std::string& name, const std::string& binary,
                                             std::map<std::string, std::string> env) {
    addresses_[name] = "127.0.0.1:" + std::to_string(testing::FreePort());
    env["CF_LISTEN"] = addresses_[name];
    auto process = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{testing::RunfilePath(binary)}, env,
        testing::TestTempPath(name + ".log"));
    EXPECT_TRUE(testing::WaitForServing(addresses_[name], std::chrono::seconds(60))) << name;
    return process;
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + seconds(30));
    return context;
  }

  cf::testing::TestDatabase database_;
  std::map<std::string, std::string> addresses_;
  std::unique_ptr<testing::Subprocess> catalog_, generation_, assembly_, gateway_;
  std::unique_ptr<catalog::v1::CatalogService::Stub> catalog_stub_;
  std::unique_ptr<generation::v1::GenerationService::Stub> generation_stub_;
  std::unique_ptr<assembly::v1::AssemblyService::Stub> assembly_stub_;
};

TEST_F(AssemblyFlowTest, FromDossierToARenderedTikTokVideo) {
  catalog::v1::CreateDossierRequest create_dossier;
  create_dossier.mutable_dossier()->set_name("Glow Serum");
  create_dossier.mutable_dossier()->set_category("Skin Care");
  create_dossier.mutable_dossier()->add_benefits("Glow in a week");
  create_dossier.mutable_dossier()->add_pain_points("Dull skin");
  create_dossier.mutable_dossier()->set_affiliate_link("https://example.com/ref/glow");
  catalog::v1::Dossier dossier;
  ASSERT_TRUE(catalog_stub_->CreateDossier(Context().get(), create_dossier, &dossier).ok());

  generation::v1::GenerateScriptsRequest generate;
  generate.set_dossier_id(dossier.id());
  generation::v1::GenerateScriptsResponse scripts;
  grpc::Status status = generation_stub_->GenerateScripts(Context().get(), generate, &scripts);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GT(scripts.scripts_size(), 0);

  generation::v1::CreateImageRequest create_image;
  create_image.set_dossier_id(dossier.id());
  create_image.set_type(generation::v1::IMAGE_TYPE_PRODUCT);
  create_image.set_aspect_ratio(generation::v1::ASPECT_RATIO_9_16);
  generation::v1::CreateImageResponse images;
  status = generation_stub_->CreateImage(Context().get(), create_image, &images);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string image_id = images.images(0).id();
  auto image_state = [&] {
    generation::v1::GetImageRequest get;
    get.set_id(image_id);
    generation::v1::Image image;
    generation_stub_->GetImage(Context().get(), get, &image);
    return image.state();
  };
  ASSERT_TRUE(
      testing::WaitUntil([&] { return image_state() == generation::v1::JOB_STATE_COMPLETED; },
                         std::chrono::minutes(2)));

  generation::v1::CreateVideoRequest create_video;
  create_video.set_dossier_id(dossier.id());
  create_video.set_type(generation::v1::VIDEO_TYPE_DEMO);
  create_video.set_source_image_id(image_id);
  create_video.set_aspect_ratio(generation::v1::ASPECT_RATIO_9_16);
  generation::v1::CreateVideoResponse videos;
  status = generation_stub_->CreateVideo(Context().get(), create_video, &videos);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string video_id = videos.videos(0).id();
  auto video_state = [&] {
    generation::v1::GetVideoRequest get;
    get.set_id(video_id);
    generation::v1::Video video;
    generation_stub_->GetVideo(Context().get(), get, &video);
    return video.state();
  };
  ASSERT_TRUE(
      testing::WaitUntil([&] { return video_state() == generation::v1::JOB_STATE_COMPLETED; },
                         std::chrono::minutes(3)));

  // A script that does not exist is named in the refusal, and nothing is made.
  assembly::v1::CreateAssemblyRequest create;
  create.set_dossier_id(dossier.id());
  create.set_script_id("00000000-0000-0000-0000-000000000001");
  create.add_video_ids(video_id);
  create.add_image_ids(image_id);
  create.set_platform(assembly::v1::PLATFORM_TIKTOK);
  create.set_request_id("flow-1");
  assembly::v1::Assembly refused;
  status = assembly_stub_->CreateAssembly(Context().get(), create, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "00000000-0000-0000-0000-000000000001"))
      << status.error_message();

  create.set_script_id(scripts.scripts(0).id());
  assembly::v1::Assembly draft;
  status = assembly_stub_->CreateAssembly(Context().get(), create, &draft);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(draft.state(), assembly::v1::ASSEMBLY_STATE_DRAFT);
  EXPECT_TRUE(absl::StartsWith(draft.caption(), "#ad")) << draft.caption();

  assembly::v1::RenderAssemblyRequest render;
  render.set_id(draft.id());
  assembly::v1::Assembly rendering;
  status = assembly_stub_->RenderAssembly(Context().get(), render, &rendering);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Watched until it is ready: progress only goes up.
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(4));
  assembly::v1::WatchAssemblyRequest watch;
  watch.set_id(draft.id());
  auto stream = assembly_stub_->WatchAssembly(&watch_context, watch);
  assembly::v1::Assembly update, last;
  int updates = 0, progress = 0;
  while (stream->Read(&update)) {
    EXPECT_GE(update.progress(), progress);
    progress = update.progress();
    last = update;
    ++updates;
  }
  status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(last.state(), assembly::v1::ASSEMBLY_STATE_READY) << last.error();
  EXPECT_GE(updates, 2);
  ASSERT_TRUE(absl::StartsWith(last.final_video_url(), "file://")) << last.final_video_url();
  const std::string file = last.final_video_url().substr(7);
  std::string streams = testing::CommandOutput(
      "ffprobe -v error -show_entries stream=codec_type,codec_name,width,height -of csv=p=0 '" +
      file + "'");
  EXPECT_TRUE(absl::StrContains(streams, "h264,video,1080,1920")) << streams;
  EXPECT_TRUE(absl::StrContains(streams, "aac,audio")) << streams;
  EXPECT_EQ(last.metadata().width(), 1080);
  EXPECT_GT(last.metadata().duration_seconds(), 3.0);

  // The same request id again: the same assembly.
  assembly::v1::Assembly again;
  ASSERT_TRUE(assembly_stub_->CreateAssembly(Context().get(), create, &again).ok());
  EXPECT_EQ(again.id(), draft.id());
}

}  // namespace
}  // namespace cf
