// Meta's Graph API: Instagram Reels (container, status, publish) and Facebook Page videos
// (resumable upload: start, transfer, finish), with their insights.
//
// Never twice:
// - Instagram: the container id is recorded before media_publish, the step that makes the
//   post. The next attempt reads the container: PUBLISHED means the post exists (its id is
//   found among the account's newest media by caption, skipping media other publishes
//   recorded, and only when one is left), FINISHED means publish now. A container is
//   published once; a crash before it was recorded leaves a container that expires
//   unpublished. A status the adapter does not know keeps the handle.
// - Facebook: the video id and upload session are recorded after start, before the transfer
//   and the finish that makes the post. The next attempt reads the video: still
//   upload_incomplete means resume from the bytes Facebook has and finish; anything else means
//   the finish went through, and it waits for processing.
#ifndef CF_SERVICES_PUBLISHING_META_H_
#define CF_SERVICES_PUBLISHING_META_H_

#include <memory>
#include <string>
#include <vector>

#include "services/publishing/api_support.h"
#include "services/publishing/platform_api.h"

namespace cf::publishing {

struct MetaConfig {
  std::string graph_base_url = "https://graph.facebook.com/v21.0";
  std::string video_base_url = "https://graph-video.facebook.com/v21.0";
  std::string app_id;
  std::string app_secret;
  std::string instagram_user_id;
  std::string facebook_page_id;
  // A business partner's id for the paid-partnership label; "" sends the disclosure in the
  // caption only.
  std::string sponsor_id;
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration upload_timeout = absl::Minutes(5);
  int64_t chunk_size = 8 << 20;
  absl::Duration poll_interval = absl::Seconds(5);
};

// Meta exchanges a token (fb_exchange_token) instead of refreshing it.
TokenSource::Renew MetaExchange(const MetaConfig& config);

// Shared by both: a Graph call with the token, Meta's errors mapped.
class GraphClient {
 public:
  GraphClient(MetaConfig config, std::shared_ptr<TokenSource> tokens)
      : config_(std::move(config)), tokens_(std::move(tokens)) {}
  // `method` GET (fields in the query) or POST (form fields); `base` one of the config's URLs.
  absl::StatusOr<nlohmann::json> Call(
      const std::string& method, const std::string& base, const std::string& path,
      const std::vector<std::pair<std::string, std::string>>& fields,
      const std::atomic<bool>* cancel = nullptr);
  // A multipart POST carrying a chunk of the video.
  absl::StatusOr<nlohmann::json> PostChunk(
      const std::string& path, const std::vector<std::pair<std::string, std::string>>& fields,
      const std::string& file_field, const std::string& bytes, const std::atomic<bool>* cancel);
  const MetaConfig& config() const { return config_; }

 private:
  absl::StatusOr<nlohmann::json> Answer(const absl::StatusOr<http::Response>& response);
  MetaConfig config_;
  std::shared_ptr<TokenSource> tokens_;
};

// Meta's error code and subcode in a Graph answer (0 when none), e.g. 9007 without a subcode
// for a container already published.
struct GraphError {
  int64_t code = 0;
  int64_t subcode = 0;
};
GraphError GraphErrorOf(const absl::Status& status);
// Meta says to make a new container (code -2 subcode 2207020, media expired; code -1 subcode
// 2207053, unknown upload error): the old one was never published.
bool NeedsNewContainer(const absl::Status& status);

class InstagramApi final : public PlatformApi {
 public:
  explicit InstagramApi(std::shared_ptr<GraphClient> graph) : graph_(std::move(graph)) {}
  std::string name() const override { return "instagram"; }
  absl::StatusOr<Advanced> Advance(const PostRequest& post, const std::string& handle,
                                   PublishContext& context) override;
  absl::StatusOr<PostFigures> Figures(const std::string& post_id) override;

 private:
  absl::StatusOr<Advanced> Publish(const std::string& container_id, int64_t started_ms,
                                   const PostRequest& post, PublishContext& context);
  // The post an earlier attempt made from this publish's container: among the account's
  // newest media, the one with this caption made since the publish began that no other
  // publish recorded (UNAVAILABLE, asked again later, while none is listed;
  // FAILED_PRECONDITION when several are).
  absl::StatusOr<Advanced> FindPublished(int64_t started_ms, const PostRequest& post,
                                         PublishContext& context);
  absl::StatusOr<Advanced> Found(const std::string& media_id);
  // Starts again with a new container, the handle let go (the old one was never published).
  absl::StatusOr<Advanced> Remade(const PostRequest& post, PublishContext& context);
  std::shared_ptr<GraphClient> graph_;
};

class FacebookApi final : public PlatformApi {
 public:
  explicit FacebookApi(std::shared_ptr<GraphClient> graph) : graph_(std::move(graph)) {}
  std::string name() const override { return "facebook"; }
  absl::StatusOr<Advanced> Advance(const PostRequest& post, const std::string& handle,
                                   PublishContext& context) override;
  absl::StatusOr<PostFigures> Figures(const std::string& post_id) override;

 private:
  // Sends the bytes from `offset` on, then finishes.
  absl::Status TransferAndFinish(const PostRequest& post, const std::string& session,
                                 int64_t offset, PublishContext& context);
  std::shared_ptr<GraphClient> graph_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_META_H_
