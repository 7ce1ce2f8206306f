#include "services/publishing/api_support.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace cf::publishing {

TokenSource::TokenSource(std::string platform, std::string access_token, std::string refresh_token,
                         Renew renew, double renew_ahead)
    : platform_(std::move(platform)), renew_(std::move(renew)), renew_ahead_(renew_ahead) {
  grant_.access_token = std::move(access_token);
  grant_.refresh_token = std::move(refresh_token);
}

absl::Status TokenSource::UseStore(std::unique_ptr<Store> store) {
  absl::StatusOr<std::optional<Grant>> stored = store->Load();
  if (!stored.ok()) return stored.status();
  std::lock_guard<std::mutex> renewing(renew_mutex_);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stored->has_value()) grant_ = **stored;
  store_ = std::move(store);
  return absl::OkStatus();
}

std::string TokenSource::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return grant_.access_token;
}

Grant TokenSource::CurrentGrant() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return grant_;
}

absl::StatusOr<std::string> TokenSource::RenewAfter(const std::string& seen) {
  // One renewal at a time in this process (and, through the store, across replicas); the
  // calls that waited find it done and use its token. Current() never waits for it.
  std::lock_guard<std::mutex> renewing(renew_mutex_);
  const Grant current = CurrentGrant();
  if (current.access_token != seen) return current.access_token;
  if (!renew_) {
    return absl::PermissionDeniedError(
        absl::StrCat(platform_,
                     " says the access token expired, and there is no way to renew it here: set a "
                     "new one"));
  }
  absl::StatusOr<Grant> renewed =
      store_ != nullptr ? store_->RenewLocked(seen, renew_) : renew_(current);
  if (!renewed.ok() && renewed.status().code() != absl::StatusCode::kPermissionDenied) {
    return renewed.status();  // the token endpoint (or the database) is down or busy
  }
  if (!renewed.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat(platform_, "'s access token could not be renewed (",
                     renewed.status().message(), "): sign in again and set new credentials"));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  grant_ = *renewed;
  return grant_.access_token;
}

bool TokenSource::Expiring(const Grant& grant, absl::Time now) const {
  if (renew_ahead_ <= 0 || !renew_) return false;
  // Never renewed here: renewing is how to learn its expiry. Renewed without one: it does not
  // expire.
  if (grant.issued_at == absl::InfinitePast()) return true;
  if (grant.expires_at == absl::InfiniteFuture()) return false;
  return grant.expires_at - now < (grant.expires_at - grant.issued_at) * renew_ahead_;
}

absl::Status TokenSource::RenewIfExpiring(absl::Time now) {
  const Grant current = CurrentGrant();
  if (!Expiring(current, now)) return absl::OkStatus();
  return RenewAfter(current.access_token).status();
}

void SetLifetime(Grant& grant, absl::Time asked, const nlohmann::json& answer) {
  grant.issued_at = asked;
  const int64_t lifetime = CountAt(answer, "expires_in");
  if (lifetime > 0) grant.expires_at = asked + absl::Seconds(lifetime);
}

TokenSource::Renew OAuthRefresh(const std::string& url, const std::string& endpoint,
                                std::vector<std::pair<std::string, std::string>> client,
                                absl::Duration timeout) {
  return [=](const Grant& current) -> absl::StatusOr<Grant> {
    http::Request request;
    request.method = "POST";
    request.url = url;
    request.timeout = timeout;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    std::vector<std::pair<std::string, std::string>> fields = client;
    fields.push_back({"grant_type", "refresh_token"});
    fields.push_back({"refresh_token", current.refresh_token});
    request.body = FormEncode(fields);
    const absl::Time asked = absl::Now();
    absl::StatusOr<http::Response> response = http::Send(request);
    if (!response.ok()) return response.status();
    const nlohmann::json body = JsonOf(response->body);
    Grant renewed;
    renewed.access_token = TextAt(body, "access_token");
    if (response->status != 200 || renewed.access_token.empty()) {
      return RenewalRefused(endpoint, *response, TextAt(body, "error"));
    }
    const std::string rotated = TextAt(body, "refresh_token");
    renewed.refresh_token = rotated.empty() ? current.refresh_token : rotated;
    SetLifetime(renewed, asked, body);
    return renewed;
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
