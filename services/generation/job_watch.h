// WatchImage and WatchVideo: server streams of a job's state and progress. One poller thread
// reads every watched job in a single query per kind each tick and writes to the streams whose
// job changed, so a thousand watchers cost two queries per tick, not a thousand.
#ifndef CF_SERVICES_GENERATION_JOB_WATCH_H_
#define CF_SERVICES_GENERATION_JOB_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/time/time.h"
#include "cf/generation/v1/generation.pb.h"
#include "services/generation/job_store.h"

namespace cf::generation {

class WatchBase;

class JobWatcher {
 public:
  explicit JobWatcher(JobStore* store, absl::Duration interval = absl::Milliseconds(250),
                      int max_watches = 1000);
  ~JobWatcher();

  grpc::ServerWriteReactor<v1::Image>* WatchImage(grpc::CallbackServerContext* context,
                                                  const v1::WatchImageRequest* request);
  grpc::ServerWriteReactor<v1::Video>* WatchVideo(grpc::CallbackServerContext* context,
                                                  const v1::WatchVideoRequest* request);

  // Ends every open watch with UNAVAILABLE (the server is going away; watch again elsewhere)
  // and refuses new ones. Call before the server drains.
  void Stop();

  // Used by the watches themselves.
  void Remove(const std::shared_ptr<WatchBase>& watch);

 private:
  template <typename Message>
  grpc::ServerWriteReactor<Message>* Open(grpc::CallbackServerContext* context, JobKind kind,
                                          const std::string& id);
  void PollLoop();

  JobStore* store_;
  absl::Duration interval_;
  int max_watches_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<std::shared_ptr<WatchBase>> watches_;
  std::thread poller_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_JOB_WATCH_H_
