// Files the sandbox keeps: uploaded chunks appended in order, whole files written atomically,
// their SHA-256 (how duplicates are recognised) and an ffprobe check like the platforms' own.
#ifndef CF_SERVICES_SANDBOX_VIDEOS_H_
#define CF_SERVICES_SANDBOX_VIDEOS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/hash/sha256.h"

namespace cf::sandbox {

// Writes `bytes` at `offset` of `path` (created when missing), cutting off anything after it
// first (bytes a crash left beyond what was recorded), then fsyncs.
absl::Status WriteAt(const std::string& path, int64_t offset, const std::string& bytes);

// Writes a temporary file beside `path`, fsyncs it, renames it into place and fsyncs the
// folder: a reader sees the old file or the new one, never half of one.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// rename(2), then fsync of the folder.
absl::Status MoveFile(const std::string& from, const std::string& to);

// mkdir -p.
absl::Status MakeDirs(const std::string& path);

// Size of a file, -1 when it cannot be read.
int64_t FileSize(const std::string& path);

// What ffprobe makes of a video: `reason` says why it is not one ("" when it is).
struct VideoCheck {
  bool readable = false;
  double duration_s = 0;
  std::string reason;
};
VideoCheck CheckVideo(const std::string& path);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_VIDEOS_H_
