#include "services/sandbox/sandbox.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "services/sandbox/control_api.h"
#include "services/sandbox/meta_api.h"
#include "services/sandbox/tiktok_ads_api.h"
#include "services/sandbox/tiktok_api.h"
#include "services/sandbox/videos.h"
#include "services/sandbox/youtube_api.h"

namespace cf::sandbox {

void ProbeWithLimits(Env& env, const Post& post) {
  if (post.platform == "tiktok") {
    ProbePost(env, post.platform, post.key, kTikTokMaxSeconds, "duration_check_failed");
  } else {
    ProbePost(env, post.platform, post.key);
  }
}

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::Create(const Options& options,
                                                         std::function<absl::Time()> clock) {
  std::unique_ptr<Sandbox> sandbox(new Sandbox());
  absl::StatusOr<std::unique_ptr<SandboxStore>> store = SandboxStore::Open(options.data_dir);
  if (!store.ok()) return store.status();
  sandbox->store_ = std::move(*store);
  sandbox->faults_ = std::make_unique<Faults>();
  sandbox->limiter_ = std::make_unique<RateLimiter>(options.rate_scale);
  sandbox->tasks_ = std::make_unique<BackgroundTasks>();
  Env& env = sandbox->env_;
  env.options = options;
  env.store = sandbox->store_.get();
  env.faults = sandbox->faults_.get();
  env.limiter = sandbox->limiter_.get();
  env.tasks = sandbox->tasks_.get();
  env.stopping = &sandbox->stopping_;
  env.clock = clock ? std::move(clock) : [] { return absl::Now(); };

  httplib::Server& server = sandbox->server_;
  // Slow faults hold a thread each while they wait: more threads than httplib's default 8.
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_payload_max_length(size_t{1} << 30);
  // A client that stops sending holds a thread no longer than this between reads (a body's
  // whole time is bounded per route, WithFullBody), and an idle connection is closed soon.
  server.set_read_timeout(10, 0);
  server.set_write_timeout(30, 0);
  server.set_keep_alive_timeout(5);
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // The path only: query strings may carry access tokens.
    Log(LogLevel::kInfo, "request",
        {{"method", req.method}, {"path", req.path}, {"status", res.status}});
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendJson(res, 500, {{"error", "internal error"}});
      });
  RegisterTikTok(server, env);
  RegisterTikTokAds(server, env);
  RegisterMeta(server, env);
  RegisterYouTube(server, env);
  RegisterControl(server, env);
  absl::Status resumed = sandbox->Resume();
  if (!resumed.ok()) return resumed;
  return sandbox;
}

absl::Status Sandbox::Resume() {
  std::vector<Post> unprobed;
  {
    auto lock = store_->Lock();
    State& state = store_->state();
    bool changed = false;
    for (auto& [id, upload] : state.uploads) {
      if (upload.completed_ms != 0 || upload.received_bytes == 0) continue;
      // A crash may have written bytes past what state.json recorded, or lost some.
      const std::string part = store_->PartPath(id);
      const int64_t size = FileSize(part);
      if (size < upload.received_bytes) {
        upload.received_bytes = std::max<int64_t>(0, size);
        changed = true;
      } else if (size > upload.received_bytes) {
        absl::Status cut = WriteAt(part, upload.received_bytes, "");
        if (!cut.ok()) return cut;
      }
    }
    for (const Post& post : state.posts) {
      if (!post.probed) unprobed.push_back(post);
    }
    if (changed) {
      absl::Status saved = store_->Save();
      if (!saved.ok()) return saved;
    }
  }
  for (const Post& post : unprobed) ProbeWithLimits(env_, post);
  ResumeInstagramFetches(env_);
  return absl::OkStatus();
}

Sandbox::~Sandbox() {
  Stop();
  // Background fetches use the store: they end before it does.
  if (tasks_) tasks_->Shutdown();
}

absl::StatusOr<int> Sandbox::Bind() {
  const Options& options = env_.options;
  int port = options.port;
  if (port == 0) {
    port = server_.bind_to_any_port(options.host);
    if (port < 0) port = 0;
  } else if (!server_.bind_to_port(options.host, port)) {
    port = 0;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port));
  }
  env_.options.port = port;
  return port;
}

void Sandbox::Serve() { server_.listen_after_bind(); }

void Sandbox::Stop() {
  stopping_ = true;
  server_.stop();
}

}  // namespace cf::sandbox
