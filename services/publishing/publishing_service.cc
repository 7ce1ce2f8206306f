#include "services/publishing/publishing_service.h"

#include "common/server/call.h"

namespace cf::publishing {
namespace {

bool IsTerminal(const v1::Publish& publish) {
  return publish.state() == v1::PUBLISH_STATE_PUBLISHED ||
         publish.state() == v1::PUBLISH_STATE_FAILED ||
         publish.state() == v1::PUBLISH_STATE_CANCELLED;
}

}  // namespace

PublishWatcher::PublishWatcher(PublishStore* store, absl::Duration interval, int max_watches)
    : watcher_(
          "publish", [store](const std::vector<std::string>& ids) { return store->GetMany(ids); },
          &IsTerminal, interval, max_watches) {}

#define CF_PUBLISHING_METHOD(Name, Request, Response)                                   \
  CF_SERVE_UNARY(PublishingService, "/cf.publishing.v1.PublishingService/", Publishing, \
                 publishing_, Name, Request, Response)

CF_PUBLISHING_METHOD(PublishContent, v1::PublishContentRequest, v1::Publish)
CF_PUBLISHING_METHOD(GetPublish, v1::GetPublishRequest, v1::Publish)
CF_PUBLISHING_METHOD(ListPublishes, v1::ListPublishesRequest, v1::ListPublishesResponse)
CF_PUBLISHING_METHOD(CancelPublish, v1::CancelPublishRequest, v1::Publish)
CF_PUBLISHING_METHOD(ReconcilePublish, v1::ReconcilePublishRequest, v1::ReconcilePublishResponse)
CF_PUBLISHING_METHOD(GetPublishedContent, v1::GetPublishedContentRequest, v1::PublishedContent)
CF_PUBLISHING_METHOD(ListPublishedContent, v1::ListPublishedContentRequest,
                     v1::ListPublishedContentResponse)
CF_PUBLISHING_METHOD(GetPostStats, v1::GetPostStatsRequest, v1::PostStats)
CF_PUBLISHING_METHOD(StartPromotion, v1::StartPromotionRequest, v1::PublishedContent)
CF_PUBLISHING_METHOD(StopPromotion, v1::StopPromotionRequest, v1::PublishedContent)

#undef CF_PUBLISHING_METHOD

grpc::ServerWriteReactor<v1::Publish>* PublishingService::WatchPublish(
    grpc::CallbackServerContext* /*context*/, const v1::WatchPublishRequest* request) {
  return watcher_->Watch(request->id());
}

}  // namespace cf::publishing
