#include "services/generation/google_providers.h"

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/http/http_client.h"
#include "common/media/ffmpeg.h"
#include "common/status/status.h"

namespace cf::generation {
namespace {

using nlohmann::json;

std::vector<std::pair<std::string, std::string>> Headers(const GoogleApiConfig& config) {
  return {{"x-goog-api-key", config.api_key}, {"Content-Type", "application/json"}};
}

// A JSON field under either spelling the API uses (camelCase or snake_case).
const json* Field(const json& object, const char* camel, const char* snake) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(camel);
  if (it != object.end()) return &*it;
  it = object.find(snake);
  return it != object.end() ? &*it : nullptr;
}

// Typed reads that never throw: a malformed reply reads as a missing field.
std::string StringAt(const json* value) {
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}
bool TrueAt(const json& object, const char* key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

absl::StatusOr<json> ParseJson(const std::string& body, const std::string& what) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::UnavailableError(absl::StrCat(what, " returned a body that is not JSON"));
  }
  return parsed;
}

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  return media::WriteAtomically(path, [&](const std::string& temp) {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    return file ? absl::OkStatus() : absl::InternalError("cannot write " + temp);
  });
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::FailedPreconditionError("cannot read " + path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// Why a Gemini answer carries no image (a safety block or a text-only answer).
std::string NoImageReason(const json& response) {
  std::vector<std::string> reasons;
  if (const json* feedback = Field(response, "promptFeedback", "prompt_feedback")) {
    std::string block = StringAt(Field(*feedback, "blockReason", "block_reason"));
    if (!block.empty()) reasons.push_back("prompt blocked: " + block);
  }
  const json* candidates = Field(response, "candidates", "candidates");
  if (candidates != nullptr && candidates->is_array() && !candidates->empty()) {
    std::string finish = StringAt(Field((*candidates)[0], "finishReason", "finish_reason"));
    if (!finish.empty()) reasons.push_back("finish reason: " + finish);
  }
  return reasons.empty() ? "no image in the answer" : absl::StrJoin(reasons, "; ");
}

}  // namespace

absl::Status GeminiImageProvider::Supports(const std::string& /*aspect_ratio*/) const {
  return absl::OkStatus();  // 9:16, 16:9, 1:1 and 4:5 are all Gemini ratios
}

absl::StatusOr<JobResult> GeminiImageProvider::Generate(const ClaimedJob& job,
                                                        const ProviderCall& call) {
  auto start = std::chrono::steady_clock::now();
  json body = {{"contents", json::array({{{"parts", json::array({{{"text", job.prompt}}})}}})},
               {"generationConfig",
                {{"responseModalities", {"TEXT", "IMAGE"}},
                 {"imageConfig", {{"aspectRatio", job.aspect_ratio}}}}}};
  http::Request request;
  request.method = "POST";
  request.url = absl::StrCat(config_.base_url, "/v1beta/models/", model(), ":generateContent");
  request.headers = Headers(config_);
  request.body = body.dump();
  request.timeout = config_.request_timeout;
  request.cancel = call.cancel;
  call.progress(10);
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  absl::Status status = http::StatusOf(*response, "Gemini");
  if (!status.ok()) return status;
  absl::StatusOr<json> parsed = ParseJson(response->body, "Gemini");
  if (!parsed.ok()) return parsed.status();
  const json* candidates = Field(*parsed, "candidates", "candidates");
  if (candidates != nullptr && candidates->is_array()) {
    for (const json& candidate : *candidates) {
      const json* content = Field(candidate, "content", "content");
      const json* parts = content ? Field(*content, "parts", "parts") : nullptr;
      if (parts == nullptr || !parts->is_array()) continue;
      for (const json& part : *parts) {
        const json* inline_data = Field(part, "inlineData", "inline_data");
        if (inline_data == nullptr) continue;
        std::string data = StringAt(Field(*inline_data, "data", "data"));
        if (data.empty()) continue;
        absl::StatusOr<std::string> bytes = http::Base64Decode(data);
        if (!bytes.ok()) return absl::UnavailableError("Gemini sent an undecodable image");
        std::string path = media_->PathFor("images", job.output_stem + ".png");
        absl::Status written = WriteFile(path, *bytes);
        if (!written.ok()) return written;
        absl::StatusOr<media::MediaInfo> info = media::Probe(path);
        if (!info.ok()) return absl::UnavailableError("Gemini sent an unreadable image");
        call.progress(100);
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return MediaResult(*info, *media_, path, model(), seconds, false);
      }
    }
  }
  // A safety block is a decision, not an outage: fail at once with the reason.
  return absl::FailedPreconditionError(
      absl::StrCat("Gemini returned no image (", NoImageReason(*parsed), ")"));
}

absl::Status VeoVideoProvider::Supports(const std::string& aspect_ratio,
                                        int duration_seconds) const {
  FieldViolations violations;
  if (aspect_ratio != "9:16" && aspect_ratio != "16:9") {
    violations.Add("aspect_ratio", "Veo makes 9:16 and 16:9 videos only");
  }
  if (duration_seconds != 4 && duration_seconds != 6 && duration_seconds != 8) {
    violations.Add("duration_seconds", "Veo makes 4, 6 or 8 second videos");
  }
  return violations.Build();
}

absl::StatusOr<std::string> VeoVideoProvider::Submit(const ClaimedJob& job) {
  absl::StatusOr<std::string> source = media_->LocalPathOf(job.source_image_url);
  if (!source.ok()) {
    return absl::FailedPreconditionError("the source image is not in the media folder");
  }
  absl::StatusOr<std::string> image = ReadFile(*source);
  if (!image.ok()) return image.status();
  json body = {{"instances", json::array({{{"prompt", job.prompt},
                                           {"image",
                                            {{"bytesBase64Encoded", http::Base64Encode(*image)},
                                             {"mimeType", "image/png"}}}}})},
               {"parameters",
                {{"aspectRatio", job.aspect_ratio},
                 {"durationSeconds", job.duration_seconds},
                 {"resolution", "720p"}}}};
  http::Request request;
  request.method = "POST";
  request.url = absl::StrCat(config_.base_url, "/v1beta/models/", model(), ":predictLongRunning");
  request.headers = Headers(config_);
  request.body = body.dump();
  request.timeout = config_.request_timeout;
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  absl::Status status = http::StatusOf(*response, "Veo");
  if (!status.ok()) return status;
  absl::StatusOr<json> parsed = ParseJson(response->body, "Veo");
  if (!parsed.ok()) return parsed.status();
  std::string name = StringAt(Field(*parsed, "name", "name"));
  if (name.empty()) return absl::UnavailableError("Veo accepted the video but named no operation");
  return name;
}

absl::StatusOr<JobResult> VeoVideoProvider::Download(const ClaimedJob& job, const std::string& uri,
                                                     const std::atomic<bool>* cancel) {
  http::Request request;
  request.url = uri;
  request.headers = {{"x-goog-api-key", config_.api_key}};
  request.follow_redirects = true;
  request.timeout = config_.download_timeout;
  request.max_body_bytes = size_t{1} << 30;
  request.cancel = cancel;
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  absl::Status status = http::StatusOf(*response, "Veo download");
  if (!status.ok()) return status;
  std::string path = media_->PathFor("videos", job.output_stem + ".mp4");
  absl::Status written = WriteFile(path, response->body);
  if (!written.ok()) return written;
  absl::StatusOr<media::MediaInfo> info = media::Probe(path);
  if (!info.ok()) return absl::UnavailableError("Veo sent an unreadable video");
  return MediaResult(*info, *media_, path, model(), 0, true);
}

absl::StatusOr<JobResult> VeoVideoProvider::Generate(const ClaimedJob& job,
                                                     const RevealImages& /*reveal*/,
                                                     const ProviderCall& call) {
  std::string operation = job.provider_job_id;
  if (operation.empty()) {
    absl::StatusOr<std::string> submitted = Submit(job);
    if (!submitted.ok()) return submitted.status();
    // Stored before polling: a crash from here on resumes this operation, never resubmits.
    if (!call.record_provider_job(*submitted)) {
      return absl::CancelledError("the job was taken over while submitting");
    }
    call.progress(5);
    return jobs::PollLater(config_.poll_interval);
  }
  http::Request request;
  request.url = absl::StrCat(config_.base_url, "/v1beta/", operation);
  request.headers = Headers(config_);
  request.timeout = config_.request_timeout;
  request.cancel = call.cancel;  // a poll may be cut short by shutdown; the next one resumes
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  absl::Status status = http::StatusOf(*response, "Veo operation");
  if (!status.ok()) return status;
  absl::StatusOr<json> parsed = ParseJson(response->body, "Veo operation");
  if (!parsed.ok()) return parsed.status();
  if (!TrueAt(*parsed, "done")) {
    if (parsed->is_object() && parsed->contains("done") && !(*parsed)["done"].is_boolean()) {
      return absl::UnavailableError("Veo answered the operation with a malformed body");
    }
    return jobs::PollLater(config_.poll_interval);
  }
  if (const json* error = Field(*parsed, "error", "error")) {
    const json* code = Field(*error, "code", "code");
    std::string message = StringAt(Field(*error, "message", "message"));
    return absl::FailedPreconditionError(absl::StrCat(
        "Veo failed the video (", code != nullptr && code->is_number_integer() ? code->dump() : "?",
        "): ", message.empty() ? "no message" : message));
  }
  const json* result = Field(*parsed, "response", "response");
  const json* video_response =
      result ? Field(*result, "generateVideoResponse", "generate_video_response") : nullptr;
  const json* samples =
      video_response ? Field(*video_response, "generatedSamples", "generated_samples") : nullptr;
  if (samples == nullptr || !samples->is_array() || samples->empty()) {
    std::string reasons;
    if (video_response != nullptr) {
      const json* why =
          Field(*video_response, "raiMediaFilteredReasons", "rai_media_filtered_reasons");
      if (why != nullptr) reasons = why->dump();
    }
    return absl::FailedPreconditionError(
        absl::StrCat("Veo filtered the video", reasons.empty() ? "" : ": " + reasons));
  }
  const json* video = Field((*samples)[0], "video", "video");
  std::string uri = video != nullptr ? StringAt(Field(*video, "uri", "uri")) : "";
  if (uri.empty()) return absl::UnavailableError("Veo finished without a video URI");
  // The key travels with the download: only to https, or to the loopback fake the base URL
  // itself points at.
  absl::Status fetchable =
      http::CheckFetchableUrl(uri, http::IsLoopbackHttp(config_.base_url), "the Veo video URI");
  if (!fetchable.ok()) return absl::FailedPreconditionError(fetchable.message());
  call.progress(90);
  absl::StatusOr<JobResult> downloaded = Download(job, uri, call.cancel);
  if (!downloaded.ok()) return downloaded.status();
  downloaded->provider_job_id = operation;
  call.progress(100);
  return downloaded;
}

}  // namespace cf::generation
