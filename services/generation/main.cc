// generation: serves cf.generation.v1.GenerationService (scripts, image and video jobs) and runs
// the job workers.
//
// Configuration (flag --name or environment CF_NAME):
//   database_url (required, role cf_generation), catalog_addr (required),
//   listen (default 127.0.0.1:50053), media_dir (default ./media), media_base_url,
//   image_provider (local | gemini), video_provider (local | veo), google_api_key (required
//   for gemini and veo), google_api_base_url, veo_poll_s (10), image_workers (2), video_workers
//   (1), job_lease_s (30), job_poll_ms (1000), job_rescue_s (5), job_max_attempts (5),
//   job_backoff_ms (2000), render_timeout_s (120), worker_id (host:pid), attempt_log,
//   db_pool_size, db_queue, drain_timeout_s.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/jobs/runner.h"
#include "common/jobs/runner_config.h"
#include "common/log/log.h"
#include "common/media/media_store.h"
#include "common/server/channel.h"
#include "common/server/service_main.h"
#include "services/generation/dossier_source.h"
#include "services/generation/generation.h"
#include "services/generation/generation_service.h"
#include "services/generation/google_providers.h"
#include "services/generation/job_store.h"
#include "services/generation/job_watch.h"
#include "services/generation/local_provider.h"
#include "services/generation/media_handler.h"
#include "services/generation/media_jobs.h"
#include "services/generation/script_store.h"

namespace {

// The newest migration this build relies on (0005: the job queue's own columns).
constexpr int kSchemaVersion = 5;

// Reads the integer settings, failing on the first bad one.
struct Settings {
  int image_workers, video_workers, max_attempts, render_timeout_s;
};

absl::StatusOr<Settings> ReadSettings(const cf::Config& config) {
  Settings s;
  struct Item {
    const char* name;
    int* out;
    int fallback, min, max;
  } items[] = {{"image_workers", &s.image_workers, 2, 0, 64},
               {"video_workers", &s.video_workers, 1, 0, 64},
               {"job_max_attempts", &s.max_attempts, 5, 1, 100},
               {"render_timeout_s", &s.render_timeout_s, 120, 1, 3600}};
  for (const Item& item : items) {
    auto value = config.GetInt(item.name, item.fallback, item.min, item.max);
    if (!value.ok()) return value.status();
    *item.out = *value;
  }
  return s;
}

// The providers configuration selects; the local ones need nothing else.
struct Providers {
  std::unique_ptr<cf::generation::ImageProvider> images;
  std::unique_ptr<cf::generation::VideoProvider> videos;
};

std::string ImageProviderName(const cf::Config& config) {
  return config.GetOr("image_provider", "local");
}
std::string VideoProviderName(const cf::Config& config) {
  return config.GetOr("video_provider", "local");
}

// The local providers draw text, in the bold font.
bool UsesLocalRenders(const cf::Config& config) {
  return ImageProviderName(config) == "local" || VideoProviderName(config) == "local";
}

absl::StatusOr<Providers> MakeProviders(const cf::Config& config,
                                        const cf::media::MediaStore* media,
                                        absl::Duration render_timeout) {
  Providers providers;
  std::string image = ImageProviderName(config);
  std::string video = VideoProviderName(config);
  cf::generation::GoogleApiConfig google;
  if (image == "gemini" || video == "veo") {
    auto key = config.RequireSecret("google_api_key");
    if (!key.ok()) return key.status();
    google.api_key = *key;
    google.base_url = config.GetOr("google_api_base_url", google.base_url);
    auto poll = config.GetInt("veo_poll_s", 10, 1, 600);
    if (!poll.ok()) return poll.status();
    google.poll_interval = absl::Seconds(*poll);
  }
  if (image == "local") {
    providers.images = std::make_unique<cf::generation::LocalImageProvider>(media, render_timeout);
  } else if (image == "gemini") {
    providers.images = std::make_unique<cf::generation::GeminiImageProvider>(media, google);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("CF_IMAGE_PROVIDER=", image, " is not one of local, gemini"));
  }
  if (video == "local") {
    providers.videos = std::make_unique<cf::generation::LocalVideoProvider>(media, render_timeout);
  } else if (video == "veo") {
    providers.videos = std::make_unique<cf::generation::VeoVideoProvider>(media, google);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("CF_VIDEO_PROVIDER=", video, " is not one of local, veo"));
  }
  return providers;
}

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("generation");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto catalog_addr = config->Require("catalog_addr");
  if (!catalog_addr.ok()) return cf::StartupFailure(catalog_addr.status());
  auto settings = ReadSettings(*config);
  if (!settings.ok()) return cf::StartupFailure(settings.status());
  std::vector<std::string> fonts;
  if (UsesLocalRenders(*config)) fonts.push_back(cf::media::kBoldFont);
  absl::Status tools = cf::media::CheckRenderTools(fonts);
  if (!tools.ok()) return cf::StartupFailure(tools);
  auto media = cf::media::MediaStore::Open(config->GetOr("media_dir", "media"),
                                           config->GetOr("media_base_url", ""));
  if (!media.ok()) return cf::StartupFailure(media.status());
  auto database = cf::OpenDatabase(*config, kSchemaVersion);
  if (!database.ok()) return cf::StartupFailure(database.status());
  auto options = cf::ServerOptionsFromConfig(*config, "generation", "127.0.0.1:50053");
  if (!options.ok()) return cf::StartupFailure(options.status());

  cf::generation::CatalogClient catalog(cf::ServiceChannel(*catalog_addr));
  cf::generation::ScriptStore scripts(database->pool.get());
  cf::generation::JobStore jobs(database->pool.get());
  auto providers = MakeProviders(*config, &*media, absl::Seconds(settings->render_timeout_s));
  if (!providers.ok()) return cf::StartupFailure(providers.status());
  cf::generation::MediaJobLimits limits;
  limits.max_attempts = settings->max_attempts;
  cf::generation::Generation generation(&scripts, &catalog);
  cf::generation::MediaJobs media_jobs(&jobs, &catalog, providers->images.get(),
                                       providers->videos.get(), limits);
  cf::generation::JobWatcher watcher(&jobs);

  auto worker_options = cf::jobs::RunnerOptionsFromConfig(*config, database->pool->conninfo());
  if (!worker_options.ok()) return cf::StartupFailure(worker_options.status());
  cf::generation::MediaWorkers workers(&jobs, providers->images.get(), providers->videos.get(),
                                       settings->image_workers, settings->video_workers,
                                       *worker_options);

  cf::generation::GenerationService service(&generation, &media_jobs, &watcher,
                                            database->executor.get());
  options->services = {{"cf.generation.v1.GenerationService", &service}};
  options->readiness_probe = database->probe;
  const absl::Duration grace = options->drain_timeout;
  options->on_started = [&] { workers.Start(); };
  options->on_shutdown = [&] {
    watcher.Stop();
    workers.Stop(grace);  // running renders and polls stop and their leases go back
  };
  cf::Log(cf::LogLevel::kInfo, "workers configured",
          {{"worker_id", worker_options->worker_id},
           {"image_workers", settings->image_workers},
           {"video_workers", settings->video_workers},
           {"media_dir", media->root()}});
  return cf::ServeUntilSignal(std::move(*options));
}
