#include "common/media/media_store.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cf::media {
namespace {

bool MakeDirs(const std::string& path) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      partial = path.substr(0, i);
      if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  }
  return true;
}

// Deletes "<name>.partial-*" files older than `stale_after` in `folder`; returns how many.
int RemoveStalePartials(const std::string& folder, absl::Duration stale_after) {
  int removed = 0;
  DIR* handle = opendir(folder.c_str());
  if (handle == nullptr) return 0;
  absl::Time cutoff = absl::Now() - stale_after;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name.find(".partial-") == std::string::npos) continue;
    std::string path = folder + "/" + name;
    struct stat info;
    if (stat(path.c_str(), &info) == 0 && absl::FromTimeT(info.st_mtime) < cutoff &&
        unlink(path.c_str()) == 0) {
      ++removed;
    }
  }
  closedir(handle);
  return removed;
}

std::string HostName() {
  char host[256] = "host";
  gethostname(host, sizeof(host) - 1);
  std::string safe;
  for (const char* c = host; *c != '\0'; ++c) {
    const bool plain =
        absl::ascii_isalnum(static_cast<unsigned char>(*c)) || *c == '-' || *c == '_' || *c == '.';
    safe += plain ? *c : '_';
  }
  return safe;
}

// Removes scratch folders whose process is gone: made on this host by a pid that no longer
// runs, or older than `stale_after` (another host's, on a shared folder).
void RemoveDeadScratch(const std::string& folder, absl::Duration stale_after) {
  DIR* handle = opendir(folder.c_str());
  if (handle == nullptr) return;
  const std::string mine = HostName() + "-";
  absl::Time cutoff = absl::Now() - stale_after;
  std::vector<std::string> dead;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = folder + "/" + name;
    bool gone = false;
    if (name.rfind(mine, 0) == 0) {
      int pid = std::atoi(name.c_str() + mine.size());
      gone = pid > 0 && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH;
    }
    struct stat info;
    if (!gone && stat(path.c_str(), &info) == 0) gone = absl::FromTimeT(info.st_mtime) < cutoff;
    if (gone) dead.push_back(path);
  }
  closedir(handle);
  for (const std::string& path : dead) RemoveScratchDir(path);
}

}  // namespace

bool IsFilterSafePath(const std::string& path) {
  for (char c : path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return !path.empty();
}

absl::StatusOr<MediaStore> MediaStore::Open(const std::string& root, const std::string& base_url,
                                            absl::Duration stale_after) {
  if (root.empty()) return absl::InvalidArgumentError("media folder is empty");
  for (const char* folder :
       {"", "/images", "/videos", "/assemblies", "/music", "/voice-cache", "/scratch"}) {
    if (!MakeDirs(root + folder)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the media folder ", root, folder));
    }
  }
  char resolved[PATH_MAX];
  if (realpath(root.c_str(), resolved) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("cannot resolve ", root));
  }
  for (const char* folder : {"/images", "/videos", "/assemblies", "/music"}) {
    RemoveStalePartials(std::string(resolved) + folder, stale_after);
  }
  RemoveDeadScratch(std::string(resolved) + "/scratch", stale_after);
  std::string base(base_url);
  while (absl::EndsWith(base, "/")) base.pop_back();
  MediaStore store(resolved, base);
  std::string scratch = absl::StrCat(store.root_, "/scratch");
  if (!IsFilterSafePath(scratch)) scratch = "/tmp";
  store.scratch_prefix_ = absl::StrCat(scratch, "/", HostName(), "-", getpid(), "-");
  return store;
}

std::string MediaStore::PathFor(const std::string& folder, const std::string& name) const {
  return absl::StrCat(root_, "/", folder, "/", name);
}

std::string MediaStore::UrlFor(const std::string& path) const {
  absl::string_view relative = path;
  if (!base_url_.empty() && absl::ConsumePrefix(&relative, root_)) {
    return absl::StrCat(base_url_, relative);
  }
  return absl::StrCat("file://", path);
}

absl::StatusOr<std::string> MediaStore::LocalPathOf(const std::string& url) const {
  absl::string_view rest = url;
  std::string path;
  if (absl::ConsumePrefix(&rest, "file://")) {
    path = std::string(rest);
  } else if (!base_url_.empty() && absl::ConsumePrefix(&rest, base_url_)) {
    path = absl::StrCat(root_, rest);
  } else {
    return absl::NotFoundError(absl::StrCat("not a media URL of this store: ", url));
  }
  // A URL read back from a row must name a file inside the media folder, nothing else.
  bool climbs = path.find("/../") != std::string::npos || absl::EndsWith(path, "/..") ||
                path.find("/./") != std::string::npos;
  if (climbs || !absl::StartsWith(path, root_ + "/")) {
    return absl::NotFoundError(absl::StrCat("not inside the media folder: ", url));
  }
  return path;
}

absl::StatusOr<std::string> MediaStore::MakeScratchDir() const {
  std::string pattern = scratch_prefix_ + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("cannot create a scratch folder");
  }
  return pattern;
}

void RemoveScratchDir(const std::string& dir) {
  if (DIR* handle = opendir(dir.c_str())) {
    while (dirent* entry = readdir(handle)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") unlink((dir + "/" + name).c_str());
    }
    closedir(handle);
  }
  rmdir(dir.c_str());
}

}  // namespace cf::media
