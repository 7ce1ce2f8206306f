#include "services/assembly/renderer.h"

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "common/platforms/platforms.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/assembly/captions.h"
#include "services/assembly/voice.h"

namespace cf::assembly {
namespace {

std::string Make(const std::string& name, const std::string& source, const std::string& extra) {
  const std::string path = testing::TestTempPath(name);
  testing::CommandOutput("ffmpeg -hide_banner -nostdin -y -loglevel error -f lavfi -i '" + source +
                         "' " + extra + " '" + path + "' 2>&1");
  return path;
}

double MeanVolume(const std::string& path, double from, double to) {
  std::string log = testing::CommandOutput("ffmpeg -hide_banner -nostdin -nostats -ss " +
                                           std::to_string(from) + " -to " + std::to_string(to) +
                                           " -i '" + path + "' -af volumedetect -f null - 2>&1");
  std::smatch match;
  if (!std::regex_search(log, match, std::regex("mean_volume: (-?[0-9.]+) dB"))) {
    ADD_FAILURE() << "volumedetect measured nothing:\n" << log;
    return 0;
  }
  return std::stod(match[1]);
}

TEST(RendererTest, WithoutMusicTheVoiceIsTheSoundtrack) {
  RenderPlan plan;
  plan.clips = {"a.mp4"};
  plan.voice = "v.wav";
  plan.captions = "/tmp/c.ass";
  plan.width = 1080;
  plan.height = 1920;
  plan.duration_s = 4;
  auto args = RenderArguments(plan, "out.mp4");
  ASSERT_TRUE(args.ok()) << args.status();
  std::string all = absl::StrJoin(*args, " ");
  EXPECT_FALSE(absl::StrContains(all, "sidechaincompress"));
  EXPECT_TRUE(absl::StrContains(all, "[aout]"));
  EXPECT_TRUE(absl::StrContains(all, "+faststart"));
  plan.captions = "/tmp/it's here.ass";  // a quote would end the filter's argument
  EXPECT_EQ(RenderArguments(plan, "out.mp4").status().code(), absl::StatusCode::kInvalidArgument);
  plan.clips.clear();
  plan.captions = "/tmp/c.ass";
  EXPECT_EQ(RenderArguments(plan, "out.mp4").status().code(), absl::StatusCode::kInvalidArgument);
}

// A real render for TikTok: two clips of other shapes (one shorter than its shot), a still, the
// voice, captions and ducked music; checked with ffprobe and volumedetect.
TEST(RendererTest, RendersAPlatformReadyVideo) {
  const std::string wide = Make("wide.mp4", "testsrc=s=1280x720:r=30:d=2", "-pix_fmt yuv420p");
  const std::string square = Make("square.mp4", "testsrc2=s=720x720:r=30:d=1", "-pix_fmt yuv420p");
  const std::string still = Make("still.png", "testsrc=s=800x600", "-frames:v 1");

  FliteVoice voice;
  const std::string voice_path = testing::TestTempPath("voice.wav");
  auto speech = voice.Speak("Tired of dull skin? Meet Glow Serum. Tap the link and glow today!",
                            "slt", voice_path);
  ASSERT_TRUE(speech.ok()) << speech.status();

  const platforms::PlatformSpec& tiktok = *platforms::FindPlatform("tiktok");
  RenderPlan plan;
  plan.clips = {wide, square};
  plan.stills = {still};
  plan.voice = voice_path;
  plan.width = 1080;
  plan.height = 1920;
  plan.duration_s = speech->duration_s + 0.6;
  plan.captions = testing::TestTempPath("captions.ass");
  std::ofstream(plan.captions) << CaptionDocument(speech->words, CaptionStyles().front(),
                                                  {plan.width, plan.height, tiktok.safe_zone},
                                                  "#ad Commission earned", plan.duration_s);
  media::RenderOptions options;
  options.timeout = absl::Minutes(5);
  auto music = EnsureMusicTrack(*FindMusicTrack("calm"), testing::TestTempPath(""), options);
  ASSERT_TRUE(music.ok()) << music.status();
  plan.music = *music;
  plan.output = testing::TestTempPath("final.mp4");
  plan.cover = testing::TestTempPath("final.png");
  ASSERT_TRUE(Render(plan, options).ok());

  // The burned-in captions are timed by the voice: each spoken word is highlighted from the
  // moment the synthesizer says it.
  std::ifstream captions(plan.captions);
  std::string document(std::istreambuf_iterator<char>(captions), {});
  std::vector<std::string> caption_starts, spoken_starts;
  std::smatch event;
  for (auto it = document.cbegin(); std::regex_search(
           it, document.cend(), event, std::regex("Dialogue: 0,([0-9:.]+),[^,]*,Caption"));
       it = event.suffix().first) {
    if (caption_starts.empty() || caption_starts.back() != event[1])
      caption_starts.push_back(event[1]);
  }
  for (const WordTiming& word : speech->words) {
    if (word.spoken) spoken_starts.push_back(AssTime(word.start_s));
  }
  EXPECT_EQ(caption_starts, spoken_starts);
  EXPECT_GE(spoken_starts.size(), 10u);

  std::string streams = testing::CommandOutput(
      "ffprobe -v error -show_entries stream=codec_type,codec_name,width,height -of csv=p=0 '" +
      plan.output + "'");
  EXPECT_TRUE(absl::StrContains(streams, "h264,video,1080,1920")) << streams;
  EXPECT_TRUE(absl::StrContains(streams, "aac,audio")) << streams;
  double duration = std::stod(testing::CommandOutput(
      "ffprobe -v error -show_entries format=duration -of csv=p=0 '" + plan.output + "'"));
  EXPECT_NEAR(duration, plan.duration_s, 0.15);
  EXPECT_LE(duration, absl::ToDoubleSeconds(tiktok.max_duration));
  // The voice is heard where it speaks.
  EXPECT_GT(MeanVolume(plan.output, speech->words.front().start_s, speech->words.back().end_s),
            -35.0);
  // faststart: the index (moov) comes before the media data (mdat).
  std::ifstream file(plan.output, std::ios::binary);
  std::string head(std::istreambuf_iterator<char>(file), {});
  ASSERT_NE(head.find("mdat"), std::string::npos);
  EXPECT_LT(head.find("moov"), head.find("mdat"));
  auto cover = media::Probe(plan.cover);
  ASSERT_TRUE(cover.ok()) << cover.status();
  EXPECT_EQ(cover->width, 1080);
  EXPECT_EQ(cover->height, 1920);
}

// Each platform at a frame it takes: the file has the platform's size, fits its length, and
// is heard where the voice speaks.
TEST(RendererTest, EveryPlatformGetsItsFrame) {
  const std::string clip = Make("any.mp4", "testsrc=s=1280x720:r=30:d=2", "-pix_fmt yuv420p");
  FliteVoice voice;
  auto speech = voice.Speak("Glow today, with Glow Serum!", "slt",
                            testing::TestTempPath("platform-voice.wav"));
  ASSERT_TRUE(speech.ok()) << speech.status();
  for (const auto& [name, aspect] : std::vector<std::pair<std::string, std::string>>{
           {"tiktok", "9:16"}, {"instagram", "4:5"}, {"facebook", "1:1"}, {"youtube", "16:9"}}) {
    SCOPED_TRACE(name);
    const platforms::PlatformSpec& platform = *platforms::FindPlatform(name);
    const platforms::Resolution& frame = *platforms::FindResolution(platform, aspect);
    RenderPlan plan;
    plan.clips = {clip};
    plan.voice = speech->audio_path;
    plan.width = frame.width;
    plan.height = frame.height;
    plan.duration_s = speech->duration_s + 0.6;
    plan.captions = testing::TestTempPath(name + ".ass");
    std::ofstream(plan.captions) << CaptionDocument(
        speech->words, CaptionStyles().front(),
        {frame.width, frame.height, platforms::SafeZoneFor(platform, frame)}, "#ad",
        plan.duration_s);
    plan.output = testing::TestTempPath(name + ".mp4");
    plan.cover = testing::TestTempPath(name + ".png");
    ASSERT_TRUE(Render(plan, media::RenderOptions()).ok());
    auto info = media::Probe(plan.output);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->width, frame.width);
    EXPECT_EQ(info->height, frame.height);
    EXPECT_EQ(info->codec, "h264");
    EXPECT_LE(info->duration, absl::ToDoubleSeconds(platform.max_duration));
    EXPECT_NEAR(info->duration, plan.duration_s, 0.15);
    EXPECT_GT(MeanVolume(plan.output, speech->words.front().start_s, speech->words.back().end_s),
              -35.0);
  }
}

// Captions that are hostile to filters and scripts alike render, with every glyph found in
// some installed font; a glyph no font has fails the render, leaving no file.
TEST(RendererTest, EveryGlyphIsDrawnOrTheRenderFails) {
  const std::string clip = Make("glyphs.mp4", "testsrc=s=640x360:r=30:d=1", "-pix_fmt yuv420p");
  const std::string silence = Make("glyphs.wav", "anullsrc=r=48000:cl=mono", "-t 1.5");
  auto render = [&](const std::vector<std::string>& texts, const std::string& name) {
    std::vector<WordTiming> words;
    double t = 0;
    for (const std::string& text : texts) {
      words.push_back({text, t, t + 0.1, true});
      t += 0.1;
    }
    RenderPlan plan;
    plan.clips = {clip};
    plan.voice = silence;
    plan.width = 540;
    plan.height = 960;
    plan.duration_s = 1.2;
    plan.captions = testing::TestTempPath(name + ".ass");
    std::ofstream(plan.captions) << CaptionDocument(
        words, CaptionStyles().front(),
        {plan.width, plan.height, platforms::FindPlatform("tiktok")->safe_zone}, "#ad \xe2\x9c\x93",
        plan.duration_s);
    plan.output = testing::TestTempPath(name + ".mp4");
    plan.cover = testing::TestTempPath(name + ".png");
    absl::Status status = Render(plan, media::RenderOptions());
    EXPECT_EQ(std::ifstream(plan.output).good(), status.ok());
    return status;
  };
  absl::Status hostile =
      render({"\"Glow\":", "C:\\New\\{x}", "100%", "{\\fs200}big?", "\xf0\x9f\x94\xa5\xe2\x9c\xa8",
              "\xe4\xbd\xa0\xe5\xa5\xbd", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
              "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", "%{pts}"},
             "hostile");
  EXPECT_TRUE(hostile.ok()) << hostile;
  absl::Status missing = render({"Linear", "\xf0\x90\x80\x80"}, "missing");  // U+10000
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition) << missing;
  EXPECT_TRUE(absl::StrContains(missing.message(), "failed to find any fallback")) << missing;
}

// Without a voiceover and without music the soundtrack is silence, and still there.
TEST(RendererTest, NoVoiceoverAndNoMusicIsSilence) {
  const std::string clip = Make("quiet.mp4", "testsrc=s=640x360:r=30:d=2", "-pix_fmt yuv420p");
  FliteVoice voice;
  auto speech = voice.Speak("Glow today!", "slt", testing::TestTempPath("quiet.wav"));
  ASSERT_TRUE(speech.ok()) << speech.status();
  RenderPlan plan;
  plan.clips = {clip};
  plan.voice = speech->audio_path;
  plan.voiceover = false;
  plan.width = 720;
  plan.height = 1280;
  plan.duration_s = speech->duration_s + 0.6;
  plan.captions = testing::TestTempPath("quiet.ass");
  std::ofstream(plan.captions) << CaptionDocument(
      speech->words, CaptionStyles().front(),
      {plan.width, plan.height, platforms::FindPlatform("tiktok")->safe_zone}, "", plan.duration_s);
  plan.output = testing::TestTempPath("quiet-out.mp4");
  plan.cover = testing::TestTempPath("quiet-out.png");
  ASSERT_TRUE(Render(plan, media::RenderOptions()).ok());
  std::string streams = testing::CommandOutput(
      "ffprobe -v error -show_entries stream=codec_type -of csv=p=0 '" + plan.output + "'");
  EXPECT_TRUE(absl::StrContains(streams, "audio")) << streams;
  EXPECT_LT(MeanVolume(plan.output, 0, plan.duration_s), -80.0);
}

TEST(RendererTest, MusicTracksAreMadeOnceAndLoopable) {
  media::RenderOptions options;
  const std::string folder = testing::TestTempPath("");
  for (const MusicTrack& track : MusicTracks()) {
    SCOPED_TRACE(track.name);
    auto path = EnsureMusicTrack(track, folder, options);
    ASSERT_TRUE(path.ok()) << path.status();
    auto info = media::Probe(*path);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_NEAR(info->duration, 60, 0.5);
    EXPECT_GT(MeanVolume(*path, 0, 10), -30.0);
  }
  EXPECT_EQ(FindMusicTrack("none"), nullptr);  // "none" means no track, not a track
}

}  // namespace
}  // namespace cf::assembly
