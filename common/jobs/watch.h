// Watch streaming for jobs: a server stream of one job's state and progress until it ends.
//
// One poller thread per Watcher reads every watched job in a single query each tick (`fetch`,
// e.g. a prepared `WHERE id = ANY($1)`) and writes to the streams whose job changed, so a
// thousand watchers cost one query per tick, not a thousand. `Message` is the service's job
// resource; it needs state() and progress(), and `is_terminal` says which states end a watch.
#ifndef CF_COMMON_JOBS_WATCH_H_
#define CF_COMMON_JOBS_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/status.h"
#include "common/validation/ids.h"

namespace cf::jobs {

template <typename Message>
class Watcher {
 public:
  using Fetch =
      std::function<absl::StatusOr<std::vector<Message>>(const std::vector<std::string>&)>;
  using IsTerminal = std::function<bool(const Message&)>;

  // `kind` names the resource in errors ("image").
  Watcher(std::string kind, Fetch fetch, IsTerminal is_terminal,
          absl::Duration interval = absl::Milliseconds(250), int max_watches = 1000)
      : kind_(std::move(kind)),
        fetch_(std::move(fetch)),
        is_terminal_(std::move(is_terminal)),
        interval_(interval),
        max_watches_(max_watches) {
    poller_ = std::thread([this] { PollLoop(); });
  }

  ~Watcher() {
    Stop();
    if (poller_.joinable()) poller_.join();
  }

  // The reactor for one Watch call (an invalid id, too many watches or a stopping server are
  // answered at once).
  grpc::ServerWriteReactor<Message>* Watch(const std::string& id) {
    FieldViolations violations;
    CheckUuidField(id, "id", &violations);
    if (!violations.empty()) return new Refusal(ToGrpcStatus(violations.Build()));
    auto call = std::make_shared<Call>(this, id);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        return new Refusal(
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      }
      if (static_cast<int>(calls_.size()) >= max_watches_) {
        return new Refusal(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                        "too many open watches; poll with Get instead"));
      }
      call->Bind(call);
      calls_.insert(call);
    }
    wake_.notify_all();  // send the current state now rather than at the next tick
    return call.get();
  }

  // Ends every open watch with UNAVAILABLE (the server is going away; watch again elsewhere)
  // and refuses new ones. Call before the server drains.
  void Stop() {
    std::set<std::shared_ptr<Call>> open;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      open = calls_;
    }
    wake_.notify_all();
    for (const auto& call : open) {
      call->FinishWith(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "the server is shutting down; watch again to continue"));
    }
  }

 private:
  // One open stream. The reactor is done only after Finish, which only this class calls, so
  // writes never race with the end of the call.
  class Call final : public grpc::ServerWriteReactor<Message> {
   public:
    Call(Watcher* watcher, std::string id) : watcher_(watcher), id_(std::move(id)) {}
    void Bind(std::shared_ptr<Call> self) { self_ = std::move(self); }
    const std::string& id() const { return id_; }

    void Offer(const Message& message) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (finished_ || writing_) return;
        if (sent_any_ && message.state() == last_.state() &&
            message.progress() == last_.progress()) {
          return;
        }
        sent_any_ = true;
        last_ = message;
        writing_ = true;
      }
      this->StartWrite(&last_);
    }

    void FinishWith(const grpc::Status& status) {
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
        } else if (watcher_->is_terminal_(last_)) {
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
      std::shared_ptr<Call> self = std::move(self_);
      watcher_->Remove(self);  // the last reference may go here
    }

   private:
    Watcher* watcher_;
    std::string id_;
    std::shared_ptr<Call> self_;
    std::mutex mutex_;
    bool writing_ = false;
    bool finished_ = false;
    bool sent_any_ = false;
    std::optional<grpc::Status> pending_finish_;
    Message last_;
  };

  // A stream answered at once.
  class Refusal final : public grpc::ServerWriteReactor<Message> {
   public:
    explicit Refusal(const grpc::Status& status) { this->Finish(status); }
    void OnDone() override { delete this; }
  };

  void Remove(const std::shared_ptr<Call>& call) {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.erase(call);
  }

  void PollLoop() {
    for (;;) {
      std::vector<std::shared_ptr<Call>> calls;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (stopping_) return;
        calls.assign(calls_.begin(), calls_.end());
      }
      if (!calls.empty()) Poll(calls);
      std::unique_lock<std::mutex> lock(mutex_);
      if (stopping_) return;
      wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(interval_)));
    }
  }

  void Poll(const std::vector<std::shared_ptr<Call>>& calls) {
    std::vector<std::string> ids;
    for (const auto& call : calls) ids.push_back(call->id());
    absl::StatusOr<std::vector<Message>> found = fetch_(ids);
    if (!found.ok()) return;  // a database hiccup: the next tick tries again
    std::map<std::string, const Message*> by_id;
    for (const Message& message : *found) by_id[message.id()] = &message;
    for (const auto& call : calls) {
      auto it = by_id.find(call->id());
      if (it == by_id.end()) {
        call->FinishWith(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                      absl::StrCat(kind_, " ", call->id(), " not found")));
      } else {
        call->Offer(*it->second);
      }
    }
  }

  const std::string kind_;
  const Fetch fetch_;
  const IsTerminal is_terminal_;
  const absl::Duration interval_;
  const int max_watches_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<std::shared_ptr<Call>> calls_;
  std::thread poller_;
};

}  // namespace cf::jobs

#endif  // CF_COMMON_JOBS_WATCH_H_
