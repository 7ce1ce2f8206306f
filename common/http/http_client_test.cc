#include "common/http/http_client.h"

#include <httplib.h>

#include <thread>

#include "gtest/gtest.h"

namespace cf::http {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientTest() {
    server_.Get("/to-other-host", [this](const httplib::Request&, httplib::Response& response) {
      response.set_redirect(absl_other_ + "/landing");
    });
    server_.Get("/to-same-host", [this](const httplib::Request&, httplib::Response& response) {
      response.set_redirect(base_ + "/landing");
    });
    server_.Get("/landing", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      landing_key_ = request.get_header_value("x-goog-api-key");
      response.set_content("landed", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(std::string(1 << 20, 'x'), "text/plain");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& response) {
      std::this_thread::sleep_for(std::chrono::seconds(3));
      response.set_content("late", "text/plain");
    });
    int port = server_.bind_to_any_port("127.0.0.1");
    base_ = "http://127.0.0.1:" + std::to_string(port);
    absl_other_ = "http://localhost:" + std::to_string(port);  // the same server, another host
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~HttpClientTest() override {
    server_.stop();
    thread_.join();
  }

  std::string LandingKey() {
    std::lock_guard<std::mutex> lock(mutex_);
    return landing_key_;
  }

  httplib::Server server_;
  std::thread thread_;
  std::string base_, absl_other_;
  std::mutex mutex_;
  std::string landing_key_;
};

TEST_F(HttpClientTest, TheKeyGoesOnlyToItsOwnHostAcrossRedirects) {
  Request request;
  request.headers = {{"x-goog-api-key", "secret"}};
  request.follow_redirects = true;
  request.url = base_ + "/to-same-host";
  ASSERT_EQ(Send(request)->body, "landed");
  EXPECT_EQ(LandingKey(), "secret");
  request.url = base_ + "/to-other-host";
  ASSERT_EQ(Send(request)->body, "landed");
  EXPECT_EQ(LandingKey(), "");  // removed before leaving the host it was meant for
}

TEST_F(HttpClientTest, BodiesAreCapped) {
  Request request;
  request.url = base_ + "/big";
  request.max_body_bytes = 1000;
  EXPECT_EQ(Send(request).status().code(), absl::StatusCode::kFailedPrecondition);
  request.max_body_bytes = 2 << 20;
  EXPECT_EQ(Send(request)->body.size(), 1u << 20);
}

TEST_F(HttpClientTest, ACallCanBeCancelled) {
  Request request;
  request.url = base_ + "/slow";
  std::atomic<bool> cancel{false};
  request.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Response> response = Send(request);
  canceller.join();
  EXPECT_EQ(response.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2900));
}

TEST(FetchableUrlTest, HttpsOnlyButLoopbackWhenAllowed) {
  EXPECT_TRUE(CheckFetchableUrl("https://cdn.example.com/v.mp4", false, "video").ok());
  EXPECT_FALSE(CheckFetchableUrl("http://cdn.example.com/v.mp4", true, "video").ok());
  EXPECT_FALSE(CheckFetchableUrl("http://127.0.0.1:8080/v.mp4", false, "video").ok());
  EXPECT_TRUE(CheckFetchableUrl("http://127.0.0.1:8080/v.mp4", true, "video").ok());
  EXPECT_TRUE(CheckFetchableUrl("http://localhost/v.mp4", true, "video").ok());
  EXPECT_FALSE(CheckFetchableUrl("http://127.0.0.1.evil.com/v.mp4", true, "video").ok());
  EXPECT_FALSE(CheckFetchableUrl("file:///etc/passwd", true, "video").ok());
  EXPECT_EQ(OriginOf("HTTPS://Example.com:443/a?b"), "https://example.com:443");
}

}  // namespace
}  // namespace cf::http
