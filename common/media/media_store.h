// Where rendered media lives: a folder (CF_MEDIA_DIR) with images/, videos/, assemblies/,
// music/ (generated tracks) and voice-cache/ (spoken scripts), addressed by file:// URLs or, when
// CF_MEDIA_BASE_URL is set (a CDN or web server over the folder), by it.
#ifndef CF_COMMON_MEDIA_MEDIA_STORE_H_
#define CF_COMMON_MEDIA_MEDIA_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cf::media {

class MediaStore {
 public:
  // Creates the folders when missing, and removes partial files a crashed render left behind
  // (older than `stale_after`, so renders running elsewhere on a shared folder are spared).
  static absl::StatusOr<MediaStore> Open(const std::string& root, const std::string& base_url,
                                         absl::Duration stale_after = absl::Hours(24));

  // <root>/<folder>/<name>
  std::string PathFor(const std::string& folder, const std::string& name) const;
  std::string UrlFor(const std::string& path) const;
  // The local file behind a URL this store made; NOT_FOUND for anything else, a path outside
  // the media folder included (file:///etc/passwd, <root>/../x).
  absl::StatusOr<std::string> LocalPathOf(const std::string& url) const;
  const std::string& root() const { return root_; }

  // A fresh folder for one render's scratch files (text for drawtext) under <root>/scratch,
  // named for this host and process ("<host>-<pid>-XXXXXX") so the next start can sweep the
  // folders a killed process left. Its path needs no escaping inside an ffmpeg filter string
  // (a media folder whose path would is not used: the system's /tmp is). The caller removes it
  // with RemoveScratchDir.
  absl::StatusOr<std::string> MakeScratchDir() const;

 private:
  MediaStore(std::string root, std::string base_url)
      : root_(std::move(root)), base_url_(std::move(base_url)) {}
  std::string root_;            // absolute, no trailing slash
  std::string base_url_;        // no trailing slash; "" for file:// URLs
  std::string scratch_prefix_;  // "<scratch folder>/<host>-<pid>-"
};

void RemoveScratchDir(const std::string& dir);

// Letters, digits, '/', '_', '-', '.' only.
bool IsFilterSafePath(const std::string& path);

}  // namespace cf::media

#endif  // CF_COMMON_MEDIA_MEDIA_STORE_H_
