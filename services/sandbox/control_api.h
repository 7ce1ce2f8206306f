// The sandbox's own API (README.md, "Control API"): the HTML feed at /, posts, stats with
// duplicates, fault rules, token expiry and revocation, the stored videos, and the affiliate
// report that stands in for a shop's dashboard.
#ifndef CF_SERVICES_SANDBOX_CONTROL_API_H_
#define CF_SERVICES_SANDBOX_CONTROL_API_H_

#include <httplib.h>

#include <string>

#include "services/sandbox/api_support.h"

namespace cf::sandbox {

// The header every control call that changes the sandbox carries (value "1").
inline constexpr char kControlHeader[] = "X-Sandbox-Control";

void RegisterControl(httplib::Server& server, Env& env);

// The status word a post shows in the feed and /_sandbox/posts, in its platform's terms.
std::string PostStatus(const Env& env, const Post& post);

std::string HtmlEscape(const std::string& text);

// The token account a control API platform name means: tiktok_ads (the Marketing API) is
// "tiktok", instagram and facebook share "meta", youtube is "google". "" for an unknown name.
std::string TokenAccountOf(const std::string& platform);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_CONTROL_API_H_
