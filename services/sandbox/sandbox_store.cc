#include "services/sandbox/sandbox_store.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {

// Fields missing from an older state.json take their defaults.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrueRates, reach, like_rate, comment_rate,
                                                share_rate, save_rate, click_rate, conversion_rate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Post, platform, key, account, caption, title,
                                                privacy, flags, video_sha256, video_bytes,
                                                created_ms, probed, fail_reason, duration_s,
                                                publish_id, container_id, promotion_daily_budget,
                                                promotion_started_ms, promotion_ended_ms,
                                                promotion_earlier_spend_cents, promotion_until_ms,
                                                truth_set_ms, truth)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Upload, platform, id, publish_id, post_key, account,
                                                total_bytes, chunk_size, chunk_count,
                                                received_bytes, created_ms, completed_ms, request)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Container, id, account, video_url, caption, params,
                                                created_ms, status_code, status, media_key,
                                                video_sha256, video_bytes, duration_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AdCampaign, id, advertiser_id, name, objective_type,
                                                budget_mode, created_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AdGroup, id, advertiser_id, campaign_id, name,
                                                budget_cents, schedule_type, schedule_start_time,
                                                schedule_end_time, schedule_end_ms,
                                                operation_status, request, created_ms, modified_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Ad, id, advertiser_id, adgroup_id, name,
                                                identity_type, identity_id, tiktok_item_id,
                                                created_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TokenAccount, valid, expired, expires_ms,
                                                refresh_revoked, issued, refresh_current,
                                                refresh_previous, refreshes_issued)

Post* State::FindPost(const std::string& platform, const std::string& key) {
  for (Post& post : posts) {
    if (post.platform == platform && post.key == key) return &post;
  }
  return nullptr;
}

TokenAccount& State::Tokens(const std::string& account) { return tokens[account]; }

nlohmann::json ToJson(const State& state) {
  return {{"version", 1},
          {"next_number", state.next_number},
          {"posts", state.posts},
          {"uploads", state.uploads},
          {"containers", state.containers},
          {"tokens", state.tokens},
          {"campaigns", state.campaigns},
          {"adgroups", state.adgroups},
          {"ads", state.ads}};
}

absl::StatusOr<State> StateFromJson(const nlohmann::json& json) {
  State state;
  try {
    if (!json.is_object()) throw std::invalid_argument("not a JSON object");
    state.next_number = json.value("next_number", int64_t{1});
    state.posts = json.value("posts", std::vector<Post>{});
    state.uploads = json.value("uploads", std::map<std::string, Upload>{});
    state.containers = json.value("containers", std::map<std::string, Container>{});
    state.tokens = json.value("tokens", std::map<std::string, TokenAccount>{});
    state.campaigns = json.value("campaigns", std::map<std::string, AdCampaign>{});
    state.adgroups = json.value("adgroups", std::map<std::string, AdGroup>{});
    state.ads = json.value("ads", std::map<std::string, Ad>{});
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("unreadable sandbox state: ", error.what()));
  }
  return state;
}

absl::StatusOr<std::unique_ptr<SandboxStore>> SandboxStore::Open(const std::string& data_dir) {
  std::unique_ptr<SandboxStore> store(new SandboxStore(data_dir));
  for (const std::string folder : {"videos/tiktok", "videos/instagram", "videos/facebook",
                                   "videos/youtube", "uploads", "containers"}) {
    absl::Status made = MakeDirs(absl::StrCat(data_dir, "/", folder));
    if (!made.ok()) return made;
  }
  const std::string path = data_dir + "/state.json";
  std::ifstream file(path, std::ios::binary);
  if (file) {
    std::stringstream text;
    text << file.rdbuf();
    nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat(path,
                                                     " is not JSON: move it away to start "
                                                     "from an empty sandbox"));
    }
    absl::StatusOr<State> state = StateFromJson(json);
    if (!state.ok()) return state.status();
    store->state_ = std::move(*state);
  }
  return store;
}

absl::Status SandboxStore::Save() {
  return WriteFileAtomically(data_dir_ + "/state.json", ToJson(state_).dump(1));
}

std::string SandboxStore::VideoPath(const std::string& platform, const std::string& key) const {
  return absl::StrCat(data_dir_, "/videos/", platform, "/", key, ".mp4");
}

std::string SandboxStore::PartPath(const std::string& upload_id) const {
  return absl::StrCat(data_dir_, "/uploads/", upload_id, ".part");
}

std::string SandboxStore::ContainerPath(const std::string& container_id) const {
  return absl::StrCat(data_dir_, "/containers/", container_id, ".mp4");
}

}  // namespace cf::sandbox
