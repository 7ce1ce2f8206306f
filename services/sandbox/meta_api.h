// Meta's Graph API under /graph/v21.0 (README.md, "Instagram" and "Facebook"): Instagram Reels
// (containers fetched from video_url in the background, publish, media list, insights),
// Facebook Pages resumable video uploads, and the token exchange both share.
#ifndef CF_SERVICES_SANDBOX_META_API_H_
#define CF_SERVICES_SANDBOX_META_API_H_

#include <httplib.h>

#include "services/sandbox/api_support.h"

namespace cf::sandbox {

inline constexpr char kInstagramUser[] = "17841400000000001";
inline constexpr char kFacebookPage[] = "100000000000001";

void RegisterMeta(httplib::Server& server, Env& env);

// Starts the fetch of every container still IN_PROGRESS (after a restart).
void ResumeInstagramFetches(Env& env);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_META_API_H_
