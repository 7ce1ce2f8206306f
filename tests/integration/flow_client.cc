#include "tests/integration/flow_client.h"

#include "gtest/gtest.h"

namespace cf::testing {

using std::chrono::seconds;

std::unique_ptr<Subprocess> StartService(const std::string& name, const std::string& binary,
                                         std::map<std::string, std::string> env,
                                         std::map<std::string, std::string>* addresses) {
  (*addresses)[name] = "127.0.0.1:" + std::to_string(FreePort());
  env["CF_LISTEN"] = (*addresses)[name];
  auto process = std::make_unique<Subprocess>(std::vector<std::string>{RunfilePath(binary)}, env,
                                              TestTempPath(name + ".log"));
  EXPECT_TRUE(WaitForServing((*addresses)[name], seconds(60))) << name;
  return process;
}

FlowClient::FlowClient(const std::string& gateway_address) {
  auto channel = grpc::CreateChannel(gateway_address, grpc::InsecureChannelCredentials());
  catalog = catalog::v1::CatalogService::NewStub(channel);
  generation = generation::v1::GenerationService::NewStub(channel);
  assembly = assembly::v1::AssemblyService::NewStub(channel);
  publishing = publishing::v1::PublishingService::NewStub(channel);
  analytics = analytics::v1::AnalyticsService::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> FlowClient::Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + seconds(30));
  return context;
}

void FlowClient::MakeAssets() {
  catalog::v1::CreateDossierRequest create_dossier;
  create_dossier.mutable_dossier()->set_name("Glow Serum");
  create_dossier.mutable_dossier()->set_category("Skin Care");
  create_dossier.mutable_dossier()->add_benefits("Glow in a week");
  create_dossier.mutable_dossier()->add_pain_points("Dull skin");
  create_dossier.mutable_dossier()->set_affiliate_link("https://example.com/ref/glow");
  grpc::Status status = catalog->CreateDossier(Context().get(), create_dossier, &dossier);
  ASSERT_TRUE(status.ok()) << status.error_message();
  generation::v1::GenerateScriptsRequest generate;
  generate.set_dossier_id(dossier.id());
  generation::v1::GenerateScriptsResponse scripts;
  ASSERT_TRUE(generation->GenerateScripts(Context().get(), generate, &scripts).ok());
  ASSERT_GT(scripts.scripts_size(), 0);
  script_id = scripts.scripts(0).id();

  generation::v1::CreateImageRequest create_image;
  create_image.set_dossier_id(dossier.id());
  create_image.set_type(generation::v1::IMAGE_TYPE_PRODUCT);
  create_image.set_aspect_ratio(generation::v1::ASPECT_RATIO_9_16);
  generation::v1::CreateImageResponse images;
  ASSERT_TRUE(generation->CreateImage(Context().get(), create_image, &images).ok());
  ASSERT_GT(images.images_size(), 0);
  image_id = images.images(0).id();
  ASSERT_TRUE(WaitUntil(
      [&] {
        generation::v1::GetImageRequest get;
        get.set_id(image_id);
        generation::v1::Image image;
        generation->GetImage(Context().get(), get, &image);
        return image.state() == generation::v1::JOB_STATE_COMPLETED;
      },
      std::chrono::minutes(2)));
  generation::v1::CreateVideoRequest create_video;
  create_video.set_dossier_id(dossier.id());
  create_video.set_type(generation::v1::VIDEO_TYPE_DEMO);
  create_video.set_source_image_id(image_id);
  create_video.set_aspect_ratio(generation::v1::ASPECT_RATIO_9_16);
  generation::v1::CreateVideoResponse videos;
  ASSERT_TRUE(generation->CreateVideo(Context().get(), create_video, &videos).ok());
  ASSERT_GT(videos.videos_size(), 0);
  video_id = videos.videos(0).id();
  ASSERT_TRUE(WaitUntil(
      [&] {
        generation::v1::GetVideoRequest get;
        get.set_id(video_id);
        generation::v1::Video video;
        generation->GetVideo(Context().get(), get, &video);
        return video.state() == generation::v1::JOB_STATE_COMPLETED;
      },
      std::chrono::minutes(3)));
}

std::string FlowClient::StartRender(assembly::v1::Platform platform) {
  assembly::v1::CreateAssemblyRequest create;
  create.set_dossier_id(dossier.id());
  create.set_script_id(script_id);
  create.add_video_ids(video_id);
  create.add_image_ids(image_id);
  create.set_platform(platform);
  create.set_request_id("assemble-" + assembly::v1::Platform_Name(platform));
  assembly::v1::Assembly draft;
  grpc::Status status = assembly->CreateAssembly(Context().get(), create, &draft);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (!status.ok()) return "";
  assembly::v1::RenderAssemblyRequest render;
  render.set_id(draft.id());
  assembly::v1::Assembly rendering;
  status = assembly->RenderAssembly(Context().get(), render, &rendering);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return status.ok() ? draft.id() : "";
}

bool FlowClient::WaitReady(const std::string& assembly_id) {
  // A call that fails (a busy moment) says nothing about the render: the wait goes on.
  EXPECT_TRUE(WaitUntil(
      [&] {
        const assembly::v1::Assembly found = GetAssembly(assembly_id);
        return found.state() != assembly::v1::ASSEMBLY_STATE_UNSPECIFIED &&
               found.state() != assembly::v1::ASSEMBLY_STATE_RENDERING;
      },
      std::chrono::minutes(5)));
  const assembly::v1::Assembly rendered = GetAssembly(assembly_id);
  EXPECT_EQ(rendered.state(), assembly::v1::ASSEMBLY_STATE_READY) << rendered.error();
  return rendered.state() == assembly::v1::ASSEMBLY_STATE_READY;
}

assembly::v1::Assembly FlowClient::GetAssembly(const std::string& id) {
  assembly::v1::GetAssemblyRequest get;
  get.set_id(id);
  assembly::v1::Assembly found;
  assembly->GetAssembly(Context().get(), get, &found);
  return found;
}

publishing::v1::Publish FlowClient::PublishAndWatch(const std::string& assembly_id) {
  publishing::v1::PublishContentRequest request;
  request.set_assembled_content_id(assembly_id);
  request.set_request_id("publish-" + assembly_id);
  publishing::v1::Publish publish;
  grpc::Status status = publishing->PublishContent(Context().get(), request, &publish);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (!status.ok()) return publish;
  // A retry answers the same publish.
  publishing::v1::Publish again;
  EXPECT_TRUE(publishing->PublishContent(Context().get(), request, &again).ok());
  EXPECT_EQ(again.id(), publish.id());

  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  publishing::v1::WatchPublishRequest watch;
  watch.set_id(publish.id());
  auto stream = publishing->WatchPublish(&watch_context, watch);
  publishing::v1::Publish update, last;
  while (stream->Read(&update)) last = update;
  status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return last;
}

publishing::v1::PostStats FlowClient::Stats(const std::string& published_content_id) {
  publishing::v1::PostStats stats;
  grpc::Status status = TryStats(published_content_id, &stats);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return stats;
}

grpc::Status FlowClient::TryStats(const std::string& published_content_id,
                                  publishing::v1::PostStats* stats) {
  publishing::v1::GetPostStatsRequest request;
  request.set_published_content_id(published_content_id);
  return publishing->GetPostStats(Context().get(), request, stats);
}

bool FlowClient::WaitForViews(const std::string& published_content_id) {
  return WaitUntil(
      [&] {
        publishing::v1::PostStats stats;
        return TryStats(published_content_id, &stats).ok() && stats.views() > 0;
      },
      std::chrono::minutes(2));
}

}  // namespace cf::testing
