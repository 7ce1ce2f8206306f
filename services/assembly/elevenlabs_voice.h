// The ElevenLabs voice (text-to-speech with timestamps), selected by configuration
// (CF_VOICE_PROVIDER=elevenlabs). Its per-character alignment gives each word on screen its
// time; the MP3 it answers with becomes the WAV the renderer takes.
#ifndef CF_SERVICES_ASSEMBLY_ELEVENLABS_VOICE_H_
#define CF_SERVICES_ASSEMBLY_ELEVENLABS_VOICE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/assembly/voice.h"

namespace cf::assembly {

struct ElevenLabsConfig {
  std::string api_key;  // secret: CF_ELEVENLABS_API_KEY or CF_ELEVENLABS_API_KEY_FILE
  std::string base_url = "https://api.elevenlabs.io";
  std::string model = "eleven_multilingual_v2";
  // Names callers choose from, and ElevenLabs' voice ids (two of its premade voices by default).
  std::map<std::string, std::string> voices = {{"rachel", "21m00Tcm4TlvDq8ikWAM"},
                                               {"adam", "pNInz6obpgDQGcFmaJgB"}};
  absl::Duration timeout = absl::Seconds(120);
};

// "name=id,name=id" (CF_ELEVENLABS_VOICES), or INVALID_ARGUMENT.
absl::StatusOr<std::map<std::string, std::string>> ParseVoiceList(const std::string& list);

// Word times from ElevenLabs' alignment: `characters` (one string each) with their start and
// end seconds. The words are the white-space separated runs, which must match `screen_words`.
absl::StatusOr<std::vector<WordTiming>> WordsFromAlignment(
    const std::vector<std::string>& screen_words, const std::vector<std::string>& characters,
    const std::vector<double>& starts, const std::vector<double>& ends);

class ElevenLabsVoice final : public VoiceProvider {
 public:
  explicit ElevenLabsVoice(ElevenLabsConfig config) : config_(std::move(config)) {}

  std::vector<std::string> Voices() const override;
  // 401/403: FAILED_PRECONDITION (the key; not retried). 422: INVALID_ARGUMENT with ElevenLabs'
  // detail (not retried). 429: RESOURCE_EXHAUSTED with Retry-After, 5xx and a body that is not
  // the documented JSON: UNAVAILABLE (both retried).
  absl::StatusOr<Speech> Speak(const std::string& text, const std::string& voice,
                               const std::string& audio_path) override;

 private:
  ElevenLabsConfig config_;
};

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_ELEVENLABS_VOICE_H_
