#include "services/assembly/render_handler.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/media/ffmpeg.h"
#include "common/platforms/platforms.h"
#include "services/assembly/assembly_store.h"
#include "services/assembly/captions.h"
#include "services/assembly/renderer.h"

namespace cf::assembly {
namespace {

// Silence after the last word, so the video does not end on it.
constexpr double kTailSeconds = 0.6;

// What a claim carries (RenderQueueSpec's claim columns).
struct RenderJob {
  nlohmann::json snapshot;
  const platforms::PlatformSpec* platform = nullptr;
  v1::AssemblyOptions options;
  std::string disclosure;
};

absl::StatusOr<RenderJob> Decode(const jobs::Lease& lease) {
  const pqxx::row row = lease.row();
  const int first = jobs::Lease::kPayload;
  RenderJob job;
  job.snapshot = nlohmann::json::parse(row[first].as<std::string>(), nullptr, false);
  job.platform = platforms::FindPlatform(row[first + 1].as<std::string>());
  nlohmann::json metadata = nlohmann::json::parse(row[first + 2].as<std::string>(), nullptr, false);
  if (!job.snapshot.is_object() || job.platform == nullptr || !metadata.is_object()) {
    return absl::FailedPreconditionError("the assembly's render snapshot is unreadable");
  }
  job.options = OptionsFromMetadata(metadata);
  job.disclosure = row[first + 3].as<std::string>();
  if (!job.snapshot.contains("script") || !job.snapshot["script"].is_object()) {
    // Not retried: a row from before the render snapshot (migration 0006) has nothing to say.
    return absl::FailedPreconditionError(
        "the assembly has no render snapshot (it was made before migration 0006); create it "
        "again");
  }
  return job;
}

// Text at `pointer` in `json` ("" when missing or not text).
std::string TextAt(const nlohmann::json& json, const char* pointer) {
  const nlohmann::json::json_pointer path(pointer);
  if (!json.contains(path) || !json.at(path).is_string()) return "";
  return json.at(path).get<std::string>();
}

// The local files of the snapshot's clips or images, in order.
absl::StatusOr<std::vector<std::string>> LocalFiles(const media::MediaStore& media,
                                                    const nlohmann::json& items) {
  std::vector<std::string> paths;
  if (!items.is_array()) return paths;
  for (const nlohmann::json& item : items) {
    const std::string url = item.is_object() && item.contains("url") && item["url"].is_string()
                                ? item["url"].get<std::string>()
                                : "";
    absl::StatusOr<std::string> path = media.LocalPathOf(url);
    if (!path.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("an asset of the assembly is not in the media folder: ", url));
    }
    paths.push_back(*path);
  }
  return paths;
}

}  // namespace

absl::StatusOr<jobs::Completion> RenderJobHandler::Run(jobs::JobContext& context) {
  absl::StatusOr<RenderJob> job = Decode(context.lease());
  if (!job.ok()) return job.status();
  const platforms::Resolution* resolution =
      platforms::FindResolution(*job->platform, job->options.aspect_ratio());
  if (resolution == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(job->platform->name, " takes no ", job->options.aspect_ratio(), " video"));
  }
  absl::StatusOr<std::vector<std::string>> clips = LocalFiles(*media_, job->snapshot["clips"]);
  if (!clips.ok()) return clips.status();
  absl::StatusOr<std::vector<std::string>> stills = LocalFiles(*media_, job->snapshot["images"]);
  if (!stills.ok()) return stills.status();

  absl::StatusOr<std::string> scratch = media_->MakeScratchDir();
  if (!scratch.ok()) return scratch.status();
  struct Cleanup {
    std::string dir;
    ~Cleanup() { media::RemoveScratchDir(dir); }
  } cleanup{*scratch};

  context.SetPhase("voice");
  const std::string text = absl::StrCat(TextAt(job->snapshot, "/script/hook"), " ",
                                        TextAt(job->snapshot, "/script/body"), " ",
                                        TextAt(job->snapshot, "/script/cta"));
  const std::string voice_name =
      job->options.voice().empty() ? voice_->Voices().front() : job->options.voice();
  absl::StatusOr<Speech> speech = voice_->Speak(text, voice_name, *scratch + "/voice.wav");
  if (!speech.ok()) return speech.status();
  const double duration = speech->duration_s + kTailSeconds;
  if (duration > absl::ToDoubleSeconds(job->platform->max_duration)) {
    // Not retried: the same script comes out as long again.
    return absl::FailedPreconditionError(
        absl::StrFormat("the voiceover runs %.1f s, over %s's %.0f s by %.1f s", duration,
                        job->platform->name, absl::ToDoubleSeconds(job->platform->max_duration),
                        duration - absl::ToDoubleSeconds(job->platform->max_duration)));
  }
  context.SetProgress(10);

  context.SetPhase("render");
  const CaptionStyle* style = FindCaptionStyle(job->options.caption_style());
  if (style == nullptr) style = &CaptionStyles().front();
  RenderPlan plan;
  plan.clips = *clips;
  plan.stills = *stills;
  plan.voice = speech->audio_path;
  plan.voiceover = !job->options.has_voiceover() || job->options.voiceover();
  plan.width = resolution->width;
  plan.height = resolution->height;
  plan.duration_s = duration;
  plan.captions = *scratch + "/captions.ass";
  {
    std::ofstream file(plan.captions);
    file << CaptionDocument(
        speech->words, *style,
        {plan.width, plan.height, platforms::SafeZoneFor(*job->platform, *resolution),
         job->options.font().empty() ? "DejaVu Sans" : job->options.font()},
        job->disclosure, duration);
    if (!file) return absl::UnavailableError("cannot write the captions file");
  }
  media::RenderOptions options;
  options.timeout = render_timeout_;
  options.cancel = context.cancel();
  const std::string music_name = job->options.music_track();
  if (!music_name.empty() && music_name != "none") {
    const MusicTrack* track = FindMusicTrack(music_name);
    if (track == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("no music track \"", music_name, "\""));
    }
    absl::StatusOr<std::string> music =
        EnsureMusicTrack(*track, media_->root() + "/music", options);
    if (!music.ok()) return music.status();
    plan.music = *music;
  }
  plan.output = media_->PathFor("assemblies", context.OutputStem() + ".mp4");
  plan.cover = media_->PathFor("assemblies", context.OutputStem() + ".png");
  options.on_progress = [&context, duration](double seconds) {
    context.SetProgress(10 + static_cast<int>(85 * std::min(1.0, seconds / duration)));
  };
  absl::Status rendered = Render(plan, options);
  if (!rendered.ok()) return rendered;
  absl::StatusOr<media::MediaInfo> info = media::Probe(plan.output);
  if (!info.ok()) {
    // This attempt's files are nobody's: no completion will point at them.
    unlink(plan.output.c_str());
    unlink(plan.cover.c_str());
    return info.status();
  }

  jobs::Completion completion;
  completion.set_sql =
      "final_video_url = $3, rendered_at = NOW(), metadata = COALESCE(metadata, '{}') || "
      "jsonb_build_object('width', $4::int, 'height', $5::int, 'duration', "
      "round($6::numeric, 3), 'fileSize', $7::bigint, 'voice', $8::text, 'captionTiming', "
      "$9::text, 'coverUrl', $10::text)";
  completion.args = {media_->UrlFor(plan.output),
                     std::to_string(info->width),
                     std::to_string(info->height),
                     std::to_string(info->duration),
                     std::to_string(info->file_size),
                     voice_name,
                     "voice word timing",
                     media_->UrlFor(plan.cover)};
  completion.files = {plan.output, plan.cover};
  return completion;
}

}  // namespace cf::assembly
