// publishing: serves cf.publishing.v1.PublishingService and runs the publish workers, which
// post through each platform's real API: to the platforms themselves, or to the local sandbox
// (services/sandbox), which speaks the same APIs.
//
// Configuration (flag --name or environment CF_NAME):
//   database_url (required, role cf_publishing), assembly_addr (required), listen (default
//   127.0.0.1:50055), media_dir (./media, shared with assembly), media_base_url,
//   publish_workers (2), platform_timeout_s (30), upload_timeout_s (300), poll_interval_ms
//   (5000), mark_interval_ms (1000), youtube_daily_quota (10000), youtube_upload_cost (1600),
//   affiliate_report_url, publish_deadline_s (86400: a publish whose platform holds its
//   handle and that learns no outcome by then after it was due fails as "live on the
//   platform, not recorded"), publish_wait_limit_s (21600: rate limits and turns waited for
//   longer than this after it was due fail the publish).
//   sandbox_url: when set (tools/up does), every platform's base URL and credentials default
//   to the sandbox's.
//   TikTok: tiktok_base_url, tiktok_client_key, tiktok_client_secret*, tiktok_access_token*,
//   tiktok_refresh_token*, tiktok_audited (false; true with the sandbox). Meta:
//   meta_graph_base_url, meta_video_base_url, meta_app_id,
//   meta_app_secret*, meta_access_token*, instagram_user_id, facebook_page_id,
//   meta_sponsor_id. YouTube: youtube_base_url, google_token_url, google_client_id,
//   google_client_secret*, youtube_access_token*, youtube_refresh_token*.
//   TikTok promotion (Spark Ads): tiktok_ads_base_url, tiktok_advertiser_id,
//   tiktok_identity_id, tiktok_ads_access_token*.
//   token_key*: 32 bytes (64 hex digits or base64) sealing renewed tokens in the database;
//   required with real platform credentials.
//   (* secrets: from the environment or a *_FILE, never a flag.) A platform without an access
//   token takes no publishes (FAILED_PRECONDITION saying what to set).
//   The job runner's settings (common/jobs/runner_config.h), db_pool_size, db_queue,
//   drain_timeout_s.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/sealed.h"
#include "common/http/http_client.h"
#include "common/jobs/runner.h"
#include "common/jobs/runner_config.h"
#include "common/log/log.h"
#include "common/media/media_store.h"
#include "common/server/channel.h"
#include "common/server/periodic.h"
#include "common/server/service_main.h"
#include "common/status/status.h"
#include "services/assembly/assembly_client.h"
#include "services/publishing/affiliate.h"
#include "services/publishing/meta.h"
#include "services/publishing/publish_handler.h"
#include "services/publishing/publishing.h"
#include "services/publishing/publishing_service.h"
#include "services/publishing/tiktok.h"
#include "services/publishing/tiktok_ads.h"
#include "services/publishing/token_vault.h"
#include "services/publishing/youtube.h"

namespace {

// The newest migration this build relies on (0014: YouTube's quota).
constexpr int kSchemaVersion = 14;

// A platform with no access token configured: every publish to it is refused, saying why.
class Unconfigured final : public cf::publishing::PlatformApi {
 public:
  Unconfigured(std::string name, std::string setting)
      : name_(std::move(name)), setting_(std::move(setting)) {}
  std::string name() const override { return name_; }
  absl::StatusOr<cf::publishing::Advanced> Advance(const cf::publishing::PostRequest&,
                                                   const std::string&,
                                                   cf::publishing::PublishContext&) override {
    return Refusal();
  }
  absl::StatusOr<cf::publishing::PostFigures> Figures(const std::string&) override {
    return Refusal();
  }
  absl::StatusOr<cf::publishing::CreatorLimits> Limits() override { return Refusal(); }

 private:
  absl::Status Refusal() const {
    return absl::FailedPreconditionError(absl::StrCat(
        name_, " is not configured: set ", setting_, " (or CF_SANDBOX_URL for the local sandbox)"));
  }
  std::string name_;
  std::string setting_;
};

// Settings for one platform, defaulting to the sandbox's when it is configured.
struct Settings {
  const cf::Config& config;
  std::string sandbox;  // "" when no sandbox

  std::string Url(const char* name, const std::string& real,
                  const std::string& sandbox_path) const {
    return config.GetOr(name, sandbox.empty() ? real : sandbox + sandbox_path);
  }
  std::string Plain(const char* name, const std::string& sandbox_value) const {
    return config.GetOr(name, sandbox.empty() ? "" : sandbox_value);
  }
  absl::StatusOr<std::string> Secret(const char* name, const std::string& sandbox_value) const {
    auto value = config.GetSecret(name);
    if (!value.ok()) return value.status();
    if (value->has_value()) return **value;
    return sandbox.empty() ? "" : sandbox_value;
  }
};

absl::Status CheckBaseUrl(const std::string& url, const char* setting) {
  return cf::http::CheckFetchableUrl(url, cf::http::IsLoopbackHttp(url), setting);
}

struct Platforms {
  std::vector<std::unique_ptr<cf::publishing::PlatformApi>> owned;
  std::map<std::string, cf::publishing::PlatformApi*> by_name;
  std::unique_ptr<cf::publishing::PromotionApi> tiktok_ads;
  std::map<std::string, cf::publishing::PromotionApi*> promotions;
  // The renewable tokens, by owner ("tiktok", "meta", "youtube"): kept in the database.
  std::map<std::string, std::shared_ptr<cf::publishing::TokenSource>> tokens;
  bool tiktok_audited = false;
  // Charges YouTube's upload quota before each upload session (set once the store exists).
  std::shared_ptr<cf::publishing::YouTubeApi::ChargeUpload> youtube_charge =
      std::make_shared<cf::publishing::YouTubeApi::ChargeUpload>();
  void Add(std::unique_ptr<cf::publishing::PlatformApi> api) {
    by_name[api->name()] = api.get();
    owned.push_back(std::move(api));
  }
};

absl::StatusOr<Platforms> MakePlatforms(const Settings& settings, absl::Duration timeout,
                                        absl::Duration upload_timeout, absl::Duration poll) {
  Platforms platforms;
  // TikTok.
  cf::publishing::TikTokConfig tiktok;
  tiktok.base_url = settings.Url("tiktok_base_url", tiktok.base_url, "/tiktok");
  tiktok.client_key = settings.Plain("tiktok_client_key", "sandbox-client");
  auto tiktok_secret = settings.Secret("tiktok_client_secret", "sandbox-secret");
  auto tiktok_access = settings.Secret("tiktok_access_token", "sandbox-access");
  auto tiktok_refresh = settings.Secret("tiktok_refresh_token", "sandbox-refresh");
  for (const auto* value : {&tiktok_secret, &tiktok_access, &tiktok_refresh}) {
    if (!value->ok()) return value->status();
  }
  tiktok.client_secret = *tiktok_secret;
  tiktok.timeout = timeout;
  tiktok.upload_timeout = upload_timeout;
  tiktok.poll_interval = poll;
  // The sandbox's app is audited unless it was started with --tiktok_audited false.
  auto audited = settings.config.GetBool("tiktok_audited", !settings.sandbox.empty());
  if (!audited.ok()) return audited.status();
  tiktok.audited = *audited;
  platforms.tiktok_audited = *audited;
  if (absl::Status url = CheckBaseUrl(tiktok.base_url, "CF_TIKTOK_BASE_URL"); !url.ok()) return url;
  if (tiktok_access->empty()) {
    platforms.Add(std::make_unique<Unconfigured>("tiktok", "CF_TIKTOK_ACCESS_TOKEN"));
  } else {
    auto tokens = std::make_shared<cf::publishing::TokenSource>(
        "TikTok", *tiktok_access, *tiktok_refresh, cf::publishing::TikTokRenewal(tiktok));
    platforms.tokens["tiktok"] = tokens;
    platforms.Add(std::make_unique<cf::publishing::TikTokApi>(tiktok, tokens));
  }
  // TikTok promotion: Spark Ads through the Marketing API (its own long-lived token).
  cf::publishing::TikTokAdsConfig ads;
  ads.base_url =
      settings.Url("tiktok_ads_base_url", ads.base_url, "/tiktok-business/open_api/v1.3");
  ads.advertiser_id = settings.Plain("tiktok_advertiser_id", "7000000000000000001");
  ads.identity_id = settings.Plain("tiktok_identity_id", "sandbox-creator");
  ads.timeout = timeout;
  auto ads_token = settings.Secret("tiktok_ads_access_token", "sandbox-access");
  if (!ads_token.ok()) return ads_token.status();
  if (absl::Status url = CheckBaseUrl(ads.base_url, "CF_TIKTOK_ADS_BASE_URL"); !url.ok()) {
    return url;
  }
  if (!ads_token->empty() && !ads.advertiser_id.empty() && !ads.identity_id.empty()) {
    platforms.tiktok_ads = std::make_unique<cf::publishing::TikTokSparkAds>(
        ads, std::make_shared<cf::publishing::TokenSource>("TikTok Ads", *ads_token, "", nullptr));
    platforms.promotions["tiktok"] = platforms.tiktok_ads.get();
  }
  // Instagram and Facebook (one Graph client, one token).
  cf::publishing::MetaConfig meta;
  meta.graph_base_url = settings.Url("meta_graph_base_url", meta.graph_base_url, "/graph/v21.0");
  meta.video_base_url = settings.Url("meta_video_base_url", meta.video_base_url, "/graph/v21.0");
  meta.app_id = settings.Plain("meta_app_id", "sandbox-app");
  meta.instagram_user_id = settings.Plain("instagram_user_id", "17841400000000001");
  meta.facebook_page_id = settings.Plain("facebook_page_id", "100000000000001");
  meta.sponsor_id = settings.config.GetOr("meta_sponsor_id", "");
  auto meta_secret = settings.Secret("meta_app_secret", "sandbox-secret");
  auto meta_access = settings.Secret("meta_access_token", "sandbox-access");
  if (!meta_secret.ok()) return meta_secret.status();
  if (!meta_access.ok()) return meta_access.status();
  meta.app_secret = *meta_secret;
  meta.timeout = timeout;
  meta.upload_timeout = upload_timeout;
  meta.poll_interval = poll;
  for (const auto& [url, setting] : {std::pair{meta.graph_base_url, "CF_META_GRAPH_BASE_URL"},
                                     std::pair{meta.video_base_url, "CF_META_VIDEO_BASE_URL"}}) {
    if (absl::Status checked = CheckBaseUrl(url, setting); !checked.ok()) return checked;
  }
  if (meta_access->empty()) {
    platforms.Add(std::make_unique<Unconfigured>("instagram", "CF_META_ACCESS_TOKEN"));
    platforms.Add(std::make_unique<Unconfigured>("facebook", "CF_META_ACCESS_TOKEN"));
  } else {
    // Meta refuses to exchange an expired token: exchanged once less than a sixth of its life
    // (10 of 60 days) is left, and at start, to learn its expiry.
    auto tokens = std::make_shared<cf::publishing::TokenSource>(
        "Meta", *meta_access, "", cf::publishing::MetaExchange(meta), 1.0 / 6);
    platforms.tokens["meta"] = tokens;
    auto graph = std::make_shared<cf::publishing::GraphClient>(meta, tokens);
    platforms.Add(meta.instagram_user_id.empty()
                      ? std::unique_ptr<cf::publishing::PlatformApi>(
                            std::make_unique<Unconfigured>("instagram", "CF_INSTAGRAM_USER_ID"))
                      : std::make_unique<cf::publishing::InstagramApi>(graph));
    platforms.Add(meta.facebook_page_id.empty()
                      ? std::unique_ptr<cf::publishing::PlatformApi>(
                            std::make_unique<Unconfigured>("facebook", "CF_FACEBOOK_PAGE_ID"))
                      : std::make_unique<cf::publishing::FacebookApi>(graph));
  }
  // YouTube.
  cf::publishing::YouTubeConfig youtube;
  youtube.base_url = settings.Url("youtube_base_url", youtube.base_url, "/youtube");
  youtube.token_url = settings.Url("google_token_url", youtube.token_url, "/google/token");
  youtube.client_id = settings.Plain("google_client_id", "sandbox-client");
  auto google_secret = settings.Secret("google_client_secret", "sandbox-secret");
  auto youtube_access = settings.Secret("youtube_access_token", "sandbox-access");
  auto youtube_refresh = settings.Secret("youtube_refresh_token", "sandbox-refresh");
  for (const auto* value : {&google_secret, &youtube_access, &youtube_refresh}) {
    if (!value->ok()) return value->status();
  }
  youtube.client_secret = *google_secret;
  youtube.timeout = timeout;
  youtube.upload_timeout = upload_timeout;
  youtube.poll_interval = poll;
  for (const auto& [url, setting] : {std::pair{youtube.base_url, "CF_YOUTUBE_BASE_URL"},
                                     std::pair{youtube.token_url, "CF_GOOGLE_TOKEN_URL"}}) {
    if (absl::Status checked = CheckBaseUrl(url, setting); !checked.ok()) return checked;
  }
  if (youtube_access->empty()) {
    platforms.Add(std::make_unique<Unconfigured>("youtube", "CF_YOUTUBE_ACCESS_TOKEN"));
  } else {
    auto tokens = std::make_shared<cf::publishing::TokenSource>(
        "YouTube", *youtube_access, *youtube_refresh, cf::publishing::GoogleRenewal(youtube));
    platforms.tokens["youtube"] = tokens;
    // Bound once the database is open (main).
    auto charge = platforms.youtube_charge;
    platforms.Add(std::make_unique<cf::publishing::YouTubeApi>(
        youtube, tokens, [charge] { return *charge ? (*charge)() : absl::OkStatus(); }));
  }
  return platforms;
}

// Renewed tokens kept in the database, sealed with CF_TOKEN_KEY. Without a key they stay in
// memory, which only the sandbox may do: a real account's rotated or exchanged token would be
// lost at the next restart.
absl::Status KeepTokens(const cf::Config& config, bool sandbox, cf::db::ConnectionPool* pool,
                        Platforms& platforms, std::optional<cf::crypto::SealingKey>* key) {
  auto text = config.GetSecret("token_key");
  if (!text.ok()) return text.status();
  if (!text->has_value()) {
    if (!sandbox && !platforms.tokens.empty()) {
      return absl::FailedPreconditionError(
          "CF_TOKEN_KEY (or CF_TOKEN_KEY_FILE) is required with real platform credentials: "
          "renewed tokens are kept in the database sealed with it (make one with: openssl rand "
          "-hex 32)");
    }
    cf::Log(cf::LogLevel::kWarning, "renewed platform tokens are kept in memory only",
            {{"why", "CF_TOKEN_KEY is not set (allowed with the sandbox only)"}});
    return absl::OkStatus();
  }
  auto parsed = cf::crypto::SealingKey::Parse(**text, "CF_TOKEN_KEY");
  if (!parsed.ok()) return parsed.status();
  key->emplace(*parsed);
  for (const auto& [owner, tokens] : platforms.tokens) {
    absl::Status kept = tokens->UseStore(
        std::make_unique<cf::publishing::TokenVault>(pool, &**key, owner, tokens->CurrentGrant()));
    if (!kept.ok()) return kept;
  }
  return absl::OkStatus();
}

// Renews the tokens that must be renewed ahead of expiry (Meta's); after a failure, waits a
// minute before trying again, and says so.
class AheadRenewals {
 public:
  explicit AheadRenewals(const Platforms& platforms) : platforms_(platforms) {}
  void Run() {
    const absl::Time now = absl::Now();
    for (const auto& [owner, tokens] : platforms_.tokens) {
      if (now < next_try_[owner]) continue;
      absl::Status renewed = tokens->RenewIfExpiring(now);
      if (!renewed.ok()) {
        next_try_[owner] = now + absl::Minutes(1);
        cf::Log(cf::LogLevel::kWarning, "renewing a platform token ahead of its expiry failed",
                {{"platform", tokens->platform()}, {"error", std::string(renewed.message())}});
      }
    }
  }

 private:
  const Platforms& platforms_;
  std::map<std::string, absl::Time> next_try_;
};

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("publishing");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto assembly_addr = config->Require("assembly_addr");
  if (!assembly_addr.ok()) return cf::StartupFailure(assembly_addr.status());
  auto workers_count = config->GetInt("publish_workers", 2, 0, 64);
  auto timeout_s = config->GetInt("platform_timeout_s", 30, 1, 600);
  auto upload_timeout_s = config->GetInt("upload_timeout_s", 300, 1, 3600);
  auto poll_ms = config->GetInt("poll_interval_ms", 5000, 10, 600000);
  auto mark_ms = config->GetInt("mark_interval_ms", 1000, 10, 600000);
  auto quota = config->GetInt("youtube_daily_quota", 10000, 0, 100000000);
  auto upload_cost = config->GetInt("youtube_upload_cost", 1600, 0, 100000);
  auto deadline_s = config->GetInt("publish_deadline_s", 24 * 3600, 1, 30 * 24 * 3600);
  auto wait_limit_s = config->GetInt("publish_wait_limit_s", 6 * 3600, 1, 30 * 24 * 3600);
  for (const auto* value : {&workers_count, &timeout_s, &upload_timeout_s, &poll_ms, &mark_ms,
                            &quota, &upload_cost, &deadline_s, &wait_limit_s}) {
    if (!value->ok()) return cf::StartupFailure(value->status());
  }
  auto media = cf::media::MediaStore::Open(config->GetOr("media_dir", "media"),
                                           config->GetOr("media_base_url", ""));
  if (!media.ok()) return cf::StartupFailure(media.status());
  const std::string sandbox = config->GetOr("sandbox_url", "");
  if (!sandbox.empty()) {
    absl::Status url = CheckBaseUrl(sandbox, "CF_SANDBOX_URL");
    if (!url.ok()) return cf::StartupFailure(url);
  }
  auto platforms = MakePlatforms(Settings{*config, sandbox}, absl::Seconds(*timeout_s),
                                 absl::Seconds(*upload_timeout_s), absl::Milliseconds(*poll_ms));
  if (!platforms.ok()) return cf::StartupFailure(platforms.status());
  auto database = cf::OpenDatabase(*config, kSchemaVersion);
  if (!database.ok()) return cf::StartupFailure(database.status());
  std::optional<cf::crypto::SealingKey> token_key;
  absl::Status kept =
      KeepTokens(*config, !sandbox.empty(), database->pool.get(), *platforms, &token_key);
  if (!kept.ok()) return cf::StartupFailure(kept);
  AheadRenewals renewals(*platforms);
  auto options = cf::ServerOptionsFromConfig(*config, "publishing", "127.0.0.1:50055");
  if (!options.ok()) return cf::StartupFailure(options.status());
  auto worker_options = cf::jobs::RunnerOptionsFromConfig(*config, database->pool->conninfo());
  if (!worker_options.ok()) return cf::StartupFailure(worker_options.status());

  cf::assembly::AssemblyClient assemblies(cf::ServiceChannel(*assembly_addr));
  const std::string affiliate_url = config->GetOr(
      "affiliate_report_url", sandbox.empty() ? "" : sandbox + "/affiliate/v1/report");
  if (!affiliate_url.empty()) {
    absl::Status url = CheckBaseUrl(affiliate_url, "CF_AFFILIATE_REPORT_URL");
    if (!url.ok()) return cf::StartupFailure(url);
  }
  cf::publishing::AffiliateReport affiliate(affiliate_url, absl::Seconds(*timeout_s));
  cf::publishing::PublishingOptions publishing_options;
  publishing_options.youtube_daily_quota = *quota;
  publishing_options.youtube_upload_cost = *upload_cost;
  publishing_options.tiktok_audited = platforms->tiktok_audited;
  // Loopback video URLs are for the local media server, which only a local sandbox can reach.
  publishing_options.allow_loopback_urls = !sandbox.empty() && cf::http::IsLoopbackHttp(sandbox);
  cf::publishing::PublishDeadlines deadlines;
  deadlines.recheck_after = absl::Milliseconds(*poll_ms);
  deadlines.give_up_after = absl::Seconds(*deadline_s);
  deadlines.wait_limit = absl::Seconds(*wait_limit_s);
  cf::publishing::PublishStore store(database->pool.get(), deadlines.give_up_after);
  *platforms->youtube_charge = [&store, quota = *quota, cost = *upload_cost]() -> absl::Status {
    const absl::Time now = absl::Now();
    absl::StatusOr<bool> spent =
        store.SpendYouTubeQuota(cf::publishing::YouTubeQuotaDay(now), cost, quota);
    if (!spent.ok()) return spent.status();
    if (*spent) return absl::OkStatus();
    return cf::WithRetryAfter(absl::ResourceExhaustedError(absl::StrCat(
                                  "YouTube's upload quota for today is used (", quota, " units, ",
                                  cost, " an upload); it resets at midnight Pacific time")),
                              cf::publishing::NextYouTubeQuotaDay(now) - now);
  };
  cf::publishing::Publishing publishing(&store, &assemblies, platforms->by_name,
                                        platforms->promotions, &affiliate, &*media,
                                        publishing_options);
  cf::publishing::PublishWatcher watcher(&store);
  cf::publishing::PublishJobHandler handler(&*media, &store, platforms->by_name, deadlines);
  cf::jobs::JobRunner workers({{store.queue(), &handler, *workers_count}}, *worker_options);
  // Marks assemblies published after their posts are confirmed, and starts the promotions
  // asked for with their publishes.
  cf::Periodic marker(
      [&publishing, &renewals] {
        renewals.Run();
        publishing.MarkPublishedAssemblies();
        publishing.StartRequestedPromotions();
      },
      absl::Milliseconds(*mark_ms));
  // Stops an ended promotion's ad group until the platform confirms it, on a timer of its own:
  // an ads API that hangs must not hold up marking assemblies or renewing tokens.
  cf::Periodic stopper([&publishing] { publishing.RetryUnconfirmedStops(); }, absl::Seconds(10));

  cf::publishing::PublishingService service(&publishing, &watcher, database->executor.get());
  options->services = {{"cf.publishing.v1.PublishingService", &service}};
  options->readiness_probe = database->probe;
  const absl::Duration grace = options->drain_timeout;
  options->on_started = [&] {
    workers.Start();
    marker.Start();
    stopper.Start();
  };
  options->on_shutdown = [&] {
    watcher.Stop();
    marker.Stop();
    stopper.Stop();
    workers.Stop(grace);  // running publishes stop; their handles let the next worker resume
  };
  cf::Log(cf::LogLevel::kInfo, "workers configured",
          {{"worker_id", worker_options->worker_id},
           {"publish_workers", *workers_count},
           {"platforms", sandbox.empty() ? "real APIs" : "sandbox at " + sandbox}});
  return cf::ServeUntilSignal(std::move(*options));
}
