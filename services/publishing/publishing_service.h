// gRPC adapter for cf.publishing.v1.PublishingService: runs the logic on the database
// executor; WatchPublish streams from common/jobs' watcher.
#ifndef CF_SERVICES_PUBLISHING_PUBLISHING_SERVICE_H_
#define CF_SERVICES_PUBLISHING_PUBLISHING_SERVICE_H_

#include "cf/publishing/v1/publishing.grpc.pb.h"
#include "common/db/executor.h"
#include "common/jobs/watch.h"
#include "services/publishing/publishing.h"

namespace cf::publishing {

// Watch streams of publishes: until published, failed or cancelled.
class PublishWatcher {
 public:
  explicit PublishWatcher(PublishStore* store, absl::Duration interval = absl::Milliseconds(250),
                          int max_watches = 1000);
  grpc::ServerWriteReactor<v1::Publish>* Watch(const std::string& id) { return watcher_.Watch(id); }
  void Stop() { watcher_.Stop(); }

 private:
  jobs::Watcher<v1::Publish> watcher_;
};

class PublishingService final : public v1::PublishingService::CallbackService {
 public:
  PublishingService(Publishing* publishing, PublishWatcher* watcher, BoundedExecutor* executor)
      : publishing_(publishing), watcher_(watcher), executor_(executor) {}

  grpc::ServerUnaryReactor* PublishContent(grpc::CallbackServerContext* context,
                                           const v1::PublishContentRequest* request,
                                           v1::Publish* response) override;
  grpc::ServerUnaryReactor* GetPublish(grpc::CallbackServerContext* context,
                                       const v1::GetPublishRequest* request,
                                       v1::Publish* response) override;
  grpc::ServerUnaryReactor* ListPublishes(grpc::CallbackServerContext* context,
                                          const v1::ListPublishesRequest* request,
                                          v1::ListPublishesResponse* response) override;
  grpc::ServerUnaryReactor* CancelPublish(grpc::CallbackServerContext* context,
                                          const v1::CancelPublishRequest* request,
                                          v1::Publish* response) override;
  grpc::ServerUnaryReactor* ReconcilePublish(grpc::CallbackServerContext* context,
                                             const v1::ReconcilePublishRequest* request,
                                             v1::ReconcilePublishResponse* response) override;
  grpc::ServerUnaryReactor* GetPublishedContent(grpc::CallbackServerContext* context,
                                                const v1::GetPublishedContentRequest* request,
                                                v1::PublishedContent* response) override;
  grpc::ServerUnaryReactor* ListPublishedContent(
      grpc::CallbackServerContext* context, const v1::ListPublishedContentRequest* request,
      v1::ListPublishedContentResponse* response) override;
  grpc::ServerUnaryReactor* GetPostStats(grpc::CallbackServerContext* context,
                                         const v1::GetPostStatsRequest* request,
                                         v1::PostStats* response) override;
  grpc::ServerUnaryReactor* StartPromotion(grpc::CallbackServerContext* context,
                                           const v1::StartPromotionRequest* request,
                                           v1::PublishedContent* response) override;
  grpc::ServerUnaryReactor* StopPromotion(grpc::CallbackServerContext* context,
                                          const v1::StopPromotionRequest* request,
                                          v1::PublishedContent* response) override;
  grpc::ServerWriteReactor<v1::Publish>* WatchPublish(
      grpc::CallbackServerContext* context, const v1::WatchPublishRequest* request) override;

 private:
  Publishing* publishing_;
  PublishWatcher* watcher_;
  BoundedExecutor* executor_;
};

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PUBLISHING_SERVICE_H_
