#include "common/config/config.h"

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace cf {
namespace {

using Flags = std::map<std::string, std::string>;

TEST(ConfigTest, FlagOverridesEnvironment) {
  setenv("CF_TEST_KEY", "from-env", 1);
  EXPECT_EQ(Config().Get("test_key").value(), "from-env");
  EXPECT_EQ(Config(Flags{{"test_key", "from-flag"}}).Get("test_key").value(), "from-flag");
  unsetenv("CF_TEST_KEY");
  EXPECT_FALSE(Config().Get("test_key").has_value());
}

TEST(ConfigTest, RequireNamesVariableAndFlag) {
  unsetenv("CF_SOMETHING_MISSING");
  auto value = Config().Require("something_missing");
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.status().message().find("CF_SOMETHING_MISSING"), std::string::npos);
  EXPECT_NE(value.status().message().find("--something_missing"), std::string::npos);
}

TEST(ConfigTest, ParsesFlagsAndRejectsStrayArguments) {
  char prog[] = "prog", good[] = "--listen=127.0.0.1:1", bad[] = "listen";
  char* ok_argv[] = {prog, good};
  auto config = Config::FromArgs(2, ok_argv);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->Get("listen").value(), "127.0.0.1:1");
  char* bad_argv[] = {prog, bad};
  EXPECT_FALSE(Config::FromArgs(2, bad_argv).ok());
}

TEST(ConfigTest, GetBoolTakesTrueOrFalseOnly) {
  EXPECT_TRUE(Config().GetBool("absent_bool", true).value());
  EXPECT_FALSE(Config(Flags{{"b", "false"}}).GetBool("b", true).value());
  EXPECT_TRUE(Config(Flags{{"b", "true"}}).GetBool("b", false).value());
  absl::StatusOr<bool> bad = Config(Flags{{"b", "yes"}}).GetBool("b", false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("b='yes'"), absl::string_view::npos) << bad.status();
}

TEST(ConfigTest, GetIntChecksRange) {
  EXPECT_EQ(Config().GetInt("absent_int", 7, 1, 10).value(), 7);
  EXPECT_EQ(Config(Flags{{"n", "3"}}).GetInt("n", 7, 1, 10).value(), 3);
  EXPECT_FALSE(Config(Flags{{"n", "30"}}).GetInt("n", 7, 1, 10).ok());
  EXPECT_FALSE(Config(Flags{{"n", "x"}}).GetInt("n", 7, 1, 10).ok());
}

TEST(ConfigTest, SecretsComeFromTheEnvironmentOrAFileNeverAFlag) {
  unsetenv("CF_TEST_TOKEN");
  unsetenv("CF_TEST_TOKEN_FILE");
  EXPECT_FALSE(Config().GetSecret("test_token")->has_value());
  EXPECT_EQ(Config().RequireSecret("test_token").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto flagged = Config(Flags{{"test_token", "s3cret"}}).GetSecret("test_token");
  ASSERT_FALSE(flagged.ok());
  EXPECT_EQ(flagged.status().message().find("s3cret"), std::string::npos);  // never echoed
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/token";
  std::ofstream(path) << "from-file\n";
  setenv("CF_TEST_TOKEN_FILE", path.c_str(), 1);
  EXPECT_EQ(Config().RequireSecret("test_token").value(), "from-file");
  setenv("CF_TEST_TOKEN", "from-env", 1);
  EXPECT_EQ(Config().RequireSecret("test_token").value(), "from-env");
  unsetenv("CF_TEST_TOKEN");
  unsetenv("CF_TEST_TOKEN_FILE");
}

TEST(ConfigTest, ADatabaseUrlWithAPasswordIsNoFlag) {
  unsetenv("CF_DATABASE_URL");
  EXPECT_EQ(Config(Flags{{"database_url", "host=/tmp user=cf"}}).RequireDatabaseUrl().value(),
            "host=/tmp user=cf");
  EXPECT_FALSE(
      Config(Flags{{"database_url", "host=db user=cf password=x"}}).RequireDatabaseUrl().ok());
  EXPECT_FALSE(
      Config(Flags{{"database_url", "postgresql://cf:x@db/cf"}}).RequireDatabaseUrl().ok());
  EXPECT_TRUE(Config(Flags{{"database_url", "postgresql://cf@db/cf"}}).RequireDatabaseUrl().ok());
  setenv("CF_DATABASE_URL", "postgresql://cf:x@db/cf", 1);
  EXPECT_EQ(Config().RequireDatabaseUrl().value(), "postgresql://cf:x@db/cf");
  unsetenv("CF_DATABASE_URL");
}

}  // namespace
}  // namespace cf
