#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "common/media/ffmpeg.h"
#include "common/media/process.h"
#include "gtest/gtest.h"

namespace cf::media {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

TEST(ProcessTest, ReportsExitCodeAndStdoutLines) {
  std::vector<std::string> lines;
  ProcessOptions options;
  options.on_stdout_line = [&](const std::string& line) { lines.push_back(line); };
  auto outcome =
      RunProcess({"/bin/sh", "-c", "echo one; echo two; echo oops >&2; exit 3"}, options);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_code, 3);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(outcome->stderr_tail, "oops\n");
}

TEST(ProcessTest, KillsAChildThatRunsTooLong) {
  ProcessOptions options;
  options.timeout = absl::Milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto outcome = RunProcess({"/bin/sleep", "30"}, options);
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ProcessTest, CancelKillsTheChild) {
  std::atomic<bool> cancel{true};
  ProcessOptions options;
  options.cancel = &cancel;
  auto outcome = RunProcess({"/bin/sleep", "30"}, options);
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->cancelled);
}

TEST(FfmpegTest, RendersAndProbesAVideo) {
  std::string path = TempDir() + "/clip.mp4";
  std::vector<double> progress;
  RenderOptions options;
  options.on_progress = [&](double seconds) { progress.push_back(seconds); };
  absl::Status status = WriteAtomically(path, [&](const std::string& temp) {
    return RunFfmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-c:v", "libx264",
                      "-pix_fmt", "yuv420p", temp},
                     options);
  });
  ASSERT_TRUE(status.ok()) << status;
  auto info = Probe(path);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 240);
  EXPECT_EQ(info->codec, "h264");
  EXPECT_NEAR(info->duration, 2.0, 0.1);
  EXPECT_NEAR(info->fps, 25.0, 0.01);
  EXPECT_GT(info->file_size, 0);
  ASSERT_FALSE(progress.empty());
  EXPECT_NEAR(progress.back(), 2.0, 0.2);
}

TEST(FfmpegTest, AFailedRenderLeavesNoFile) {
  std::string path = TempDir() + "/broken.png";
  absl::Status status = WriteAtomically(path, [](const std::string& temp) {
    return RunFfmpeg({"-f", "lavfi", "-i", "nosuchsource", "-frames:v", "1", temp},
                     RenderOptions());
  });
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("ffmpeg failed"), absl::string_view::npos);
  EXPECT_FALSE(Exists(path));
  for (const char* leftover : {".partial-"}) {
    EXPECT_EQ(system(("ls " + TempDir() + " | grep -q " + leftover).c_str()) == 0, false);
  }
}

TEST(FfmpegTest, PsnrSeparatesDifferentImages) {
  std::string red = TempDir() + "/red.png", blue = TempDir() + "/blue.png";
  ASSERT_TRUE(RunFfmpeg({"-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", red},
                        RenderOptions())
                  .ok());
  ASSERT_TRUE(RunFfmpeg({"-f", "lavfi", "-i", "color=c=blue:s=64x64", "-frames:v", "1", blue},
                        RenderOptions())
                  .ok());
  EXPECT_LT(Psnr(red, blue).value(), 20.0);
  EXPECT_GT(Psnr(red, red).value(), 60.0);
}

TEST(WrapTextTest, BreaksAtSpacesAndCuts) {
  EXPECT_EQ(WrapText("one two three four", 9, 5), "one two\nthree\nfour");
  EXPECT_EQ(WrapText("one two three four", 9, 2), "one two\nthree...");
  EXPECT_EQ(WrapText("", 9, 2), "");
}

}  // namespace
}  // namespace cf::media
