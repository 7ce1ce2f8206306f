#include "services/assembly/voice.h"

#include <atomic>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf::assembly {
namespace {

TEST(VoiceTest, SpeakablePartKeepsWhatAnEnglishVoiceCanSay) {
  EXPECT_EQ(SpeakablePart("skin?"), "skin?");
  EXPECT_EQ(SpeakablePart("$19.99"), "$19.99");
  EXPECT_EQ(SpeakablePart("\xf0\x9f\x94\xa5"), "");          // 🔥
  EXPECT_EQ(SpeakablePart("\xe4\xbd\xa0\xe5\xa5\xbd"), "");  // 你好
  EXPECT_EQ(SpeakablePart("glow\xf0\x9f\x94\xa5"), "glow");  // glow🔥
  EXPECT_EQ(SpeakablePart("{\\b1}"), "b1");                  // ASS braces are not said
  EXPECT_EQ(SpeakablePart("--"), "");
}

TEST(VoiceTest, UnspokenWordsTakeTheirNeighboursTime) {
  std::vector<WordTiming> words = {{"\xf0\x9f\x94\xa5", 0, 0, false},
                                   {"Meet", 0.2, 0.5, true},
                                   {"\xe4\xbd\xa0\xe5\xa5\xbd", 0, 0, false},
                                   {"Glow", 0.6, 0.9, true}};
  ASSERT_TRUE(FillUnspokenTimes(&words).ok());
  EXPECT_DOUBLE_EQ(words[0].start_s, 0.2);  // before anything was said: the first spoken word
  EXPECT_DOUBLE_EQ(words[2].start_s, 0.5);  // after "Meet"
  EXPECT_DOUBLE_EQ(words[2].end_s, 0.5);
  std::vector<WordTiming> silent = {{"\xf0\x9f\x94\xa5", 0, 0, false}};
  EXPECT_EQ(FillUnspokenTimes(&silent).code(), absl::StatusCode::kInvalidArgument);
}

// Real speech: every word on screen gets a time, in order, inside the audio, and the audio is
// not silent.
TEST(VoiceTest, FliteSpeaksWithWordTimes) {
  FliteVoice voice;
  const std::string path = testing::TestTempPath("voice.wav");
  const std::string text =
      "Tired of dull skin? \xf0\x9f\x94\xa5 Meet Glow Serum, only $19.99 \xe4\xbd\xa0\xe5\xa5\xbd "
      "today!";
  absl::StatusOr<Speech> speech = voice.Speak(text, "slt", path);
  ASSERT_TRUE(speech.ok()) << speech.status();
  ASSERT_EQ(speech->words.size(), 12u);
  EXPECT_EQ(speech->words[4].text, "\xf0\x9f\x94\xa5");
  EXPECT_FALSE(speech->words[4].spoken);
  EXPECT_TRUE(speech->words[3].spoken);
  EXPECT_DOUBLE_EQ(speech->words[4].start_s, speech->words[3].end_s);
  double last_end = 0;
  for (const WordTiming& word : speech->words) {
    SCOPED_TRACE(word.text);
    EXPECT_GE(word.start_s, last_end - 1e-6);
    EXPECT_GE(word.end_s, word.start_s);
    if (word.spoken) EXPECT_GT(word.end_s - word.start_s, 0.05);
    last_end = word.end_s;
  }
  // "$19.99" is said as five words ("nineteen dollars ninety nine cents"): a long one.
  EXPECT_GT(speech->words[9].end_s - speech->words[9].start_s, 1.0);
  EXPECT_FALSE(speech->words[10].spoken);  // 你好: slt reads English only
  EXPECT_LE(last_end, speech->duration_s + 1e-6);
  EXPECT_GT(speech->duration_s, 3.0);

  std::string probe = testing::CommandOutput(
      "ffprobe -v error -show_entries format=duration -of csv=p=0 '" + path + "'");
  EXPECT_NEAR(std::stod(probe.empty() ? "0" : probe), speech->duration_s, 0.05);
  std::string volume = testing::CommandOutput("ffmpeg -hide_banner -nostats -i '" + path +
                                              "' -af volumedetect -f null - 2>&1");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(volume, match, std::regex("mean_volume: (-?[0-9.]+) dB")))
      << volume;
  EXPECT_GT(std::stod(match[1]), -35.0) << "the voiceover is (nearly) silent";
}

TEST(VoiceTest, UnknownVoiceOrNothingToSayIsInvalid) {
  FliteVoice voice;
  const std::string path = testing::TestTempPath("none.wav");
  EXPECT_EQ(voice.Speak("hello", "morgan", path).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(voice.Speak("\xf0\x9f\x94\xa5 \xe4\xbd\xa0", "slt", path).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Counts what reaches the real voice.
class CountingVoice final : public VoiceProvider {
 public:
  std::vector<std::string> Voices() const override { return flite.Voices(); }
  absl::StatusOr<Speech> Speak(const std::string& text, const std::string& voice,
                               const std::string& audio_path) override {
    ++calls;
    return flite.Speak(text, voice, audio_path);
  }
  FliteVoice flite;
  std::atomic<int> calls{0};
};

TEST(VoiceTest, TheSameTextAndVoiceAreSpokenOnce) {
  CountingVoice counting;
  const std::string folder = testing::TestTempPath("");
  CachedVoice cached(&counting, folder, "flite");
  auto first = cached.Speak("Glow today!", "slt", "unused.wav");
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = cached.Speak("Glow today!", "slt", "unused.wav");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(counting.calls, 1);
  EXPECT_EQ(again->audio_path, first->audio_path);
  EXPECT_DOUBLE_EQ(again->duration_s, first->duration_s);
  ASSERT_EQ(again->words.size(), first->words.size());
  EXPECT_DOUBLE_EQ(again->words[1].end_s, first->words[1].end_s);
  EXPECT_EQ(again->words[1].text, "today!");
  ASSERT_TRUE(cached.Speak("Glow tomorrow!", "slt", "unused.wav").ok());
  EXPECT_EQ(counting.calls, 2);  // other text: spoken
  // A damaged entry is made again, not trusted.
  const std::string timing = first->audio_path.substr(0, first->audio_path.size() - 4) + ".json";
  std::ofstream(timing) << "{not json";
  ASSERT_TRUE(cached.Speak("Glow today!", "slt", "unused.wav").ok());
  EXPECT_EQ(counting.calls, 3);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Renders of one script at once: the voice speaks it once, and both get the same whole entry.
TEST(VoiceTest, ConcurrentRequestsForOneTextSpeakOnce) {
  CountingVoice counting;
  CachedVoice cached(&counting, testing::TestTempPath(""), "flite-concurrent");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto speech = cached.Speak("Four renders, one voice.", "slt", "unused.wav");
      if (speech.ok() && speech->words.size() == 4) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(counting.calls, 1);
}

}  // namespace
}  // namespace cf::assembly
