// Render benchmark: a 15 s 1080x1920 assembly (voice, word-timed captions, ducked music, three
// clips with cross-fades) against a plain ffmpeg concatenate-and-scale of the same three clips
// with the same audio track and the same encoder settings, alternating in one run. Prints each
// leg's wall time and peak memory (the largest process of the leg, from wait4), the medians and
// their ratio. Run it with tools/bench //tests/bench:render_bench.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/platforms/platforms.h"
#include "common/testing/subprocess.h"
#include "services/assembly/captions.h"
#include "services/assembly/renderer.h"
#include "services/assembly/voice.h"

namespace cf::assembly {
namespace {

constexpr int kRounds = 3;

struct Leg {
  double seconds = 0;
  double peak_mb = 0;
  bool ok = false;
};

// Runs `work` in a child process: its wall time and the peak resident memory of the child and
// everything it waited for (ffmpeg).
Leg Measure(const std::function<bool()>& work) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) _exit(work() ? 0 : 1);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  Leg leg;
  leg.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  leg.peak_mb = usage.ru_maxrss / 1024.0;
  leg.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return leg;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main() {
  const std::string dir = testing::TestTempPath("cf-render-bench");
  testing::CommandOutput("rm -rf '" + dir + "' && mkdir -p '" + dir + "'");
  std::vector<std::string> clips;
  for (const char* source : {"testsrc=s=1280x720:r=30:d=6", "testsrc2=s=1080x1080:r=30:d=6",
                             "mandelbrot=s=1920x1080:r=30"}) {
    clips.push_back(absl::StrCat(dir, "/clip", clips.size(), ".mp4"));
    testing::CommandOutput(absl::StrCat("ffmpeg -nostdin -y -loglevel error -f lavfi -i '", source,
                                        "' -t 6 -pix_fmt yuv420p -c:v libx264 -preset veryfast '",
                                        clips.back(), "'"));
  }
  FliteVoice voice;
  auto speech = voice.Speak(
      "Tired of dull, tired skin every single morning? Meet Glow Serum. Two drops a day bring "
      "back the glow you had years ago, with vitamin C and nothing that stings. Thousands switched "
      "this month, and most of them never looked back. Tap the link below and glow today!",
      "slt", dir + "/voice.wav");
  if (!speech.ok()) {
    std::fprintf(stderr, "voice: %s\n", std::string(speech.status().message()).c_str());
    return 1;
  }
  const double duration = speech->duration_s + 0.6;
  const platforms::PlatformSpec& tiktok = *platforms::FindPlatform("tiktok");
  RenderPlan plan;
  plan.clips = clips;
  plan.voice = speech->audio_path;
  plan.width = 1080;
  plan.height = 1920;
  plan.duration_s = duration;
  plan.captions = dir + "/captions.ass";
  std::ofstream(plan.captions) << CaptionDocument(speech->words, CaptionStyles().front(),
                                                  {1080, 1920, tiktok.safe_zone, "DejaVu Sans"},
                                                  "#ad Commission earned", duration);
  media::RenderOptions options;
  options.timeout = absl::Minutes(10);
  auto music = EnsureMusicTrack(*FindMusicTrack("calm"), dir, options);
  if (!music.ok()) return 1;
  plan.music = *music;
  plan.output = dir + "/assembly.mp4";
  plan.cover = dir + "/assembly.png";

  std::string scale;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&scale, "[", i,
                    ":v]scale=1080:1920:force_original_aspect_ratio=increase,crop=1080:1920,"
                    "setsar=1,fps=30[v",
                    i, "];");
  }
  const std::vector<std::string> plain = {"-i",
                                          clips[0],
                                          "-i",
                                          clips[1],
                                          "-i",
                                          clips[2],
                                          "-i",
                                          plan.voice,
                                          "-filter_complex",
                                          scale + "[v0][v1][v2]concat=n=3:v=1:a=0[v]",
                                          "-map",
                                          "[v]",
                                          "-map",
                                          "3:a",
                                          "-t",
                                          absl::StrCat(duration),
                                          "-c:v",
                                          "libx264",
                                          "-preset",
                                          "veryfast",
                                          "-crf",
                                          "23",
                                          "-pix_fmt",
                                          "yuv420p",
                                          "-c:a",
                                          "aac",
                                          "-b:a",
                                          "128k",
                                          "-movflags",
                                          "+faststart",
                                          dir + "/plain.mp4"};

  std::printf("render benchmark: %.1f s 1080x1920 video, three clips, %d rounds\n", duration,
              kRounds);
  std::printf("%-6s %12s %10s %14s %10s\n", "round", "plain s", "plain MB", "assembly s",
              "assembly MB");
  std::vector<double> plain_s, plain_mb, ours_s, ours_mb;
  for (int round = 1; round <= kRounds; ++round) {
    Leg a, b;
    auto run_plain = [&] { return Measure([&] { return media::RunFfmpeg(plain, options).ok(); }); };
    auto run_ours = [&] { return Measure([&] { return Render(plan, options).ok(); }); };
    if (round % 2 == 1) {
      a = run_plain();
      b = run_ours();
    } else {
      b = run_ours();
      a = run_plain();
    }
    if (!a.ok || !b.ok) {
      std::fprintf(stderr, "a leg failed (plain %d, assembly %d)\n", a.ok, b.ok);
      return 1;
    }
    plain_s.push_back(a.seconds);
    plain_mb.push_back(a.peak_mb);
    ours_s.push_back(b.seconds);
    ours_mb.push_back(b.peak_mb);
    std::printf("%-6d %12.2f %10.0f %14.2f %10.0f\n", round, a.seconds, a.peak_mb, b.seconds,
                b.peak_mb);
    std::fflush(stdout);
  }
  std::printf("median %12.2f %10.0f %14.2f %10.0f\n", Median(plain_s), Median(plain_mb),
              Median(ours_s), Median(ours_mb));
  std::printf("assembly / plain time = %.2fx (target: at most 1.5x)\n",
              Median(ours_s) / Median(plain_s));
  std::printf("(voice synthesis, cached after the first render: not in these figures)\n");
  return 0;
}

}  // namespace
}  // namespace cf::assembly

int main() { return cf::assembly::Main(); }
