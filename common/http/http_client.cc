#include "common/http/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
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

size_t WriteBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
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

absl::StatusOr<Response> Send(const Request& request) {
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  Response response;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
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
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat("no answer from ", request.url, " within ",
                                                    absl::FormatDuration(request.timeout)));
  }
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", request.url, ": ", curl_easy_strerror(code)));
  }
  response.status = static_cast<int>(status);
  return response;
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
