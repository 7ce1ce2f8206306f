// The generation binary refuses a provider configuration it cannot honour, at start, clearly.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

std::string RunExpectingFailure(const std::map<std::string, std::string>& extra) {
  cf::testing::TestDatabase database;
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string log = std::string(tmp ? tmp : "/tmp") + "/generation-" + database.name() + ".log";
  std::map<std::string, std::string> env = {
      {"CF_DATABASE_URL", database.RoleConninfo("cf_generation")},
      {"CF_CATALOG_ADDR", "127.0.0.1:1"},
      {"CF_LISTEN", "127.0.0.1:" + std::to_string(cf::testing::FreePort())},
      {"CF_MEDIA_DIR", std::string(tmp ? tmp : "/tmp") + "/media"}};
  for (const auto& [key, value] : extra) env[key] = value;
  cf::testing::Subprocess process(
      {cf::testing::RunfilePath("services/generation/generation_server")}, env, log);
  int status = process.Wait(std::chrono::seconds(20));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  std::ifstream file(log);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(GenerationProcessTest, GeminiWithoutAKeyStopsStart) {
  std::string log = RunExpectingFailure({{"CF_IMAGE_PROVIDER", "gemini"}});
  EXPECT_NE(log.find("CF_GOOGLE_API_KEY"), std::string::npos) << log;
}

TEST(GenerationProcessTest, UnknownProviderStopsStart) {
  std::string log = RunExpectingFailure({{"CF_VIDEO_PROVIDER", "sora"}});
  EXPECT_NE(log.find("CF_VIDEO_PROVIDER=sora"), std::string::npos) << log;
}

}  // namespace
}  // namespace cf
