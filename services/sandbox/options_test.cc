#include "services/sandbox/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cf::sandbox {
namespace {

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sandbox_server");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(OptionsTest, DefaultsMatchTheContract) {
  absl::StatusOr<Options> options = Parse({});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->host, "127.0.0.1");
  EXPECT_EQ(options->port, 8090);
  EXPECT_EQ(options->rate_scale, 1);
  EXPECT_EQ(options->processing_ms, 2000);
  EXPECT_EQ(options->post_id_delay_ms, 1000);
  EXPECT_EQ(options->day_seconds, 86400);
  EXPECT_EQ(options->cpm_cents, 1000);
  EXPECT_TRUE(options->tiktok_audited);
  EXPECT_EQ(options->media_fetch_timeout_s, 30);
}

TEST(OptionsTest, TakesBothFlagForms) {
  absl::StatusOr<Options> options = Parse(
      {"--listen", "0.0.0.0:9000", "--data_dir=/tmp/x", "--rate_scale", "0.5", "--processing_ms=10",
       "--post_id_delay_ms", "20", "--day_seconds", "2.5", "--cpm", "12.5", "--tiktok_audited",
       "false", "--media_fetch_timeout_s=3", "--truth_required=true", "--truth_noise", "0.4"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->host, "0.0.0.0");
  EXPECT_EQ(options->port, 9000);
  EXPECT_EQ(options->data_dir, "/tmp/x");
  EXPECT_EQ(options->rate_scale, 0.5);
  EXPECT_EQ(options->processing_ms, 10);
  EXPECT_EQ(options->post_id_delay_ms, 20);
  EXPECT_EQ(options->day_seconds, 2.5);
  EXPECT_EQ(options->cpm_cents, 1250);
  EXPECT_FALSE(options->tiktok_audited);
  EXPECT_EQ(options->media_fetch_timeout_s, 3);
  EXPECT_TRUE(options->truth_required);
  EXPECT_EQ(options->truth_noise, 0.4);
}

TEST(OptionsTest, RefusesTyposAndBadValues) {
  EXPECT_FALSE(Parse({"--lisen", "127.0.0.1:1"}).ok());
  EXPECT_FALSE(Parse({"--listen", "8090"}).ok());
  EXPECT_FALSE(Parse({"--listen", "h:99999"}).ok());
  EXPECT_FALSE(Parse({"--rate_scale", "-1"}).ok());
  EXPECT_FALSE(Parse({"--day_seconds", "0"}).ok());
  EXPECT_FALSE(Parse({"--cpm", "ten"}).ok());
  EXPECT_FALSE(Parse({"--tiktok_audited", "yes"}).ok());
  EXPECT_FALSE(Parse({"--truth_required", "1"}).ok());
  EXPECT_FALSE(Parse({"--truth_noise", "-0.1"}).ok());
  EXPECT_FALSE(Parse({"--processing_ms"}).ok());
  EXPECT_FALSE(Parse({"stray"}).ok());
}

TEST(OptionsTest, CentsAreExact) {
  EXPECT_EQ(*ParseCents("10.00"), 1000);
  EXPECT_EQ(*ParseCents("0.05"), 5);
  EXPECT_EQ(*ParseCents("7"), 700);
  EXPECT_EQ(*ParseCents("3.1"), 310);
  EXPECT_FALSE(ParseCents("1.234").ok());
  EXPECT_FALSE(ParseCents("-1").ok());
  EXPECT_FALSE(ParseCents("").ok());
  EXPECT_EQ(FormatCents(1250), "12.50");
  EXPECT_EQ(FormatCents(5), "0.05");
}

}  // namespace
}  // namespace cf::sandbox
