// A small HTTPS client over libcurl for the external model APIs, with the failure mapping the
// job queue needs: 429 -> RESOURCE_EXHAUSTED and 5xx -> UNAVAILABLE (both with Retry-After,
// retried), timeouts -> DEADLINE_EXCEEDED, connection failures -> UNAVAILABLE, 400 ->
// INVALID_ARGUMENT, 401/403 -> PERMISSION_DENIED, 404 -> NOT_FOUND (these fail at once).
#ifndef CF_COMMON_HTTP_HTTP_CLIENT_H_
#define CF_COMMON_HTTP_HTTP_CLIENT_H_

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cf::http {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(60);
  // Redirects (at most 5) are followed by this client itself: headers named in
  // `secret_headers` (an API key) go only to the host of `url`, never to another host.
  bool follow_redirects = false;
  std::vector<std::string> secret_headers = {"x-goog-api-key", "authorization"};
  // A larger body fails the call (FAILED_PRECONDITION) instead of filling memory.
  size_t max_body_bytes = 64 << 20;
  // Set to abort the call at once (CANCELLED), e.g. at shutdown.
  const std::atomic<bool>* cancel = nullptr;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// Performs the request. Transport failures are statuses; any HTTP answer is a Response.
absl::StatusOr<Response> Send(const Request& request);

// "scheme://host:port" of a URL (port as written; "" when it has no scheme).
std::string OriginOf(const std::string& url);

// OK for an https URL, or an http one to a loopback host (127.0.0.0/8, ::1, localhost) when
// `allow_loopback_http` (test fakes, the local sandbox); INVALID_ARGUMENT naming `what` else.
absl::Status CheckFetchableUrl(const std::string& url, bool allow_loopback_http,
                               const std::string& what);
bool IsLoopbackHttp(const std::string& url);

// OK for 2xx; otherwise the mapped status, its message naming the HTTP code and a snippet of
// the body, with the Retry-After (seconds) attached for retryable codes.
absl::Status StatusOf(const Response& response, const std::string& what);

// Retry-After in seconds from a response (0 when absent or an HTTP date).
absl::Duration RetryAfter(const Response& response);

std::string Base64Encode(const std::string& bytes);
absl::StatusOr<std::string> Base64Decode(const std::string& text);

}  // namespace cf::http

#endif  // CF_COMMON_HTTP_HTTP_CLIENT_H_
