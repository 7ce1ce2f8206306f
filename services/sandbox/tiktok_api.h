// TikTok's Content Posting API v2 under /tiktok (README.md, "TikTok"): creator info, init,
// chunked upload, publish status, video query and the OAuth refresh.
#ifndef CF_SERVICES_SANDBOX_TIKTOK_API_H_
#define CF_SERVICES_SANDBOX_TIKTOK_API_H_

#include <httplib.h>

#include <cstdint>

#include "absl/status/status.h"
#include "services/sandbox/api_support.h"

namespace cf::sandbox {

void RegisterTikTok(httplib::Server& server, Env& env);

// The media transfer guide's chunk rules: a video under 5 MB is one chunk of its whole size;
// otherwise chunks of 5-64 MB, total_chunk_count = floor(video_size / chunk_size) (the last
// chunk takes the rest, up to 128 MB), 1-1000 chunks. MB here is 1024 * 1024 bytes.
absl::Status CheckChunks(int64_t video_size, int64_t chunk_size, int64_t chunk_count);

// Longest video TikTok takes here (max_video_post_duration_sec).
inline constexpr int kTikTokMaxSeconds = 600;

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_TIKTOK_API_H_
