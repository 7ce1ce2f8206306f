// TikTok's Content Posting API (direct post, FILE_UPLOAD in chunks) and its video query.
//
// Never twice: the init's publish_id (with its upload URL) is recorded before the upload, the
// step that makes the post exist. A crash before that leaves an init nobody uploads to, which
// TikTok expires: no post. After it, the next attempt asks status/fetch by the publish_id and
// resumes the upload from the bytes TikTok has, or waits for processing; it inits again only
// when TikTok says that publish failed without a post (upload_expired).
#ifndef CF_SERVICES_PUBLISHING_TIKTOK_H_
#define CF_SERVICES_PUBLISHING_TIKTOK_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/publishing/api_support.h"
#include "services/publishing/platform_api.h"

namespace cf::publishing {

struct TikTokConfig {
  std::string base_url = "https://open.tiktokapis.com";
  std::string client_key;
  std::string client_secret;
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration upload_timeout = absl::Minutes(5);
  // Media transfer guide: a video under 5 MB goes in one piece; larger ones in chunks of 5 to
  // 64 MB (the last one takes the remainder).
  int64_t chunk_size = 10 << 20;
  absl::Duration poll_interval = absl::Seconds(5);
  // A public post's id may arrive minutes after PUBLISH_COMPLETE; after this long without one
  // the publish is done without it (and says so).
  absl::Duration post_id_wait = absl::Minutes(15);
  // Whether TikTok has audited the app: the API does not say, so it is a setting. An
  // unaudited app may post only privately (SELF_ONLY).
  bool audited = false;
};

// TikTok's rules that creator_info does not state: an unaudited app posts only privately, and
// branded content (a paid or affiliate disclosure: brand_content_toggle) is never private.
// FAILED_PRECONDITION saying which, before anything is sent.
absl::Status CheckTikTokRules(bool audited, const std::string& privacy, bool branded);

// What creator_info says against a post: the privacy it asks for and its length (empty when
// both are allowed). Checked when a publish is queued and again when it goes out.
std::vector<std::string> CreatorLimitProblems(const CreatorLimits& limits,
                                              const std::string& privacy, double duration_s);

// The refresh (POST /v2/oauth/token/, grant_type=refresh_token) for a TokenSource.
TokenSource::Renew TikTokRenewal(const TikTokConfig& config);

class TikTokApi final : public PlatformApi {
 public:
  TikTokApi(TikTokConfig config, std::shared_ptr<TokenSource> tokens);

  std::string name() const override { return "tiktok"; }
  absl::StatusOr<Advanced> Advance(const PostRequest& post, const std::string& handle,
                                   PublishContext& context) override;
  absl::StatusOr<PostFigures> Figures(const std::string& post_id) override;
  absl::StatusOr<CreatorLimits> Limits() override;

 private:
  // POSTs JSON to `path` and returns `data`, or the status TikTok's error code means.
  absl::StatusOr<nlohmann::json> Call(const std::string& path, const nlohmann::json& body);
  absl::StatusOr<Advanced> Start(const PostRequest& post, PublishContext& context);
  // PUTs the chunks from the one holding byte `from`.
  absl::Status Upload(const PostRequest& post, const std::string& upload_url, int64_t from,
                      PublishContext& context);
  std::string PostUrl(const std::string& post_id);

  TikTokConfig config_;
  std::shared_ptr<TokenSource> tokens_;
  std::mutex mutex_;
  std::string username_;  // from creator_info, for post URLs
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_TIKTOK_H_
