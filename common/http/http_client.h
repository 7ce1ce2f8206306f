// A small HTTPS client over libcurl for the external model APIs, with the failure mapping the
// job queue needs: 429 -> RESOURCE_EXHAUSTED and 5xx -> UNAVAILABLE (both with Retry-After,
// retried), timeouts -> DEADLINE_EXCEEDED, connection failures -> UNAVAILABLE, 400 ->
// INVALID_ARGUMENT, 401/403 -> PERMISSION_DENIED, 404 -> NOT_FOUND (these fail at once).
#ifndef CF_COMMON_HTTP_HTTP_CLIENT_H_
#define CF_COMMON_HTTP_HTTP_CLIENT_H_

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
  bool follow_redirects = false;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// Performs the request. Transport failures are statuses; any HTTP answer is a Response.
absl::StatusOr<Response> Send(const Request& request);

// OK for 2xx; otherwise the mapped status, its message naming the HTTP code and a snippet of
// the body, with the Retry-After (seconds) attached for retryable codes.
absl::Status StatusOf(const Response& response, const std::string& what);

// Retry-After in seconds from a response (0 when absent or an HTTP date).
absl::Duration RetryAfter(const Response& response);

std::string Base64Encode(const std::string& bytes);
absl::StatusOr<std::string> Base64Decode(const std::string& text);

}  // namespace cf::http

#endif  // CF_COMMON_HTTP_HTTP_CLIENT_H_
