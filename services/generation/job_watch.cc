#include "services/generation/job_watch.h"

#include <map>
#include <optional>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/validation/ids.h"

namespace cf::generation {

// What the poller needs of a watch, whatever its message type.
class WatchBase {
 public:
  virtual ~WatchBase() = default;
  virtual JobKind kind() const = 0;
  virtual const std::string& id() const = 0;
  virtual void OfferImage(const v1::Image& /*image*/) {}
  virtual void OfferVideo(const v1::Video& /*video*/) {}
  virtual void FinishWith(const grpc::Status& status) = 0;
};

namespace {

bool IsTerminal(v1::JobState state) {
  return state == v1::JOB_STATE_COMPLETED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

// One open stream. The server-side reactor is done only after Finish, which only this class
// calls, so writes never race with the end of the call.
template <typename Message>
class WatchCall final : public grpc::ServerWriteReactor<Message>, public WatchBase {
 public:
  WatchCall(JobWatcher* watcher, JobKind kind, std::string id)
      : watcher_(watcher), kind_(kind), id_(std::move(id)) {}
  void Bind(std::shared_ptr<WatchBase> self) { self_ = std::move(self); }

  JobKind kind() const override { return kind_; }
  const std::string& id() const override { return id_; }

  void OfferImage(const v1::Image& image) override {
    if constexpr (std::is_same_v<Message, v1::Image>) Offer(image);
  }
  void OfferVideo(const v1::Video& video) override {
    if constexpr (std::is_same_v<Message, v1::Video>) Offer(video);
  }

  void FinishWith(const grpc::Status& status) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_) return;
      if (writing_) {  // finish once the write in flight is done
        pending_finish_ = status;
        return;
      }
      finished_ = true;
    }
    this->Finish(status);
  }

  void OnWriteDone(bool ok) override {
    grpc::Status finish;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      writing_ = false;
      if (finished_) return;
      if (pending_finish_) {
        finish = *pending_finish_;
      } else if (!ok) {
        finish = grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away");
      } else if (IsTerminal(last_.state())) {
        finish = grpc::Status::OK;
      } else {
        return;
      }
      finished_ = true;
    }
    this->Finish(finish);
  }

  void OnCancel() override {
    FinishWith(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
  }

  void OnDone() override {
    std::shared_ptr<WatchBase> self = std::move(self_);
    watcher_->Remove(self);  // the last reference may go here
  }

 private:
  void Offer(const Message& message) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_ || writing_) return;
      if (sent_any_ && message.state() == last_.state() && message.progress() == last_.progress()) {
        return;
      }
      sent_any_ = true;
      last_ = message;
      writing_ = true;
    }
    this->StartWrite(&last_);
  }

  JobWatcher* watcher_;
  JobKind kind_;
  std::string id_;
  std::shared_ptr<WatchBase> self_;
  std::mutex mutex_;
  bool writing_ = false;
  bool finished_ = false;
  bool sent_any_ = false;
  std::optional<grpc::Status> pending_finish_;
  Message last_;
};

// A stream answered at once (bad id, too many watches, shutting down).
template <typename Message>
class Refusal final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit Refusal(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

JobWatcher::JobWatcher(JobStore* store, absl::Duration interval, int max_watches)
    : store_(store), interval_(interval), max_watches_(max_watches) {
  poller_ = std::thread([this] { PollLoop(); });
}

JobWatcher::~JobWatcher() {
  Stop();
  if (poller_.joinable()) poller_.join();
}

void JobWatcher::Stop() {
  std::set<std::shared_ptr<WatchBase>> open;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    open = watches_;
  }
  wake_.notify_all();
  for (const auto& watch : open) {
    watch->FinishWith(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                   "the server is shutting down; watch again to continue"));
  }
}

void JobWatcher::Remove(const std::shared_ptr<WatchBase>& watch) {
  std::lock_guard<std::mutex> lock(mutex_);
  watches_.erase(watch);
}

template <typename Message>
grpc::ServerWriteReactor<Message>* JobWatcher::Open(grpc::CallbackServerContext* /*context*/,
                                                    JobKind kind, const std::string& id) {
  FieldViolations violations;
  CheckUuidField(id, "id", &violations);
  if (!violations.empty()) return new Refusal<Message>(ToGrpcStatus(violations.Build()));
  auto watch = std::make_shared<WatchCall<Message>>(this, kind, id);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      return new Refusal<Message>(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    }
    if (static_cast<int>(watches_.size()) >= max_watches_) {
      return new Refusal<Message>(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                               "too many open watches; poll with Get instead"));
    }
    watch->Bind(watch);
    watches_.insert(watch);
  }
  wake_.notify_all();  // send the current state now rather than at the next tick
  return watch.get();
}

grpc::ServerWriteReactor<v1::Image>* JobWatcher::WatchImage(grpc::CallbackServerContext* context,
                                                            const v1::WatchImageRequest* request) {
  return Open<v1::Image>(context, JobKind::kImage, request->id());
}

grpc::ServerWriteReactor<v1::Video>* JobWatcher::WatchVideo(grpc::CallbackServerContext* context,
                                                            const v1::WatchVideoRequest* request) {
  return Open<v1::Video>(context, JobKind::kVideo, request->id());
}

void JobWatcher::PollLoop() {
  for (;;) {
    std::vector<std::shared_ptr<WatchBase>> watches;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (stopping_) return;
      watches.assign(watches_.begin(), watches_.end());
    }
    std::vector<std::string> image_ids, video_ids;
    for (const auto& watch : watches) {
      (watch->kind() == JobKind::kImage ? image_ids : video_ids).push_back(watch->id());
    }
    std::map<std::string, v1::Image> images;
    std::map<std::string, v1::Video> videos;
    bool read_ok = true;
    if (!image_ids.empty()) {
      auto found = store_->GetImages(image_ids);
      read_ok &= found.ok();
      if (found.ok())
        for (auto& image : *found) images[image.id()] = image;
    }
    if (!video_ids.empty()) {
      auto found = store_->GetVideos(video_ids);
      read_ok &= found.ok();
      if (found.ok())
        for (auto& video : *found) videos[video.id()] = video;
    }
    for (const auto& watch : watches) {
      if (!read_ok) continue;  // a database hiccup: try again next tick
      if (watch->kind() == JobKind::kImage) {
        auto it = images.find(watch->id());
        if (it == images.end()) {
          watch->FinishWith(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                         absl::StrCat("image ", watch->id(), " not found")));
        } else {
          watch->OfferImage(it->second);
        }
      } else {
        auto it = videos.find(watch->id());
        if (it == videos.end()) {
          watch->FinishWith(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                         absl::StrCat("video ", watch->id(), " not found")));
        } else {
          watch->OfferVideo(it->second);
        }
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(interval_)));
  }
}

}  // namespace cf::generation
