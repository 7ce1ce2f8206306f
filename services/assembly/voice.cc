#include "services/assembly/voice.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

extern "C" {
#include <flite/flite.h>
cst_voice* register_cmu_us_slt(const char* voxdir);
}

namespace cf::assembly {
namespace {

// flite keeps global state (its voice registry, its lexicon caches): one synthesis at a time.
std::mutex& FliteMutex() {
  static std::mutex mutex;
  return mutex;
}

cst_voice* SltVoice() {
  static cst_voice* voice = [] {
    flite_init();
    return register_cmu_us_slt(nullptr);
  }();
  return voice;
}

}  // namespace

std::vector<std::string> ScreenWords(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
}

std::string SpeakablePart(absl::string_view word) {
  std::string speakable;
  for (char c : word) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) continue;  // not ASCII: emoji, symbols, other scripts
    if (absl::ascii_isalnum(byte) || absl::StrContains(".,!?'$%&-:;", c)) speakable += c;
  }
  // Punctuation alone is nothing to say.
  for (char c : speakable) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return speakable;
  }
  return "";
}

absl::Status FillUnspokenTimes(std::vector<WordTiming>* words) {
  const WordTiming* previous = nullptr;  // the last spoken word so far
  const WordTiming* first_spoken = nullptr;
  for (const WordTiming& word : *words) {
    if (word.spoken) {
      first_spoken = &word;
      break;
    }
  }
  if (first_spoken == nullptr) {
    return absl::InvalidArgumentError("the text has no word the voice can say");
  }
  for (WordTiming& word : *words) {
    if (word.spoken) {
      previous = &word;
    } else {
      // Shown beside its spoken neighbour, taking no time of its own: after the one before it,
      // or before the first one when nothing was said yet.
      word.start_s = word.end_s = previous != nullptr ? previous->end_s : first_spoken->start_s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Speech> FliteVoice::Speak(const std::string& text, const std::string& voice,
                                         const std::string& audio_path) {
  if (voice != "slt") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown voice \"", voice, "\"; flite has: slt"));
  }
  Speech speech;
  speech.audio_path = audio_path;
  std::vector<std::string> said;  // one entry per spoken screen word, in order
  std::vector<int> screen_index;
  for (const std::string& word : ScreenWords(text)) {
    WordTiming timing;
    timing.text = word;
    std::string speakable = SpeakablePart(word);
    if (!speakable.empty()) {
      said.push_back(speakable);
      screen_index.push_back(static_cast<int>(speech.words.size()));
    }
    speech.words.push_back(std::move(timing));
  }
  if (said.empty()) return absl::InvalidArgumentError("the text has no word the voice can say");

  std::lock_guard<std::mutex> lock(FliteMutex());
  cst_utterance* utterance = flite_synth_text(absl::StrJoin(said, " ").c_str(), SltVoice());
  if (utterance == nullptr) return absl::InternalError("flite could not synthesize the text");
  // flite's tokens are the white-space separated words it was given, in order; a token's words
  // (a price says several) run from its first word's first sound to its last word's last one.
  int token_number = 0;
  for (cst_item* token = relation_head(utt_relation(utterance, "Token")); token != nullptr;
       token = item_next(token), ++token_number) {
    cst_item* first = item_daughter(token);
    if (first == nullptr || token_number >= static_cast<int>(screen_index.size())) continue;
    cst_item* last = first;
    while (item_next(last) != nullptr) last = item_next(last);
    WordTiming& word = speech.words[screen_index[token_number]];
    word.start_s = ffeature_float(first, "R:SylStructure.daughter1.daughter1.R:Segment.p.end");
    word.end_s = ffeature_float(last, "R:SylStructure.daughtern.daughtern.R:Segment.end");
    word.spoken = word.end_s > word.start_s;
  }
  cst_wave* wave = utt_wave(utterance);
  speech.duration_s = static_cast<double>(cst_wave_num_samples(wave)) / cst_wave_sample_rate(wave);
  const std::string partial = UniqueTempPath(audio_path);
  const int saved = cst_wave_save_riff(wave, partial.c_str());
  delete_utterance(utterance);
  if (token_number != static_cast<int>(said.size())) {
    unlink(partial.c_str());
    return absl::InternalError(
        absl::StrCat("flite read ", token_number, " words where it was given ", said.size()));
  }
  if (saved != CST_OK_FORMAT || std::rename(partial.c_str(), audio_path.c_str()) != 0) {
    unlink(partial.c_str());
    return absl::UnavailableError(absl::StrCat("cannot write the voiceover to ", audio_path));
  }
  absl::Status filled = FillUnspokenTimes(&speech.words);
  if (!filled.ok()) return filled;
  return speech;
}

namespace {

nlohmann::json SpeechToJson(const Speech& speech) {
  nlohmann::json words = nlohmann::json::array();
  for (const WordTiming& word : speech.words) {
    words.push_back({word.text, word.start_s, word.end_s, word.spoken});
  }
  return {{"duration", speech.duration_s}, {"words", words}};
}

// The cached speech, or nullopt when the entry is missing or unreadable (made again then).
std::optional<Speech> ReadCached(const std::string& audio, const std::string& timing) {
  struct stat info;
  if (stat(audio.c_str(), &info) != 0) return std::nullopt;
  std::ifstream file(timing);
  if (!file) return std::nullopt;
  const nlohmann::json json = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("words") || !json["words"].is_array() ||
      !json.value("duration", nlohmann::json()).is_number()) {
    return std::nullopt;
  }
  Speech speech;
  speech.audio_path = audio;
  speech.duration_s = json["duration"].get<double>();
  for (const nlohmann::json& word : json["words"]) {
    if (!word.is_array() || word.size() != 4 || !word[0].is_string() || !word[1].is_number() ||
        !word[2].is_number() || !word[3].is_boolean()) {
      return std::nullopt;
    }
    speech.words.push_back({word[0].get<std::string>(), word[1].get<double>(),
                            word[2].get<double>(), word[3].get<bool>()});
  }
  return speech;
}

}  // namespace

std::string UniqueTempPath(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat(path, ".partial-", getpid(), "-", ++counter);
}

std::shared_ptr<std::mutex> CachedVoice::LockFor(const std::string& key) {
  std::lock_guard<std::mutex> guard(locks_mutex_);
  std::shared_ptr<std::mutex> lock = locks_[key].lock();
  if (lock == nullptr) {
    lock = std::make_shared<std::mutex>();
    locks_[key] = lock;
  }
  for (auto it = locks_.begin(); it != locks_.end();) {  // forget keys nobody holds
    it = it->second.expired() ? locks_.erase(it) : std::next(it);
  }
  return lock;
}

absl::StatusOr<Speech> CachedVoice::Speak(const std::string& text, const std::string& voice,
                                          const std::string& /*audio_path*/) {
  const std::string key = Sha256Hex(absl::StrCat(provider_, "\n", voice, "\n", text));
  const std::string audio = absl::StrCat(folder_, "/", key, ".wav");
  const std::string timing = absl::StrCat(folder_, "/", key, ".json");
  if (std::optional<Speech> cached = ReadCached(audio, timing)) return *cached;
  // Spoken once: other threads wait on the key's lock, other processes on its lock file.
  std::shared_ptr<std::mutex> thread_lock = LockFor(key);
  std::lock_guard<std::mutex> in_process(*thread_lock);
  const std::string lock_path = absl::StrCat(folder_, "/", key, ".lock");
  const int lock_file = open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_file >= 0) flock(lock_file, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) close(fd);  // closing releases the flock
    }
  } unlock{lock_file};
  if (std::optional<Speech> cached = ReadCached(audio, timing)) return *cached;
  absl::StatusOr<Speech> speech = inner_->Speak(text, voice, audio);
  if (!speech.ok()) return speech;
  // The timing file is written last and renamed into place: its presence marks a whole entry.
  const std::string partial = UniqueTempPath(timing);
  {
    std::ofstream file(partial);
    file << SpeechToJson(*speech).dump();
    if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", partial));
  }
  if (std::rename(partial.c_str(), timing.c_str()) != 0) {
    unlink(partial.c_str());
    return absl::UnavailableError(absl::StrCat("cannot write ", timing));
  }
  return speech;
}

}  // namespace cf::assembly
