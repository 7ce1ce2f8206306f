// YouTube Data API v3: a resumable upload (Shorts are ordinary uploads) and video statistics.
//
// Never twice: the upload session's URL is recorded before any byte is sent; the video exists
// only once its last byte has arrived. The next attempt asks the session where it stands
// (PUT with "Content-Range: bytes */SIZE"): 308 means resume from the bytes YouTube has, 200
// means the upload completed and answers the video (its id is recorded). A session YouTube no
// longer knows (404/410) never made a video, so a new one is started.
#ifndef CF_SERVICES_PUBLISHING_YOUTUBE_H_
#define CF_SERVICES_PUBLISHING_YOUTUBE_H_

#include <functional>
#include <memory>
#include <string>

#include "services/publishing/api_support.h"
#include "services/publishing/platform_api.h"

namespace cf::publishing {

struct YouTubeConfig {
  std::string base_url = "https://www.googleapis.com";
  std::string token_url = "https://oauth2.googleapis.com/token";
  std::string client_id;
  std::string client_secret;
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration upload_timeout = absl::Minutes(5);
  // Resumable chunks must be multiples of 256 KiB (but the last).
  int64_t chunk_size = 32 * 256 * 1024;
  absl::Duration poll_interval = absl::Seconds(5);
};

// YouTube's quota day (it starts at midnight Pacific time) at `time`, and when the next begins.
absl::CivilDay YouTubeQuotaDay(absl::Time time);
absl::Time NextYouTubeQuotaDay(absl::Time time);

// Google's refresh (grant_type=refresh_token) for a TokenSource.
TokenSource::Renew GoogleRenewal(const YouTubeConfig& config);

class YouTubeApi final : public PlatformApi {
 public:
  // Charges an upload's quota before the request that opens an upload session:
  // RESOURCE_EXHAUSTED (with when to try again) when the day's quota would be passed.
  using ChargeUpload = std::function<absl::Status()>;
  YouTubeApi(YouTubeConfig config, std::shared_ptr<TokenSource> tokens,
             ChargeUpload charge_upload = nullptr);
  std::string name() const override { return "youtube"; }
  absl::StatusOr<Advanced> Advance(const PostRequest& post, const std::string& handle,
                                   PublishContext& context) override;
  absl::StatusOr<PostFigures> Figures(const std::string& post_id) override;

 private:
  absl::StatusOr<http::Response> Send(const std::string& method, const std::string& url,
                                      std::vector<std::pair<std::string, std::string>> headers,
                                      std::string body, absl::Duration timeout,
                                      const std::atomic<bool>* cancel);
  // Sends the bytes from `from` on; the video's id once the last byte is in.
  absl::StatusOr<std::string> Upload(const PostRequest& post, const std::string& session,
                                     int64_t from, PublishContext& context);
  // `post`'s frame decides its URL: a vertical video is a Short, any other a watch page.
  absl::StatusOr<Advanced> Processing(const PostRequest& post, const std::string& video_id,
                                      PublishContext& context);

  YouTubeConfig config_;
  std::shared_ptr<TokenSource> tokens_;
  ChargeUpload charge_upload_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_YOUTUBE_H_
