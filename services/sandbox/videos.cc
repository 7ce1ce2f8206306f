#include "services/sandbox/videos.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/media/ffmpeg.h"

namespace cf::sandbox {
namespace {

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

std::string Folder(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status SyncFolder(const std::string& path) {
  int fd = open(Folder(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("cannot open the folder of", path);
  fsync(fd);
  close(fd);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const std::string& bytes, int64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("cannot write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteAt(const std::string& path, int64_t offset, const std::string& bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open", path);
  absl::Status status = absl::OkStatus();
  if (ftruncate(fd, offset) != 0) status = Errno("cannot truncate", path);
  if (status.ok()) status = WriteAll(fd, bytes, offset, path);
  if (status.ok() && fsync(fd) != 0) status = Errno("cannot sync", path);
  close(fd);
  return status;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string temp = absl::StrCat(path, ".tmp-", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  absl::Status status = WriteAll(fd, bytes, 0, temp);
  if (status.ok() && fsync(fd) != 0) status = Errno("cannot sync", temp);
  close(fd);
  if (status.ok()) status = MoveFile(temp, path);
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

absl::Status MoveFile(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) return Errno("cannot rename to", to);
  return SyncFolder(to);
}

absl::Status MakeDirs(const std::string& path) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    const std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return Errno("cannot create", prefix);
  }
  return absl::OkStatus();
}

int64_t FileSize(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int64_t>(info.st_size);
}

VideoCheck CheckVideo(const std::string& path) {
  VideoCheck check;
  absl::StatusOr<media::MediaInfo> info = media::Probe(path);
  if (!info.ok()) {
    check.reason = std::string(info.status().message());
  } else if (info->codec.empty() || info->width <= 0 || info->height <= 0) {
    check.reason = "the file has no video stream";
  } else {
    check.readable = true;
    check.duration_s = info->duration;
  }
  return check;
}

}  // namespace cf::sandbox
