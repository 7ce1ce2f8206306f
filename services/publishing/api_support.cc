#include "services/publishing/api_support.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cf::publishing {

TokenSource::TokenSource(std::string platform, std::string access_token, std::string refresh_token,
                         Renew renew)
    : platform_(std::move(platform)),
      renew_(std::move(renew)),
      access_token_(std::move(access_token)),
      refresh_token_(std::move(refresh_token)) {}

std::string TokenSource::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return access_token_;
}

absl::StatusOr<std::string> TokenSource::RenewAfter(const std::string& seen) {
  // One renewal at a time; the calls that waited find it done and use its token.
  std::lock_guard<std::mutex> lock(mutex_);
  if (access_token_ != seen) return access_token_;
  if (!renew_) {
    return absl::PermissionDeniedError(
        absl::StrCat(platform_,
                     " says the access token expired, and there is no way to renew it here: set a "
                     "new one"));
  }
  absl::StatusOr<std::string> renewed = renew_(access_token_, &refresh_token_);
  if (!renewed.ok() && renewed.status().code() != absl::StatusCode::kPermissionDenied) {
    return renewed.status();  // the token endpoint is down or busy: retried later
  }
  if (!renewed.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat(platform_, "'s access token expired and renewing it failed (",
                     renewed.status().message(), "): sign in again and set new credentials"));
  }
  access_token_ = *renewed;
  return access_token_;
}

TokenSource::Renew OAuthRefresh(const std::string& url, const std::string& endpoint,
                                std::vector<std::pair<std::string, std::string>> client,
                                absl::Duration timeout) {
  return [=](const std::string&, std::string* refresh_token) -> absl::StatusOr<std::string> {
    http::Request request;
    request.method = "POST";
    request.url = url;
    request.timeout = timeout;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    std::vector<std::pair<std::string, std::string>> fields = client;
    fields.push_back({"grant_type", "refresh_token"});
    fields.push_back({"refresh_token", *refresh_token});
    request.body = FormEncode(fields);
    absl::StatusOr<http::Response> response = http::Send(request);
    if (!response.ok()) return response.status();
    const nlohmann::json body = JsonOf(response->body);
    const std::string token = TextAt(body, "access_token");
    if (response->status != 200 || token.empty()) {
      return RenewalRefused(endpoint, *response, TextAt(body, "error"));
    }
    const std::string rotated = TextAt(body, "refresh_token");
    if (!rotated.empty()) *refresh_token = rotated;
    return token;
  };
}

absl::StatusOr<http::Response> SendAuthorized(
    TokenSource& tokens, const std::function<http::Request(const std::string& token)>& make,
    const std::function<bool(const http::Response&)>& expired) {
  std::string token = tokens.Current();
  absl::StatusOr<http::Response> response = http::Send(make(token));
  if (!response.ok() || !expired(*response)) return response;
  absl::StatusOr<std::string> renewed = tokens.RenewAfter(token);
  if (!renewed.ok()) return renewed.status();
  response = http::Send(make(*renewed));
  if (response.ok() && expired(*response)) {
    return absl::PermissionDeniedError(
        "the platform refused a freshly renewed access token: check the app's permissions");
  }
  return response;
}

nlohmann::json JsonOf(const std::string& body) {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string TextAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

int64_t CountAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return -1;
  auto it = object.find(key);
  if (it == object.end()) return -1;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  int64_t value = 0;
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &value)) return value;
  return -1;
}

const nlohmann::json& ObjectAt(const nlohmann::json& object, const char* key) {
  static const nlohmann::json* empty = new nlohmann::json(nlohmann::json::object());
  if (!object.is_object()) return *empty;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : *empty;
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%",
                      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad2))));
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, UrlEncode(name), "=", UrlEncode(value));
  }
  return out;
}

absl::StatusOr<std::string> ReadFileRange(const std::string& path, int64_t offset, int64_t length) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::FailedPreconditionError(absl::StrCat("cannot open the video ", path));
  file.seekg(offset);
  std::string bytes(static_cast<size_t>(length), '\0');
  file.read(bytes.data(), length);
  if (file.gcount() != length) {
    return absl::FailedPreconditionError(
        absl::StrCat("the video ", path, " is shorter than expected"));
  }
  return bytes;
}

absl::Status RenewalRefused(const std::string& endpoint, const http::Response& response,
                            const std::string& error) {
  const std::string said = absl::StrCat(endpoint, " answered HTTP ", response.status,
                                        error.empty() ? "" : absl::StrCat(" ", error));
  if (response.status >= 500) return absl::UnavailableError(said);
  if (response.status == 429) return absl::ResourceExhaustedError(said);
  return absl::PermissionDeniedError(said);
}

std::string Answered(const http::Response& response) {
  std::string snippet = response.body.substr(0, 200);
  for (char& c : snippet) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return absl::StrCat("HTTP ", response.status, ": ", snippet);
}

}  // namespace cf::publishing
