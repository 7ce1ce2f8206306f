// media_server: serves one folder read-only over HTTP (GET and HEAD, with Range requests), in
// place of a CDN or object storage, so a platform that pulls a video by URL (Instagram's
// video_url) can fetch it locally.
//
//   media_server --listen 127.0.0.1:8091 --dir ./media
//
// SIGTERM or SIGINT stops it (exit 0).
#include <httplib.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "services/sandbox/options.h"
#include "services/sandbox/serve_until_signal.h"

int main(int argc, char** argv) {
  cf::SetLogService("media_server");
  cf::sandbox::BlockStopSignals();
  auto fail = [](const std::string& message) {
    cf::Log(cf::LogLevel::kError, "cannot start", {{"error", message}});
    return 2;
  };
  absl::StatusOr<std::map<std::string, std::string>> flags = cf::sandbox::ParseFlagMap(argc, argv);
  if (!flags.ok()) return fail(std::string(flags.status().message()));
  std::string host = "127.0.0.1";
  int port = 8091;
  std::string dir;
  for (const auto& [name, value] : *flags) {
    if (name == "listen") {
      absl::Status listen = cf::sandbox::ParseListen(value, &host, &port);
      if (!listen.ok()) return fail(std::string(listen.message()));
    } else if (name == "dir") {
      dir = value;
    } else {
      return fail("unknown flag --" + name + " (takes --listen host:port and --dir folder)");
    }
  }
  struct stat info;
  if (dir.empty() || stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return fail("--dir must name an existing folder");
  }
  httplib::Server server;
  if (!server.set_mount_point("/", dir)) return fail("cannot serve " + dir);
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    cf::Log(cf::LogLevel::kInfo, "request",
            {{"method", req.method}, {"path", req.path}, {"status", res.status}});
  });
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) return fail(absl::StrCat("cannot listen on ", host, ":", port));
  cf::Log(cf::LogLevel::kInfo, "media server listening",
          {{"address", absl::StrCat(host, ":", port)}, {"dir", dir}});
  const int signal_number =
      cf::sandbox::ServeUntilSignal([&] { server.listen_after_bind(); }, [&] { server.stop(); });
  cf::Log(cf::LogLevel::kInfo, "media server stopped", {{"signal", signal_number}});
  return signal_number != 0 ? 0 : 1;
}
