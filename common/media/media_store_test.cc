#include "common/media/media_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace cf::media {
namespace {

std::string Root(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/" + name;
}

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

TEST(MediaStoreTest, UrlsRoundTrip) {
  MediaStore files = MediaStore::Open(Root("m1"), "").value();
  std::string path = files.PathFor("images", "a.png");
  EXPECT_EQ(files.UrlFor(path), "file://" + path);
  EXPECT_EQ(files.LocalPathOf(files.UrlFor(path)).value(), path);

  MediaStore cdn = MediaStore::Open(Root("m2"), "https://cdn.example/media/").value();
  std::string video = cdn.PathFor("videos", "b.mp4");
  EXPECT_EQ(cdn.UrlFor(video), "https://cdn.example/media/videos/b.mp4");
  EXPECT_EQ(cdn.LocalPathOf("https://cdn.example/media/videos/b.mp4").value(), video);
  EXPECT_FALSE(cdn.LocalPathOf("https://elsewhere.example/x.mp4").ok());
}

TEST(MediaStoreTest, OpeningRemovesOnlyStalePartialFiles) {
  std::string root = Root("m3");
  MediaStore::Open(root, "").value();
  std::string stale = root + "/images/a.png.partial-1-2.png";
  std::string fresh = root + "/videos/b.mp4.partial-3-4.mp4";
  std::string done = root + "/images/c.png";
  for (const std::string& path : {stale, fresh, done}) std::ofstream(path) << "x";
  struct utimbuf old_times = {time(nullptr) - 3 * 86400, time(nullptr) - 3 * 86400};
  utime(stale.c_str(), &old_times);
  utime(done.c_str(), &old_times);
  MediaStore::Open(root, "").value();
  EXPECT_FALSE(Exists(stale));
  EXPECT_TRUE(Exists(fresh));  // may be a render still running on another worker
  EXPECT_TRUE(Exists(done));   // finished files are never touched
}

TEST(MediaStoreTest, ScratchLivesInTheMediaFolderAndDeadProcessesScratchIsSwept) {
  std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/scratch-media";
  MediaStore media = MediaStore::Open(root, "").value();
  auto dir = media.MakeScratchDir();
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(IsFilterSafePath(*dir));
  EXPECT_EQ(dir->rfind(media.root() + "/scratch/", 0), 0u) << *dir;
  // What a SIGKILLed render left: a folder named for a process that no longer runs.
  std::string name = dir->substr(dir->rfind('/') + 1);
  std::string host = name.substr(0, name.find('-' + std::to_string(getpid()) + '-'));
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  std::string left = media.root() + "/scratch/" + host + "-" + std::to_string(dead) + "-abc123";
  ASSERT_EQ(mkdir(left.c_str(), 0755), 0);
  MediaStore::Open(root, "").value();
  EXPECT_FALSE(Exists(left));
  EXPECT_TRUE(Exists(*dir));  // this process still runs: its scratch is spared
  RemoveScratchDir(*dir);
  EXPECT_FALSE(Exists(*dir));
  EXPECT_FALSE(IsFilterSafePath("/tmp/it's:here"));
}

TEST(MediaStoreTest, OnlyPathsInsideTheMediaFolderAreLocal) {
  std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/inside-media";
  MediaStore media = MediaStore::Open(root, "http://127.0.0.1:8080/media/").value();
  std::string image = media.PathFor("images", "a-1.png");
  EXPECT_EQ(media.LocalPathOf("file://" + image).value(), image);
  EXPECT_EQ(media.LocalPathOf("http://127.0.0.1:8080/media/images/a-1.png").value(), image);
  EXPECT_FALSE(media.LocalPathOf("file:///etc/passwd").ok());
  EXPECT_FALSE(media.LocalPathOf("file://" + media.root() + "/../secret").ok());
  EXPECT_FALSE(media.LocalPathOf("http://127.0.0.1:8080/media/../../etc/passwd").ok());
  EXPECT_FALSE(media.LocalPathOf("https://elsewhere.example/x.png").ok());
}

}  // namespace
}  // namespace cf::media
