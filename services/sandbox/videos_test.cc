#include "services/sandbox/videos.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/media/ffmpeg.h"
#include "common/testing/subprocess.h"

namespace cf::sandbox {
namespace {

std::string Read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

TEST(VideosTest, Sha256MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string path = testing::TestTempPath("sha.bin");
  std::string big(200000, 'x');
  ASSERT_TRUE(WriteFileAtomically(path, big).ok());
  EXPECT_EQ(*Sha256OfFile(path), Sha256Hex(big));
  EXPECT_FALSE(Sha256OfFile(testing::TestTempPath("missing.bin")).ok());
}

TEST(VideosTest, WriteAtCutsWhatLiesBeyondTheOffset) {
  const std::string path = testing::TestTempPath("chunks.part");
  ASSERT_TRUE(WriteAt(path, 0, "hello").ok());
  ASSERT_TRUE(WriteAt(path, 5, " world!!").ok());
  EXPECT_EQ(Read(path), "hello world!!");
  // A chunk written again at 5 replaces the tail, as after a crash past the recorded count.
  ASSERT_TRUE(WriteAt(path, 5, " there").ok());
  EXPECT_EQ(Read(path), "hello there");
  EXPECT_EQ(FileSize(path), 11);
  ASSERT_TRUE(WriteAt(path, 3, "").ok());
  EXPECT_EQ(Read(path), "hel");
}

TEST(VideosTest, AtomicWriteReplacesWholeFiles) {
  const std::string path = testing::TestTempPath("state.json");
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(Read(path), "second");
  ASSERT_TRUE(MakeDirs(testing::TestTempPath("a/b/c")).ok());
  ASSERT_TRUE(MoveFile(path, testing::TestTempPath("a/b/c/moved.json")).ok());
  EXPECT_EQ(Read(testing::TestTempPath("a/b/c/moved.json")), "second");
  EXPECT_EQ(FileSize(path), -1);
}

TEST(VideosTest, CheckVideoReadsVideosAndRefusesTheRest) {
  const std::string video = testing::TestTempPath("check.mp4");
  ASSERT_TRUE(media::RunFfmpeg({"-f", "lavfi", "-i", "testsrc=s=160x120:d=2", "-c:v", "libx264",
                                "-pix_fmt", "yuv420p", video},
                               media::RenderOptions{})
                  .ok());
  VideoCheck good = CheckVideo(video);
  EXPECT_TRUE(good.readable) << good.reason;
  EXPECT_NEAR(good.duration_s, 2, 0.2);
  const std::string junk = testing::TestTempPath("junk.mp4");
  ASSERT_TRUE(WriteFileAtomically(junk, "this is not a video").ok());
  VideoCheck bad = CheckVideo(junk);
  EXPECT_FALSE(bad.readable);
  EXPECT_FALSE(bad.reason.empty());
}

}  // namespace
}  // namespace cf::sandbox
