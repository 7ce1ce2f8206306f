#include "common/http/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status/status.h"

namespace cf::http {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Body {
  std::string* out;
  size_t limit;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* sink) {
  Body* body = static_cast<Body*>(sink);
  if (body->out->size() + size * count > body->limit) {
    body->too_large = true;
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  body->out->append(data, size * count);
  return size * count;
}

int Progress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* flag = static_cast<const std::atomic<bool>*>(cancel);
  return flag != nullptr && flag->load() ? 1 : 0;  // nonzero aborts the transfer
}

// `location` (absolute, or an absolute path) resolved against `url`.
std::string Resolve(const std::string& url, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  std::string origin = OriginOf(url);
  if (!location.empty() && location[0] == '/') return origin + location;
  size_t slash = url.rfind('/');
  return (slash == std::string::npos || slash < origin.size() ? origin + "/"
                                                              : url.substr(0, slash + 1)) +
         location;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* out) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

// The first few hundred bytes of a body, for messages.
std::string Snippet(const std::string& body) {
  std::string snippet = body.substr(0, 300);
  for (char& c : snippet) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return snippet;
}

}  // namespace

namespace {

// One request, no redirects followed.
absl::StatusOr<Response> SendOnce(const Request& request, const std::string& url,
                                  bool with_secrets) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  Response response;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    bool secret = false;
    for (const std::string& name_of_secret : request.secret_headers) {
      secret |= absl::EqualsIgnoreCase(name, name_of_secret);
    }
    if (secret && !with_secrets) continue;
    headers = curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  Body body{&response.body, request.max_body_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, request.cancel);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, request.cancel != nullptr ? 0L : 1L);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    return absl::CancelledError(absl::StrCat("the call to ", OriginOf(url), " was cancelled"));
  }
  if (body.too_large) {
    return absl::FailedPreconditionError(
        absl::StrCat(OriginOf(url), " sent a body larger than ", request.max_body_bytes, " bytes"));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat("no answer from ", OriginOf(url), " within ",
                                                    absl::FormatDuration(request.timeout)));
  }
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", OriginOf(url), ": ", curl_easy_strerror(code)));
  }
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace

absl::StatusOr<Response> Send(const Request& request) {
  InitCurlOnce();
  const std::string origin = OriginOf(request.url);
  std::string url = request.url;
  for (int redirects = 0;; ++redirects) {
    absl::StatusOr<Response> response = SendOnce(request, url, OriginOf(url) == origin);
    if (!response.ok() || !request.follow_redirects) return response;
    auto location = response->headers.find("location");
    bool redirect =
        response->status >= 300 && response->status < 400 && location != response->headers.end();
    if (!redirect) return response;
    if (redirects == 5) {
      return absl::UnavailableError(absl::StrCat(origin, " redirected more than 5 times"));
    }
    url = Resolve(url, location->second);
  }
}

std::string OriginOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t end = url.find_first_of("/?#", scheme + 3);
  return absl::AsciiStrToLower(url.substr(0, end));
}

bool IsLoopbackHttp(const std::string& url) {
  std::string origin = OriginOf(url);
  if (!absl::StartsWith(origin, "http://")) return false;
  std::string host = origin.substr(7);
  size_t at = host.rfind('@');
  if (at != std::string::npos) host = host.substr(at + 1);
  if (absl::StartsWith(host, "[::1]")) return true;
  host = host.substr(0, host.find(':'));
  in_addr address;
  if (inet_pton(AF_INET, host.c_str(), &address) == 1) {
    return (ntohl(address.s_addr) >> 24) == 127;  // 127.0.0.0/8, a literal address only
  }
  return host == "localhost";
}

absl::Status CheckFetchableUrl(const std::string& url, bool allow_loopback_http,
                               const std::string& what) {
  if (absl::StartsWith(OriginOf(url), "https://")) return absl::OkStatus();
  if (allow_loopback_http && IsLoopbackHttp(url)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, " must be an https URL", allow_loopback_http ? " (or http to a loopback host)" : "",
      ", not ", OriginOf(url).empty() ? url.substr(0, 40) : OriginOf(url)));
}

absl::Duration RetryAfter(const Response& response) {
  auto it = response.headers.find("retry-after");
  int64_t seconds = 0;
  if (it == response.headers.end() || !absl::SimpleAtoi(it->second, &seconds) || seconds < 0) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(seconds);
}

absl::Status StatusOf(const Response& response, const std::string& what) {
  if (response.status >= 200 && response.status < 300) return absl::OkStatus();
  std::string message =
      absl::StrCat(what, " answered HTTP ", response.status, ": ", Snippet(response.body));
  absl::StatusCode code;
  if (response.status == 429) {
    code = absl::StatusCode::kResourceExhausted;
  } else if (response.status >= 500) {
    code = absl::StatusCode::kUnavailable;
  } else if (response.status == 401 || response.status == 403) {
    code = absl::StatusCode::kPermissionDenied;
  } else if (response.status == 404) {
    code = absl::StatusCode::kNotFound;
  } else {
    code = absl::StatusCode::kInvalidArgument;
  }
  absl::Status status(code, message);
  absl::Duration retry_after = RetryAfter(response);
  if (retry_after > absl::ZeroDuration()) status = WithRetryAfter(status, retry_after);
  return status;
}

std::string Base64Encode(const std::string& bytes) { return absl::Base64Escape(bytes); }

absl::StatusOr<std::string> Base64Decode(const std::string& text) {
  std::string bytes;
  if (!absl::Base64Unescape(text, &bytes)) return absl::InvalidArgumentError("bad base64 data");
  return bytes;
}

}  // namespace cf::http
