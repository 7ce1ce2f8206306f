// assembly: serves cf.assembly.v1.AssemblyService (drafts, renders, watch) and runs the render
// workers.
//
// Configuration (flag --name or environment CF_NAME):
//   database_url (required, role cf_assembly), catalog_addr and generation_addr (required),
//   listen (default 127.0.0.1:50054), media_dir (default ./media, shared with generation),
//   media_base_url, render_workers (1), render_timeout_s (300), voice_provider (flite |
//   elevenlabs), elevenlabs_api_key (secret: env or _FILE; required for elevenlabs),
//   elevenlabs_base_url, elevenlabs_model, elevenlabs_voices (name=id,...), the job runner's
//   settings (common/jobs/runner_config.h), db_pool_size, db_queue, drain_timeout_s.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "common/jobs/runner.h"
#include "common/jobs/runner_config.h"
#include "common/log/log.h"
#include "common/media/ffmpeg.h"
#include "common/media/media_store.h"
#include "common/server/channel.h"
#include "common/server/service_main.h"
#include "services/assembly/assembly.h"
#include "services/assembly/assembly_service.h"
#include "services/assembly/assembly_store.h"
#include "services/assembly/elevenlabs_voice.h"
#include "services/assembly/render_handler.h"
#include "services/assembly/renderer.h"
#include "services/assembly/voice.h"
#include "services/catalog/catalog_client.h"
#include "services/generation/generation_client.h"

namespace {

// The newest migration this build relies on (0006: render jobs on cf_assembled_content).
constexpr int kSchemaVersion = 6;

// Fonts the captions draw with, and the fallbacks for other scripts and symbols.
const std::vector<std::string>& CaptionFonts() {
  static const std::vector<std::string>* fonts = new std::vector<std::string>{
      cf::media::kBoldFont, "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
      "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"};
  return *fonts;
}

// The voice configuration selects: flite (offline, the default) or ElevenLabs.
absl::StatusOr<std::unique_ptr<cf::assembly::VoiceProvider>> MakeVoice(const cf::Config& config) {
  const std::string provider = config.GetOr("voice_provider", "flite");
  if (provider == "flite") return std::make_unique<cf::assembly::FliteVoice>();
  if (provider != "elevenlabs") {
    return absl::InvalidArgumentError(
        absl::StrCat("CF_VOICE_PROVIDER=", provider, " is not one of flite, elevenlabs"));
  }
  cf::assembly::ElevenLabsConfig elevenlabs;
  auto key = config.RequireSecret("elevenlabs_api_key");
  if (!key.ok()) return key.status();
  elevenlabs.api_key = *key;
  elevenlabs.base_url = config.GetOr("elevenlabs_base_url", elevenlabs.base_url);
  absl::Status url = cf::http::CheckFetchableUrl(
      elevenlabs.base_url, cf::http::IsLoopbackHttp(elevenlabs.base_url), "CF_ELEVENLABS_BASE_URL");
  if (!url.ok()) return url;
  elevenlabs.model = config.GetOr("elevenlabs_model", elevenlabs.model);
  if (auto list = config.Get("elevenlabs_voices")) {
    auto voices = cf::assembly::ParseVoiceList(*list);
    if (!voices.ok()) return voices.status();
    elevenlabs.voices = *voices;
  }
  return std::make_unique<cf::assembly::ElevenLabsVoice>(elevenlabs);
}

// The voice's provider and settings, for the cache key: another model or voice list is
// another voice.
std::string VoiceCacheName(const cf::Config& config) {
  const std::string provider = config.GetOr("voice_provider", "flite");
  if (provider != "elevenlabs") return provider;
  return absl::StrCat(provider, "|", config.GetOr("elevenlabs_model", "eleven_multilingual_v2"),
                      "|", config.GetOr("elevenlabs_voices", ""));
}

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("assembly");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto catalog_addr = config->Require("catalog_addr");
  if (!catalog_addr.ok()) return cf::StartupFailure(catalog_addr.status());
  auto generation_addr = config->Require("generation_addr");
  if (!generation_addr.ok()) return cf::StartupFailure(generation_addr.status());
  auto render_workers = config->GetInt("render_workers", 1, 0, 64);
  if (!render_workers.ok()) return cf::StartupFailure(render_workers.status());
  auto render_timeout_s = config->GetInt("render_timeout_s", 300, 1, 3600);
  if (!render_timeout_s.ok()) return cf::StartupFailure(render_timeout_s.status());
  absl::Status tools = cf::media::CheckRenderTools(CaptionFonts());
  if (!tools.ok()) return cf::StartupFailure(tools);
  auto media = cf::media::MediaStore::Open(config->GetOr("media_dir", "media"),
                                           config->GetOr("media_base_url", ""));
  if (!media.ok()) return cf::StartupFailure(media.status());
  // The music tracks are made now, not by the first render that wants one.
  for (const cf::assembly::MusicTrack& track : cf::assembly::MusicTracks()) {
    auto made =
        cf::assembly::EnsureMusicTrack(track, media->root() + "/music", cf::media::RenderOptions());
    if (!made.ok()) return cf::StartupFailure(made.status());
  }
  auto database = cf::OpenDatabase(*config, kSchemaVersion);
  if (!database.ok()) return cf::StartupFailure(database.status());
  auto options = cf::ServerOptionsFromConfig(*config, "assembly", "127.0.0.1:50054");
  if (!options.ok()) return cf::StartupFailure(options.status());
  auto worker_options = cf::jobs::RunnerOptionsFromConfig(*config, database->pool->conninfo());
  if (!worker_options.ok()) return cf::StartupFailure(worker_options.status());

  cf::catalog::CatalogClient catalog(cf::ServiceChannel(*catalog_addr));
  cf::generation::GenerationClient generation(cf::ServiceChannel(*generation_addr));
  auto spoken = MakeVoice(*config);
  if (!spoken.ok()) return cf::StartupFailure(spoken.status());
  // A render that runs again reuses its voice (and a paid provider is not paid twice).
  cf::assembly::CachedVoice voice(spoken->get(), media->root() + "/voice-cache",
                                  VoiceCacheName(*config));
  cf::assembly::AssemblyStore store(database->pool.get());
  cf::assembly::Assemblies assemblies(&store, &catalog, &generation, &voice);
  cf::assembly::AssemblyWatcher watcher(&store);
  cf::assembly::RenderJobHandler renderer(&*media, &voice, absl::Seconds(*render_timeout_s));
  cf::jobs::JobRunner workers({{store.queue(), &renderer, *render_workers}}, *worker_options);

  cf::assembly::AssemblyService service(&assemblies, &watcher, database->executor.get());
  options->services = {{"cf.assembly.v1.AssemblyService", &service}};
  options->readiness_probe = database->probe;
  const absl::Duration grace = options->drain_timeout;
  options->on_started = [&] { workers.Start(); };
  options->on_shutdown = [&] {
    watcher.Stop();
    workers.Stop(grace);  // running renders stop and their leases go back
  };
  cf::Log(cf::LogLevel::kInfo, "workers configured",
          {{"worker_id", worker_options->worker_id},
           {"render_workers", *render_workers},
           {"media_dir", media->root()}});
  return cf::ServeUntilSignal(std::move(*options));
}
