// Image and video jobs through the gateway, rendered for real by the local providers: create,
// watch until done, list, cancel and retry, with the files checked by ffprobe.
#include <pqxx/pqxx>

#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "cf/generation/v1/generation.grpc.pb.h"
#include "common/media/ffmpeg.h"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"

namespace cf {
namespace {

namespace catalog_v1 = cf::catalog::v1;
namespace v1 = cf::generation::v1;

class GenerationMediaTest : public ::testing::Test {
 protected:
  std::unique_ptr<grpc::ClientContext> Context(int seconds = 10) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return context;
  }

  std::string CreateDossier() {
    catalog_v1::CreateDossierRequest request;
    request.mutable_dossier()->set_name("Glow Serum");
    request.mutable_dossier()->add_benefits("Glowing skin in a week");
    request.mutable_dossier()->add_pain_points("Dull skin every morning");
    request.mutable_dossier()->set_price("24.00");
    catalog_v1::Dossier dossier;
    EXPECT_TRUE(catalog_->CreateDossier(Context().get(), request, &dossier).ok());
    return dossier.id();
  }

  v1::Image CreateImage(const std::string& dossier, v1::ImageType type) {
    v1::CreateImageRequest request;
    request.set_dossier_id(dossier);
    request.set_type(type);
    v1::CreateImageResponse response;
    grpc::Status status = generation_->CreateImage(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.images_size() ? response.images(0) : v1::Image();
  }

  // Watches until the stream ends; returns every message.
  template <typename Message, typename Request, typename Method>
  std::vector<Message> Watch(const std::string& id, Method method, grpc::Status* status) {
    Request request;
    request.set_id(id);
    auto context = Context(120);
    auto reader = (generation_.get()->*method)(context.get(), request);
    std::vector<Message> messages;
    Message message;
    while (reader->Read(&message)) messages.push_back(message);
    *status = reader->Finish();
    return messages;
  }

  std::string Path(const std::string& url) { return stack_.media().LocalPathOf(url).value(); }

  cf::testing::TestStack stack_;
  std::unique_ptr<catalog_v1::CatalogService::Stub> catalog_ =
      catalog_v1::CatalogService::NewStub(stack_.gateway());
  std::unique_ptr<v1::GenerationService::Stub> generation_ =
      v1::GenerationService::NewStub(stack_.gateway());
};

TEST_F(GenerationMediaTest, ImagesAndVideosFromCreateToCompletedFile) {
  std::string dossier = CreateDossier();
  v1::Image before = CreateImage(dossier, v1::IMAGE_TYPE_BEFORE);
  v1::Image after = CreateImage(dossier, v1::IMAGE_TYPE_AFTER);
  v1::Image product = CreateImage(dossier, v1::IMAGE_TYPE_PRODUCT);
  EXPECT_EQ(product.state(), v1::JOB_STATE_PENDING);
  EXPECT_EQ(product.aspect_ratio(), v1::ASPECT_RATIO_9_16);
  EXPECT_EQ(product.model(), "local-ffmpeg-image");
  EXPECT_NE(product.prompt().find("Glow Serum"), std::string::npos);  // built from the dossier
  stack_.StartWorkers();

  grpc::Status status;
  auto updates = Watch<v1::Image, v1::WatchImageRequest>(
      product.id(), &v1::GenerationService::Stub::WatchImage, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(updates.empty());
  for (size_t i = 1; i < updates.size(); ++i) {
    EXPECT_GE(updates[i].state(), updates[i - 1].state());
  }
  const v1::Image& done = updates.back();
  ASSERT_EQ(done.state(), v1::JOB_STATE_COMPLETED) << done.error();
  EXPECT_EQ(done.progress(), 100);
  EXPECT_EQ(done.metadata().width(), 1080);
  EXPECT_EQ(done.metadata().height(), 1920);
  EXPECT_EQ(done.metadata().format(), "png");
  media::MediaInfo info = media::Probe(Path(done.image_url())).value();
  EXPECT_EQ(info.codec, "png");
  EXPECT_EQ(info.height, 1920);

  for (const v1::Image& image : {before, after}) {
    Watch<v1::Image, v1::WatchImageRequest>(image.id(), &v1::GenerationService::Stub::WatchImage,
                                            &status);
  }
  v1::CreateVideoRequest video_request;
  video_request.set_dossier_id(dossier);
  video_request.set_type(v1::VIDEO_TYPE_REVEAL);
  video_request.set_source_image_id(product.id());
  video_request.set_duration_seconds(2);
  v1::CreateVideoResponse created;
  ASSERT_TRUE(generation_->CreateVideo(Context().get(), video_request, &created).ok());
  ASSERT_EQ(created.videos_size(), 1);
  auto video_updates = Watch<v1::Video, v1::WatchVideoRequest>(
      created.videos(0).id(), &v1::GenerationService::Stub::WatchVideo, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Video& video = video_updates.back();
  ASSERT_EQ(video.state(), v1::JOB_STATE_COMPLETED) << video.error();
  EXPECT_EQ(video.metadata().codec(), "h264");
  EXPECT_NEAR(video.metadata().duration(), 2.0, 0.1);
  media::MediaInfo video_info = media::Probe(Path(video.video_url())).value();
  EXPECT_EQ(video_info.codec, "h264");
  EXPECT_EQ(video_info.width, 1080);
  EXPECT_NEAR(video_info.duration, 2.0, 0.1);

  v1::ListImagesRequest list;
  list.set_dossier_id(dossier);
  list.set_state(v1::JOB_STATE_COMPLETED);
  v1::ListImagesResponse images;
  ASSERT_TRUE(generation_->ListImages(Context().get(), list, &images).ok());
  EXPECT_EQ(images.images_size(), 3);
  v1::ListVideosRequest list_videos;
  list_videos.set_dossier_id(dossier);
  v1::ListVideosResponse videos;
  ASSERT_TRUE(generation_->ListVideos(Context().get(), list_videos, &videos).ok());
  EXPECT_EQ(videos.videos_size(), 1);
  v1::GetVideoRequest get_video;
  get_video.set_id(video.id());
  v1::Video got;
  ASSERT_TRUE(generation_->GetVideo(Context().get(), get_video, &got).ok());
  EXPECT_EQ(got.video_url(), video.video_url());
  v1::GetImageRequest get_image;
  get_image.set_id(product.id());
  v1::Image got_image;
  ASSERT_TRUE(generation_->GetImage(Context().get(), get_image, &got_image).ok());
  EXPECT_EQ(got_image.image_url(), done.image_url());
}

TEST_F(GenerationMediaTest, VideoCancelAndRetryThroughTheGateway) {
  std::string dossier = CreateDossier();
  v1::Image image = CreateImage(dossier, v1::IMAGE_TYPE_PRODUCT);
  {
    pqxx::connection connection(stack_.database().OwnerConninfo());
    pqxx::nontransaction txn(connection);
    txn.exec("UPDATE cf_generated_images SET status = 'completed', image_url = 'file:///x.png'");
  }
  v1::CreateVideoRequest request;
  request.set_dossier_id(dossier);
  request.set_type(v1::VIDEO_TYPE_TRANSITION);
  request.set_source_image_id(image.id());
  request.set_count(2);
  v1::CreateVideoResponse created;
  ASSERT_TRUE(generation_->CreateVideo(Context().get(), request, &created).ok());
  ASSERT_EQ(created.videos_size(), 2);
  EXPECT_EQ(created.videos(0).duration_seconds(), 6);  // the default
  v1::CancelVideoRequest cancel;
  cancel.set_id(created.videos(0).id());
  v1::Video cancelled;
  ASSERT_TRUE(generation_->CancelVideo(Context().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  {
    pqxx::connection connection(stack_.database().OwnerConninfo());
    pqxx::nontransaction txn(connection);
    txn.exec(
        "UPDATE cf_generated_videos SET job_state = 'failed', status = 'failed', last_error = "
        "'boom' WHERE id = '" +
        created.videos(1).id() + "'");
  }
  v1::RetryVideoRequest retry;
  retry.set_id(created.videos(1).id());
  v1::Video retried;
  ASSERT_TRUE(generation_->RetryVideo(Context().get(), retry, &retried).ok());
  EXPECT_EQ(retried.state(), v1::JOB_STATE_PENDING);
  retry.set_id(created.videos(0).id());
  EXPECT_EQ(generation_->RetryVideo(Context().get(), retry, &retried).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(GenerationMediaTest, CancelAndRetryFollowTheStates) {
  std::string dossier = CreateDossier();
  v1::Image image = CreateImage(dossier, v1::IMAGE_TYPE_LIFESTYLE);
  v1::CancelImageRequest cancel;
  cancel.set_id(image.id());
  v1::Image cancelled;
  ASSERT_TRUE(generation_->CancelImage(Context().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(generation_->CancelImage(Context().get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::RetryImageRequest retry;
  retry.set_id(image.id());
  v1::Image retried;
  EXPECT_EQ(generation_->RetryImage(Context().get(), retry, &retried).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  {
    pqxx::connection connection(stack_.database().OwnerConninfo());
    pqxx::nontransaction txn(connection);
    txn.exec(
        "UPDATE cf_generated_images SET job_state = 'failed', status = 'failed', attempts = 5");
  }
  ASSERT_TRUE(generation_->RetryImage(Context().get(), retry, &retried).ok());
  EXPECT_EQ(retried.state(), v1::JOB_STATE_PENDING);
  EXPECT_EQ(retried.attempts(), 0);

  // A watch of a cancelled job shows that state and ends.
  v1::Image other = CreateImage(dossier, v1::IMAGE_TYPE_AFTER);
  cancel.set_id(other.id());
  ASSERT_TRUE(generation_->CancelImage(Context().get(), cancel, &cancelled).ok());
  grpc::Status status;
  auto updates = Watch<v1::Image, v1::WatchImageRequest>(
      other.id(), &v1::GenerationService::Stub::WatchImage, &status);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state(), v1::JOB_STATE_CANCELLED);
}

TEST_F(GenerationMediaTest, BadRequestsAreRefusedBeforeAnythingIsQueued) {
  std::string dossier = CreateDossier();
  v1::CreateImageRequest image;
  image.set_dossier_id(dossier);
  image.set_count(11);
  image.set_aspect_ratio(static_cast<v1::AspectRatio>(9));
  v1::CreateImageResponse images;
  grpc::Status status = generation_->CreateImage(Context().get(), image, &images);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("type"), std::string::npos);
  EXPECT_NE(status.error_message().find("count"), std::string::npos);
  EXPECT_NE(status.error_message().find("aspect_ratio"), std::string::npos);

  v1::Image pending = CreateImage(dossier, v1::IMAGE_TYPE_PRODUCT);
  v1::CreateVideoRequest video;
  video.set_dossier_id(dossier);
  video.set_type(v1::VIDEO_TYPE_DEMO);
  video.set_source_image_id(pending.id());
  v1::CreateVideoResponse videos;
  EXPECT_EQ(generation_->CreateVideo(Context().get(), video, &videos).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // the image is not completed
  video.set_duration_seconds(31);
  EXPECT_EQ(generation_->CreateVideo(Context().get(), video, &videos).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // the local provider makes 1-30 s

  v1::WatchImageRequest watch;
  watch.set_id("00000000-0000-0000-0000-000000000077");
  auto context = Context();
  auto reader = generation_->WatchImage(context.get(), watch);
  v1::Image message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  pqxx::connection connection(stack_.database().OwnerConninfo());
  pqxx::nontransaction txn(connection);
  EXPECT_EQ(txn.exec("SELECT count(*) FROM cf_generated_videos")[0][0].as<int>(), 0);
  EXPECT_EQ(txn.exec("SELECT count(*) FROM cf_generated_images")[0][0].as<int>(), 1);
}

}  // namespace
}  // namespace cf
