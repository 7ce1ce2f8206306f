#include "services/assembly/renderer.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/media/media_store.h"

namespace cf::assembly {
namespace {

constexpr int kFps = 30;

std::string Seconds(double seconds) { return absl::StrFormat("%.3f", seconds); }

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// The filter for one shot: scaled to cover the frame, cropped to it, `length` seconds long.
// Stills zoom in slowly.
std::string ShotFilter(int input, bool still, const RenderPlan& plan, double length) {
  std::string filter =
      absl::StrFormat("[%d:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,", input,
                      plan.width, plan.height, plan.width, plan.height);
  if (still) {
    absl::StrAppendFormat(&filter,
                          // A slow zoom in, panning gently from side to side.
                          "zoompan=z='min(pzoom+0.0006,1.15)':"
                          "x='(iw-iw/zoom)*(0.5+0.5*sin(on/60))':y='ih/2-(ih/zoom/2)':"
                          "d=1:s=%dx%d:fps=%d,",
                          plan.width, plan.height, kFps);
  }
  absl::StrAppendFormat(&filter,
                        "fps=%d,setsar=1,format=yuv420p,trim=duration=%s,"
                        "setpts=PTS-STARTPTS[v%d]",
                        kFps, Seconds(length), input);
  return filter;
}

}  // namespace

const std::vector<MusicTrack>& MusicTracks() {
  // Chords and pulses from sine waves: each loops cleanly every 60 seconds.
  static const std::vector<MusicTrack>* tracks = new std::vector<MusicTrack>{
      {"calm", "Slow major chord that swells every four seconds (C major, 60 bpm)",
       "aevalsrc=exprs='0.2*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t))*"
       "(0.6+0.4*sin(2*PI*t/4))':s=48000:d=60"},
      {"upbeat", "Bright pulse at 120 bpm over an A minor chord",
       "aevalsrc=exprs='0.25*(sin(2*PI*220*t)+sin(2*PI*261.63*t)+sin(2*PI*329.63*t))*"
       "(0.35+0.65*exp(-8*mod(t,0.5)))':s=48000:d=60"},
      {"bright", "Arpeggio stepping through a G major chord four times a second",
       "aevalsrc=exprs='0.4*sin(2*PI*(196*eq(mod(floor(4*t),4),0)+246.94*eq(mod(floor(4*t),4),1)"
       "+293.66*eq(mod(floor(4*t),4),2)+392*eq(mod(floor(4*t),4),3))*t)*exp(-3*mod(t,0.25))'"
       ":s=48000:d=60"},
  };
  return *tracks;
}

const MusicTrack* FindMusicTrack(absl::string_view name) {
  for (const MusicTrack& track : MusicTracks()) {
    if (track.name == name) return &track;
  }
  return nullptr;
}

absl::StatusOr<std::string> EnsureMusicTrack(const MusicTrack& track, const std::string& folder,
                                             const media::RenderOptions& options) {
  const std::string path = absl::StrCat(folder, "/", track.name, ".m4a");
  if (Exists(path)) return path;
  absl::Status made = media::WriteAtomically(path, [&](const std::string& temp) {
    return media::RunFfmpeg(
        {"-f", "lavfi", "-i", track.source, "-c:a", "aac", "-b:a", "128k", temp}, options);
  });
  if (!made.ok()) return made;
  return path;
}

absl::StatusOr<std::vector<std::string>> RenderArguments(const RenderPlan& plan,
                                                         const std::string& output) {
  const int shots = static_cast<int>(plan.clips.size() + plan.stills.size());
  if (shots == 0) return absl::InvalidArgumentError("a render needs at least one clip or still");
  if (!media::IsFilterSafePath(plan.captions)) {
    return absl::InvalidArgumentError("the captions file's path is not filter-safe");
  }
  // Each cross-fade overlaps two shots, so the shots together run longer than the video.
  const double length = (plan.duration_s + (shots - 1) * kTransitionSeconds) / shots;
  std::vector<std::string> args;
  std::string graph;
  for (int i = 0; i < shots; ++i) {
    const bool still = i >= static_cast<int>(plan.clips.size());
    if (still) {
      args.insert(args.end(), {"-loop", "1", "-framerate", absl::StrCat(kFps), "-t",
                               Seconds(length), "-i", plan.stills[i - plan.clips.size()]});
    } else {
      // A clip shorter than its shot loops.
      args.insert(args.end(), {"-stream_loop", "-1", "-t", Seconds(length), "-i", plan.clips[i]});
    }
    absl::StrAppend(&graph, ShotFilter(i, still, plan, length), ";");
  }
  std::string video = "[v0]";
  for (int i = 1; i < shots; ++i) {
    const std::string joined = absl::StrCat("[x", i, "]");
    absl::StrAppendFormat(&graph, "%s[v%d]xfade=transition=fade:duration=%s:offset=%s%s;", video, i,
                          Seconds(kTransitionSeconds), Seconds(i * (length - kTransitionSeconds)),
                          joined);
    video = joined;
  }
  absl::StrAppend(&graph, video, "ass=", plan.captions, "[vout];");

  const std::string total = Seconds(plan.duration_s);
  if (!plan.voiceover) {
    // No voiceover: the music alone, or silence (the captions still follow the voice's timing).
    if (plan.music.empty()) {
      args.insert(args.end(), {"-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"});
      absl::StrAppendFormat(&graph, "[%d:a]atrim=duration=%s[aout]", shots, total);
    } else {
      args.insert(args.end(), {"-stream_loop", "-1", "-i", plan.music});
      absl::StrAppendFormat(&graph, "[%d:a]aresample=48000,volume=0.35,atrim=duration=%s[aout]",
                            shots, total);
    }
  } else {
    const int voice = shots;
    args.insert(args.end(), {"-i", plan.voice});
    absl::StrAppendFormat(&graph, "[%d:a]aresample=48000,apad,atrim=duration=%s", voice, total);
    if (plan.music.empty()) {
      absl::StrAppend(&graph, "[aout]");
    } else {
      args.insert(args.end(), {"-stream_loop", "-1", "-i", plan.music});
      // The music ducks under the voice (a compressor keyed by it), then both are mixed.
      absl::StrAppendFormat(&graph,
                            ",asplit=2[voice][key];[%d:a]aresample=48000,volume=0.35,"
                            "atrim=duration=%s[music];[music][key]sidechaincompress=threshold="
                            "0.02:ratio=8:attack=20:release=400[ducked];[voice][ducked]amix="
                            "inputs=2:duration=first:normalize=0[aout]",
                            voice + 1, total);
    }
  }
  args.insert(args.end(), {"-filter_complex",
                           graph,
                           "-map",
                           "[vout]",
                           "-map",
                           "[aout]",
                           "-t",
                           Seconds(plan.duration_s),
                           "-c:v",
                           "libx264",
                           "-preset",
                           "veryfast",
                           "-crf",
                           "23",
                           "-pix_fmt",
                           "yuv420p",
                           "-r",
                           absl::StrCat(kFps),
                           "-c:a",
                           "aac",
                           "-b:a",
                           "128k",
                           "-ar",
                           "48000",
                           "-movflags",
                           "+faststart",
                           output});
  return args;
}

absl::Status Render(const RenderPlan& plan, const media::RenderOptions& options) {
  // libass warns when no installed font has a glyph and draws an empty box: a defect in the
  // video even though ffmpeg exits 0, so it fails the render (and is not retried).
  media::RenderOptions video_options = options;
  video_options.log_level = "warning";
  video_options.failing_log_lines = {"failed to find any fallback"};
  absl::Status video = media::WriteAtomically(plan.output, [&](const std::string& temp) {
    absl::StatusOr<std::vector<std::string>> args = RenderArguments(plan, temp);
    if (!args.ok()) return args.status();
    absl::Status run = media::RunFfmpeg(*args, video_options);
    if (run.code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the captions have a character no installed font can draw (", run.message(), ")"));
    }
    return run;
  });
  if (!video.ok()) return video;
  // The cover: a frame from just after the start, once the first shot has faded in.
  media::RenderOptions cover_options = options;
  cover_options.on_progress = nullptr;
  absl::Status cover = media::WriteAtomically(plan.cover, [&](const std::string& temp) {
    return media::RunFfmpeg({"-ss", Seconds(std::min(0.5, plan.duration_s / 2)), "-i", plan.output,
                             "-frames:v", "1", temp},
                            cover_options);
  });
  // A video without its cover is no result: neither stays.
  if (!cover.ok()) unlink(plan.output.c_str());
  return cover;
}

}  // namespace cf::assembly
