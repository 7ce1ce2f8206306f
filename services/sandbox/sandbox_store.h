// Everything the sandbox remembers: posts, Instagram containers, upload sessions, tokens and
// Spark Ads. One mutex guards it; after each change the whole state is rewritten to
// <data_dir>/state.json (temp file, fsync, rename), so a restart finds exactly what was
// answered. Videos live beside it under <data_dir>/videos/<platform>/<key>.mp4.
#ifndef CF_SERVICES_SANDBOX_SANDBOX_STORE_H_
#define CF_SERVICES_SANDBOX_SANDBOX_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/sandbox/audience.h"

namespace cf::sandbox {

// A post as the platform holds it once it exists (counted by /_sandbox/stats).
struct Post {
  std::string platform;  // tiktok, instagram, facebook, youtube
  // The platform's id of the post (TikTok's 19-digit video id, Instagram's media id, Facebook's
  // video id, YouTube's video id): unique per platform, and the video's file name.
  std::string key;
  std::string account;
  std::string caption;  // TikTok's title, Instagram's caption, the description elsewhere
  std::string title;    // Facebook's and YouTube's title ("" elsewhere)
  std::string privacy;
  nlohmann::json flags = nlohmann::json::object();  // disclosure and AI-label fields as sent
  std::string video_sha256;
  int64_t video_bytes = 0;
  int64_t created_ms = 0;  // when the post came to exist
  // ffprobe's verdict (made just after the post exists; redone at start when missing).
  bool probed = false;
  std::string fail_reason;  // "" when the video is readable and within limits
  double duration_s = 0;
  std::string publish_id;    // TikTok's publish id
  std::string container_id;  // Instagram's container
  // Promotion (paid views at --cpm; TikTok's Spark Ads set it): the decimal daily budget of the
  // running or last period ("" = never promoted), that period's start and end (0 while it runs),
  // and what the periods before it spent. Promoted now: a budget and no end.
  std::string promotion_daily_budget;
  int64_t promotion_started_ms = 0;
  int64_t promotion_ended_ms = 0;
  int64_t promotion_earlier_spend_cents = 0;
  // When the running period stops spending by itself (its ad group's scheduled end; 0: none).
  int64_t promotion_until_ms = 0;
  // Its hidden truth, once set through the control API (0: none): its figures follow these
  // rates from then on (the audience model, README.md).
  int64_t truth_set_ms = 0;
  TrueRates truth;

  bool promoted() const { return !promotion_daily_budget.empty() && promotion_ended_ms == 0; }
};

// An upload in progress or done: a TikTok init, a Facebook upload session, a YouTube resumable
// session. Bytes go to PartPath until complete, then the post's video file.
struct Upload {
  std::string platform;
  std::string id;          // upload id / session id
  std::string publish_id;  // TikTok
  std::string post_key;    // Facebook: the video id from start; others: set on completion
  std::string account;
  int64_t total_bytes = 0;  // 0: not known yet (YouTube without X-Upload-Content-Length)
  int64_t chunk_size = 0;
  int64_t chunk_count = 0;
  int64_t received_bytes = 0;
  int64_t created_ms = 0;
  int64_t completed_ms = 0;                           // 0 until the post exists
  nlohmann::json request = nlohmann::json::object();  // the metadata the client sent
};

// An Instagram media container. IN_PROGRESS until the background fetch ends in FINISHED or
// ERROR; EXPIRED and PUBLISHED are derived (24 h unpublished; media_key set).
struct Container {
  std::string id;
  std::string account;
  std::string video_url;
  std::string caption;
  nlohmann::json params = nlohmann::json::object();  // share_to_feed, is_ai_generated, ...
  int64_t created_ms = 0;
  std::string status_code = "IN_PROGRESS";
  std::string status;
  std::string media_key;
  std::string video_sha256;
  int64_t video_bytes = 0;
  double duration_s = 0;
};

// TikTok's Marketing API (Spark Ads): a campaign, its ad groups (each with a daily budget in
// whole cents) and their ads, each pointing at a TikTok post. Ids are decimal strings.
struct AdCampaign {
  std::string id;
  std::string advertiser_id;
  std::string name;
  std::string objective_type;
  std::string budget_mode;
  int64_t created_ms = 0;
};

struct AdGroup {
  std::string id;
  std::string advertiser_id;
  std::string campaign_id;
  std::string name;
  int64_t budget_cents = 0;                           // per day
  std::string schedule_type = "SCHEDULE_FROM_NOW";    // or SCHEDULE_START_END
  std::string schedule_start_time;                    // as sent: "YYYY-MM-DD HH:MM:SS" (UTC)
  std::string schedule_end_time;                      // SCHEDULE_START_END only
  int64_t schedule_end_ms = 0;                        // the same, parsed (0: none)
  std::string operation_status = "ENABLE";            // ENABLE or DISABLE
  nlohmann::json request = nlohmann::json::object();  // the other fields as sent
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
};

struct Ad {
  std::string id;
  std::string advertiser_id;
  std::string adgroup_id;
  std::string name;
  std::string identity_type;
  std::string identity_id;
  std::string tiktok_item_id;  // the TikTok post's key
  int64_t created_ms = 0;
};

// The access tokens of one account ("tiktok", "meta", "google").
struct TokenAccount {
  std::vector<std::string> valid = {"sandbox-access"};
  std::vector<std::string> expired;  // issued, expired through the control API
  // When a valid token stops working by itself (ms since the epoch); tokens not listed last
  // until expired through the control API (the configured sandbox-access among them).
  std::map<std::string, int64_t> expires_ms;
  bool refresh_revoked = false;
  int64_t issued = 0;  // tokens issued so far: sbx-<account>-<n>
  // Refresh tokens that rotate (TikTok's): the newest, and the one before it, which is still
  // taken until the newest has been used once (so a lost answer does not lock the account
  // out).
  std::string refresh_current = "sandbox-refresh";
  std::string refresh_previous;
  int64_t refreshes_issued = 0;
};

struct State {
  int64_t next_number = 1;  // for ids
  std::vector<Post> posts;  // in the order they came to exist
  std::map<std::string, Upload> uploads;
  std::map<std::string, Container> containers;
  std::map<std::string, TokenAccount> tokens;
  // Spark Ads, by id (ids of one kind have the same number of digits: map order is the order
  // they were made in).
  std::map<std::string, AdCampaign> campaigns;
  std::map<std::string, AdGroup> adgroups;
  std::map<std::string, Ad> ads;

  Post* FindPost(const std::string& platform, const std::string& key);
  TokenAccount& Tokens(const std::string& account);
  int64_t NextNumber() { return next_number++; }
};

nlohmann::json ToJson(const State& state);
// INVALID_ARGUMENT when the document is not a state this code wrote.
absl::StatusOr<State> StateFromJson(const nlohmann::json& json);

class SandboxStore {
 public:
  // Creates the folders, loads state.json when present.
  static absl::StatusOr<std::unique_ptr<SandboxStore>> Open(const std::string& data_dir);

  // Every read and change of state() happens with this lock held.
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mutex_); }
  State& state() { return state_; }
  // Writes state.json atomically. Call with the lock held, after each change.
  absl::Status Save();

  const std::string& data_dir() const { return data_dir_; }
  // <data_dir>/videos/<platform>/<key>.mp4
  std::string VideoPath(const std::string& platform, const std::string& key) const;
  // <data_dir>/uploads/<upload id>.part
  std::string PartPath(const std::string& upload_id) const;
  // <data_dir>/containers/<container id>.mp4
  std::string ContainerPath(const std::string& container_id) const;

 private:
  explicit SandboxStore(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  std::string data_dir_;
  std::mutex mutex_;
  State state_;
};

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_SANDBOX_STORE_H_
