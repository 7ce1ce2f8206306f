// The local providers render real files; ffprobe checks them.
#include "services/generation/local_provider.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/media/ffmpeg.h"
#include "gtest/gtest.h"

namespace cf::generation {
namespace {

class LocalProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    media_ = std::make_unique<media::MediaStore>(
        media::MediaStore::Open(std::string(tmp ? tmp : "/tmp") + "/media", "").value());
    images_ = std::make_unique<LocalImageProvider>(media_.get(), absl::Seconds(60));
    videos_ = std::make_unique<LocalVideoProvider>(media_.get(), absl::Seconds(120));
  }

  ClaimedJob Image(const std::string& id, const std::string& type, const std::string& ratio) {
    ClaimedJob job;
    job.kind = JobKind::kImage;
    job.id = id;
    job.output_stem = job.id;
    job.type = type;
    job.aspect_ratio = ratio;
    job.prompt = "Photorealistic close-up, natural light: 100% real, no filters: 'quoted'";
    job.dossier.name = "ClearSkin %{pts} Patch: \"Pro\"";
    job.dossier.price = "12.99";
    job.dossier.benefits = {"Clears spots overnight"};
    return job;
  }

  std::string Path(const std::string& url) { return media_->LocalPathOf(url).value(); }

  std::unique_ptr<media::MediaStore> media_;
  std::unique_ptr<LocalImageProvider> images_;
  std::unique_ptr<LocalVideoProvider> videos_;
};

TEST_F(LocalProviderTest, ImagesForEveryTypeAndRatio) {
  const std::vector<std::pair<std::string, std::pair<int, int>>> ratios = {
      {"9:16", {1080, 1920}}, {"16:9", {1920, 1080}}, {"1:1", {1080, 1080}}, {"4:5", {1080, 1350}}};
  for (const std::string type : {"before", "after", "product", "lifestyle"}) {
    for (const auto& [ratio, size] : ratios) {
      std::vector<int> progress;
      ProviderCall call;
      call.progress = [&](int p) { progress.push_back(p); };
      auto result = images_->Generate(Image(type + ratio.substr(0, 1), type, ratio), call);
      ASSERT_TRUE(result.ok()) << type << " " << ratio << ": " << result.status();
      auto info = media::Probe(Path(result->url));
      ASSERT_TRUE(info.ok()) << info.status();
      EXPECT_EQ(info->codec, "png");
      EXPECT_EQ(info->width, size.first) << type << " " << ratio;
      EXPECT_EQ(info->height, size.second) << type << " " << ratio;
      EXPECT_EQ(result->width, size.first);
      EXPECT_EQ(result->format, "png");
      EXPECT_GT(result->file_size, 1000);
      EXPECT_EQ(progress.back(), 100);
      EXPECT_EQ(result->model, "local-ffmpeg-image");
      EXPECT_EQ(result->url.rfind("file://", 0), 0u);
    }
  }
}

TEST_F(LocalProviderTest, BeforeAndAfterDifferMeasurably) {
  ProviderCall call;
  auto before = images_->Generate(Image("b", "before", "9:16"), call).value();
  auto after = images_->Generate(Image("a", "after", "9:16"), call).value();
  double psnr = media::Psnr(Path(before.url), Path(after.url)).value();
  EXPECT_LT(psnr, 20.0);
  // And the same job renders the same picture.
  auto again = images_->Generate(Image("b", "before", "9:16"), call).value();
  EXPECT_GT(media::Psnr(Path(before.url), Path(again.url)).value(), 40.0);
}

TEST_F(LocalProviderTest, VideosForEveryTypeWithTheirDuration) {
  ProviderCall call;
  auto before = images_->Generate(Image("vb", "before", "9:16"), call).value();
  auto after = images_->Generate(Image("va", "after", "9:16"), call).value();
  auto product = images_->Generate(Image("vp", "product", "9:16"), call).value();
  RevealImages reveal{before.url, after.url};
  for (const std::string type : {"reveal", "demo", "transition", "testimonial"}) {
    ClaimedJob job = Image("video-" + type, type, "9:16");
    job.kind = JobKind::kVideo;
    job.duration_seconds = 2;
    job.source_image_url = product.url;
    std::vector<int> progress;
    ProviderCall video_call;
    video_call.progress = [&](int p) { progress.push_back(p); };
    auto result = videos_->Generate(job, reveal, video_call);
    ASSERT_TRUE(result.ok()) << type << ": " << result.status();
    auto info = media::Probe(Path(result->url));
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->codec, "h264") << type;
    EXPECT_EQ(info->width, 1080) << type;
    EXPECT_EQ(info->height, 1920) << type;
    EXPECT_NEAR(info->duration, 2.0, 0.1) << type;
    EXPECT_NEAR(info->fps, 30.0, 0.5) << type;
    EXPECT_EQ(info->pixel_format, "yuv420p");
    EXPECT_EQ(result->codec, "h264");
    EXPECT_EQ(result->format, "mp4");
    EXPECT_GT(progress.size(), 1u);
    EXPECT_EQ(progress.back(), 100);
  }
}

TEST_F(LocalProviderTest, VideoAtAWideRatio) {
  ProviderCall call;
  auto source = images_->Generate(Image("w", "lifestyle", "16:9"), call).value();
  ClaimedJob job = Image("wide-video", "demo", "16:9");
  job.kind = JobKind::kVideo;
  job.duration_seconds = 1;
  job.source_image_url = source.url;
  auto result = videos_->Generate(job, RevealImages(), call);
  ASSERT_TRUE(result.ok()) << result.status();
  auto info = media::Probe(Path(result->url)).value();
  EXPECT_EQ(info.width, 1920);
  EXPECT_EQ(info.height, 1080);
}

TEST_F(LocalProviderTest, CancelStopsTheRenderAndLeavesNoFile) {
  ProviderCall call;
  auto source = images_->Generate(Image("c", "product", "9:16"), call).value();
  ClaimedJob job = Image("cancelled-video", "demo", "9:16");
  job.kind = JobKind::kVideo;
  job.duration_seconds = 20;
  job.source_image_url = source.url;
  std::atomic<bool> cancel{true};
  call.cancel = &cancel;
  auto result = videos_->Generate(job, RevealImages(), call);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  struct stat info;
  EXPECT_NE(stat(media_->PathFor("videos", "cancelled-video.mp4").c_str(), &info), 0);
}

TEST_F(LocalProviderTest, LimitsAreStatedUpFront) {
  EXPECT_TRUE(videos_->Supports("4:5", 30).ok());
  EXPECT_EQ(videos_->Supports("9:16", 31).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(images_->Supports("1:1").ok());
}

}  // namespace
}  // namespace cf::generation
