// The YouTube Data API v3 under /youtube (resumable uploads, videos.list) and Google's OAuth
// token endpoint at /google/token (README.md, "YouTube").
#ifndef CF_SERVICES_SANDBOX_YOUTUBE_API_H_
#define CF_SERVICES_SANDBOX_YOUTUBE_API_H_

#include <httplib.h>

#include <cstdint>
#include <string>

#include "services/sandbox/api_support.h"

namespace cf::sandbox {

void RegisterYouTube(httplib::Server& server, Env& env);

// An 11-character video id for the store's `number` (distinct numbers, distinct ids).
std::string YouTubeVideoId(int64_t number);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_YOUTUBE_API_H_
