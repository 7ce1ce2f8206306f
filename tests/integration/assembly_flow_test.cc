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
#include "tests/integration/flow_client.h"

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
    flow_ = std::make_unique<testing::FlowClient>(addresses_["gateway"]);
  }

  std::unique_ptr<testing::Subprocess> Start(const std::string& name, const std::string& binary,
                                             std::map<std::string, std::string> env) {
    return testing::StartService(name, binary, std::move(env), &addresses_);
  }

  cf::testing::TestDatabase database_;
  std::map<std::string, std::string> addresses_;
  std::unique_ptr<testing::Subprocess> catalog_, generation_, assembly_, gateway_;
  std::unique_ptr<testing::FlowClient> flow_;
};

TEST_F(AssemblyFlowTest, FromDossierToARenderedTikTokVideo) {
  flow_->MakeAssets();
  if (HasFatalFailure()) return;
  const catalog::v1::Dossier& dossier = flow_->dossier;
  const std::string& image_id = flow_->image_id;
  const std::string& video_id = flow_->video_id;
  grpc::Status status;

  // A script that does not exist is named in the refusal, and nothing is made.
  assembly::v1::CreateAssemblyRequest create;
  create.set_dossier_id(dossier.id());
  create.set_script_id("00000000-0000-0000-0000-000000000001");
  create.add_video_ids(video_id);
  create.add_image_ids(image_id);
  create.set_platform(assembly::v1::PLATFORM_TIKTOK);
  create.set_request_id("flow-1");
  assembly::v1::Assembly refused;
  status = flow_->assembly->CreateAssembly(flow_->Context().get(), create, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "00000000-0000-0000-0000-000000000001"))
      << status.error_message();

  create.set_script_id(flow_->script_id);
  assembly::v1::Assembly draft;
  status = flow_->assembly->CreateAssembly(flow_->Context().get(), create, &draft);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(draft.state(), assembly::v1::ASSEMBLY_STATE_DRAFT);
  EXPECT_TRUE(absl::StartsWith(draft.caption(), "#ad")) << draft.caption();

  assembly::v1::RenderAssemblyRequest render;
  render.set_id(draft.id());
  assembly::v1::Assembly rendering;
  status = flow_->assembly->RenderAssembly(flow_->Context().get(), render, &rendering);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Watched until it is ready: progress only goes up.
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(4));
  assembly::v1::WatchAssemblyRequest watch;
  watch.set_id(draft.id());
  auto stream = flow_->assembly->WatchAssembly(&watch_context, watch);
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
  ASSERT_TRUE(flow_->assembly->CreateAssembly(flow_->Context().get(), create, &again).ok());
  EXPECT_EQ(again.id(), draft.id());
}

}  // namespace
}  // namespace cf
