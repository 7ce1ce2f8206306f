// The voiceover: text spoken by a voice, with the time of every word on screen. The voice's own
// word timing drives the captions; it is never guessed from the text's length.
#ifndef CF_SERVICES_ASSEMBLY_VOICE_H_
#define CF_SERVICES_ASSEMBLY_VOICE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/hash/sha256.h"

namespace cf::assembly {

// One word of the text as shown on screen, and when it is heard. A word the voice does not speak
// (an emoji, a word in a script the voice cannot read) takes its neighbour's time, so every word
// on screen still has one; `spoken` says which it was.
struct WordTiming {
  std::string text;
  double start_s = 0;
  double end_s = 0;
  bool spoken = false;
};

struct Speech {
  std::string audio_path;  // WAV
  double duration_s = 0;
  std::vector<WordTiming> words;
};

class VoiceProvider {
 public:
  virtual ~VoiceProvider() = default;
  // The voices this provider has; the first is the default.
  virtual std::vector<std::string> Voices() const = 0;
  // Speaks `text` with `voice` into `audio_path` (a WAV file).
  virtual absl::StatusOr<Speech> Speak(const std::string& text, const std::string& voice,
                                       const std::string& audio_path) = 0;
};

// The words of `text` as shown on screen: split on white space.
std::vector<std::string> ScreenWords(absl::string_view text);

// What of `word` an English voice can say: letters, digits and the punctuation that shapes
// speech; emoji, symbols and other scripts are dropped ("" when nothing is left).
std::string SpeakablePart(absl::string_view word);

// Gives each unspoken word the time of the nearest spoken word before it (or after it, at the
// start). Fails when no word at all is spoken.
absl::Status FillUnspokenTimes(std::vector<WordTiming>* words);

// The offline default: flite, linked as a library, with its US English voice "slt".
class FliteVoice final : public VoiceProvider {
 public:
  std::vector<std::string> Voices() const override { return {"slt"}; }
  absl::StatusOr<Speech> Speak(const std::string& text, const std::string& voice,
                               const std::string& audio_path) override;
};

// Speech kept per (provider, voice, text) in a folder, so a render that runs again neither
// synthesizes again nor, with a paid provider, pays again. The audio it answers with is the
// cached file (Speech.audio_path), not the path asked for.
class CachedVoice final : public VoiceProvider {
 public:
  // `provider` names the voice provider and its settings in the key (another provider's "slt",
  // or another model, is another voice). One text and voice is spoken once at a time, across
  // threads (a lock per key) and processes sharing the folder (flock on "<key>.lock").
  CachedVoice(VoiceProvider* inner, std::string folder, std::string provider)
      : inner_(inner), folder_(std::move(folder)), provider_(std::move(provider)) {}

  std::vector<std::string> Voices() const override { return inner_->Voices(); }
  absl::StatusOr<Speech> Speak(const std::string& text, const std::string& voice,
                               const std::string& audio_path) override;

 private:
  std::shared_ptr<std::mutex> LockFor(const std::string& key);

  VoiceProvider* inner_;
  std::string folder_;
  std::string provider_;
  std::mutex locks_mutex_;
  std::map<std::string, std::weak_ptr<std::mutex>> locks_;
};

// "<path>.partial-<pid>-<n>": a temporary name beside `path` that no other thread or process
// writing the same path uses.
std::string UniqueTempPath(const std::string& path);

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_VOICE_H_
