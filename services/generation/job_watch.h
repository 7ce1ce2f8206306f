// WatchImage and WatchVideo: common/jobs' watch streams over the image and video tables.
#ifndef CF_SERVICES_GENERATION_JOB_WATCH_H_
#define CF_SERVICES_GENERATION_JOB_WATCH_H_

#include "cf/generation/v1/generation.pb.h"
#include "common/jobs/watch.h"
#include "services/generation/job_store.h"

namespace cf::generation {

class JobWatcher {
 public:
  explicit JobWatcher(JobStore* store, absl::Duration interval = absl::Milliseconds(250),
                      int max_watches = 1000);

  grpc::ServerWriteReactor<v1::Image>* WatchImage(grpc::CallbackServerContext* context,
                                                  const v1::WatchImageRequest* request) {
    return images_.Watch(request->id());
  }
  grpc::ServerWriteReactor<v1::Video>* WatchVideo(grpc::CallbackServerContext* context,
                                                  const v1::WatchVideoRequest* request) {
    return videos_.Watch(request->id());
  }

  // Ends every open watch with UNAVAILABLE and refuses new ones (the server is going away).
  void Stop() {
    images_.Stop();
    videos_.Stop();
  }

 private:
  jobs::Watcher<v1::Image> images_;
  jobs::Watcher<v1::Video> videos_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_JOB_WATCH_H_
