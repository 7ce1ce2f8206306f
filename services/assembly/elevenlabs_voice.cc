#include "services/assembly/elevenlabs_voice.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/http/http_client.h"
#include "common/media/ffmpeg.h"

namespace cf::assembly {
namespace {

bool IsSpace(const std::string& character) {
  return character.size() == 1 && absl::ascii_isspace(static_cast<unsigned char>(character[0]));
}

// The array of `key` in `object` as T, or nullopt when it is missing or of another type.
template <typename T>
std::optional<std::vector<T>> ArrayOf(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) return std::nullopt;
  std::vector<T> values;
  for (const nlohmann::json& item : object[key]) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!item.is_string()) return std::nullopt;
    } else {
      if (!item.is_number()) return std::nullopt;
    }
    values.push_back(item.get<T>());
  }
  return values;
}

absl::Status NotDocumented(const std::string& what) {
  return absl::UnavailableError(
      absl::StrCat("ElevenLabs answered with a body that is not the documented JSON (", what, ")"));
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseVoiceList(const std::string& list) {
  std::map<std::string, std::string> voices;
  for (absl::string_view entry : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::vector<std::string> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("elevenlabs_voices: \"", entry, "\" is not name=voice_id"));
    }
    voices[std::string(absl::StripAsciiWhitespace(parts[0]))] =
        std::string(absl::StripAsciiWhitespace(parts[1]));
  }
  if (voices.empty()) return absl::InvalidArgumentError("elevenlabs_voices names no voice");
  return voices;
}

absl::StatusOr<std::vector<WordTiming>> WordsFromAlignment(
    const std::vector<std::string>& screen_words, const std::vector<std::string>& characters,
    const std::vector<double>& starts, const std::vector<double>& ends) {
  if (characters.size() != starts.size() || characters.size() != ends.size()) {
    return NotDocumented("the alignment's arrays differ in length");
  }
  std::vector<WordTiming> words;
  bool in_word = false;
  for (size_t i = 0; i < characters.size(); ++i) {
    if (IsSpace(characters[i])) {
      in_word = false;
      continue;
    }
    if (!in_word) {
      words.push_back({"", starts[i], ends[i], false});
      in_word = true;
    }
    words.back().text += characters[i];
    words.back().end_s = ends[i];
  }
  if (words.size() != screen_words.size()) {
    return NotDocumented(absl::StrCat("its alignment has ", words.size(), " words where ",
                                      screen_words.size(), " were sent"));
  }
  for (size_t i = 0; i < words.size(); ++i) {
    words[i].text = screen_words[i];
    words[i].spoken = words[i].end_s > words[i].start_s;
  }
  absl::Status filled = FillUnspokenTimes(&words);
  if (!filled.ok()) return filled;
  return words;
}

std::vector<std::string> ElevenLabsVoice::Voices() const {
  std::vector<std::string> names;
  for (const auto& [name, id] : config_.voices) names.push_back(name);
  return names;
}

absl::StatusOr<Speech> ElevenLabsVoice::Speak(const std::string& text, const std::string& voice,
                                              const std::string& audio_path) {
  auto id = config_.voices.find(voice);
  if (id == config_.voices.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown voice \"", voice, "\"; ElevenLabs has here: ", absl::StrJoin(Voices(), ", ")));
  }
  const std::vector<std::string> screen_words = ScreenWords(text);
  http::Request request;
  request.method = "POST";
  request.url = absl::StrCat(config_.base_url, "/v1/text-to-speech/", id->second,
                             "/with-timestamps?output_format=mp3_44100_128");
  request.headers = {{"xi-api-key", config_.api_key}, {"Content-Type", "application/json"}};
  request.secret_headers = {"xi-api-key"};
  request.timeout = config_.timeout;
  // Sent as shown on screen, words separated by single spaces, so the alignment's words are
  // the screen's words.
  request.body =
      nlohmann::json{{"text", absl::StrJoin(screen_words, " ")},
                     {"model_id", config_.model},
                     {"voice_settings", {{"stability", 0.5}, {"similarity_boost", 0.75}}}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return response.status();
  if (response->status == 401 || response->status == 403) {
    return absl::FailedPreconditionError(
        absl::StrCat("ElevenLabs refused the API key (HTTP ", response->status,
                     "): set CF_ELEVENLABS_API_KEY or CF_ELEVENLABS_API_KEY_FILE to a valid key"));
  }
  if (response->status == 422) {
    const nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
    std::string detail = body.is_object() && body.contains("detail") ? body["detail"].dump() : "";
    return absl::InvalidArgumentError(
        absl::StrCat("ElevenLabs refused the request (HTTP 422): ", detail));
  }
  absl::Status answered = http::StatusOf(*response, "ElevenLabs");
  if (!answered.ok()) return answered;

  const nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("audio_base64") || !body["audio_base64"].is_string()) {
    return NotDocumented("no audio_base64");
  }
  const nlohmann::json alignment = body.value("alignment", nlohmann::json());
  auto characters = ArrayOf<std::string>(alignment, "characters");
  auto starts = ArrayOf<double>(alignment, "character_start_times_seconds");
  auto ends = ArrayOf<double>(alignment, "character_end_times_seconds");
  if (!characters || !starts || !ends) return NotDocumented("no alignment");
  absl::StatusOr<std::vector<WordTiming>> words =
      WordsFromAlignment(screen_words, *characters, *starts, *ends);
  if (!words.ok()) return words.status();
  absl::StatusOr<std::string> mp3 = http::Base64Decode(body["audio_base64"].get<std::string>());
  if (!mp3.ok()) return NotDocumented("audio_base64 is not base64");

  // MP3 in, the renderer's WAV out.
  const std::string mp3_path = UniqueTempPath(audio_path) + ".mp3";
  {
    std::ofstream file(mp3_path, std::ios::binary);
    file << *mp3;
    if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", mp3_path));
  }
  media::RenderOptions options;
  options.timeout = absl::Minutes(2);
  absl::Status converted = media::WriteAtomically(audio_path, [&](const std::string& temp) {
    return media::RunFfmpeg({"-i", mp3_path, "-ar", "44100", "-ac", "1", temp}, options);
  });
  unlink(mp3_path.c_str());
  if (!converted.ok()) return converted;
  absl::StatusOr<media::MediaInfo> info = media::Probe(audio_path);
  if (!info.ok()) return info.status();
  Speech speech;
  speech.audio_path = audio_path;
  speech.duration_s = std::max(info->duration, words->back().end_s);
  speech.words = std::move(*words);
  return speech;
}

}  // namespace cf::assembly
