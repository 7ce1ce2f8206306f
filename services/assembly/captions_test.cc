#include "services/assembly/captions.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf::assembly {
namespace {

constexpr char kWordJoiner[] = "\xe2\x81\xa0";

std::vector<WordTiming> Words() {
  // "Tired of dull skin? 🔥 Meet Glow Serum today!" as a voice timed it (the emoji unspoken).
  return {{"Tired", 0.2, 0.5, true},
          {"of", 0.5, 0.6, true},
          {"dull", 0.6, 0.9, true},
          {"skin?", 0.9, 1.2, true},
          {"\xf0\x9f\x94\xa5", 1.2, 1.2, false},
          {"Meet", 1.3, 1.5, true},
          {"Glow", 1.5, 1.7, true},
          {"Serum", 1.7, 2.1, true},
          {"today!", 2.1, 2.5, true}};
}

CaptionLayout Vertical() {
  const platforms::PlatformSpec& tiktok = *platforms::FindPlatform("tiktok");
  return {1080, 1920, tiktok.safe_zone, "DejaVu Sans"};
}

// The Caption dialogue lines: (start, end, text).
std::vector<std::vector<std::string>> CaptionEvents(const std::string& document) {
  std::vector<std::vector<std::string>> events;
  for (absl::string_view line : absl::StrSplit(document, '\n')) {
    if (!absl::ConsumePrefix(&line, "Dialogue: ")) continue;
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(',', 9));
    if (fields[3] == "Caption") events.push_back({fields[1], fields[2], fields[9]});
  }
  return events;
}

TEST(CaptionsTest, UserTextIsShownNotObeyed) {
  EXPECT_EQ(AssText("a{\\b1}b"), absl::StrCat("a\\{\\", kWordJoiner, "b1\\}b"));
  EXPECT_EQ(AssText("C:\\New"), absl::StrCat("C:\\", kWordJoiner, "New"));
  EXPECT_EQ(AssText("100% \"q\": ok"), "100% \"q\": ok");
  EXPECT_EQ(AssText("two\nlines"), "two lines");
}

TEST(CaptionsTest, AssTimeIsCentiseconds) {
  EXPECT_EQ(AssTime(3723.456), "1:02:03.46");
  EXPECT_EQ(AssTime(0.004), "0:00:00.00");
  EXPECT_EQ(AssTime(-1), "0:00:00.00");
}

TEST(CaptionsTest, ScreensEndAtSentencesAndFollowEachOther) {
  std::vector<CaptionScreen> screens = GroupIntoScreens(Words(), 3, 10.0);
  ASSERT_EQ(screens.size(), 4u);
  EXPECT_EQ(screens[0].first_word, 0);  // Tired of dull
  EXPECT_EQ(screens[0].word_count, 3);
  EXPECT_EQ(screens[1].word_count, 1);  // skin?: the sentence ends
  EXPECT_EQ(screens[2].first_word, 4);  // 🔥 Meet Glow
  EXPECT_EQ(screens[3].first_word, 7);  // Serum today!
  for (size_t i = 0; i + 1 < screens.size(); ++i) {
    EXPECT_DOUBLE_EQ(screens[i].end_s, screens[i + 1].start_s);
  }
  EXPECT_DOUBLE_EQ(screens[3].end_s, 3.0);  // the last word's end plus the tail
  EXPECT_DOUBLE_EQ(GroupIntoScreens(Words(), 3, 2.8).back().end_s, 2.8);
  EXPECT_DOUBLE_EQ(screens[0].start_s, 0.2);  // the hook is on screen with its first word
}

// Every spoken word is highlighted from the moment the voice says it.
TEST(CaptionsTest, HighlightsFollowTheVoice) {
  const CaptionStyle& style = *FindCaptionStyle("bold");
  std::vector<WordTiming> words = Words();
  std::string document = CaptionDocument(words, style, Vertical(), "", 3.0);
  std::vector<std::vector<std::string>> events = CaptionEvents(document);
  int highlighted = 0;
  for (const WordTiming& word : words) {
    const std::string marked = absl::StrCat("{\\c&H", style.highlight_colour, "&}",
                                            AssText(absl::AsciiStrToUpper(word.text)), "{");
    int found = 0;
    for (const auto& event : events) {
      if (absl::StrContains(event[2], marked)) {
        ++found;
        EXPECT_EQ(event[0], AssTime(word.start_s)) << word.text;
      }
    }
    EXPECT_EQ(found, word.spoken ? 1 : 0) << word.text;
    highlighted += found;
  }
  EXPECT_EQ(highlighted, 8);
  // Events follow each other without gaps or overlaps.
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_EQ(events[i][1], events[i + 1][0]);
  EXPECT_EQ(events.front()[0], "0:00:00.20");
  EXPECT_EQ(events.back()[1], "0:00:03.00");
  EXPECT_TRUE(absl::StrContains(document, "PlayResX: 1080\nPlayResY: 1920"));
}

TEST(CaptionsTest, DisclosureIsOnScreenThroughout) {
  std::string document = CaptionDocument(Words(), *FindCaptionStyle("clean"), Vertical(),
                                         "#ad Commission earned", 3.0);
  EXPECT_TRUE(absl::StrContains(
      document, "Dialogue: 0,0:00:00.00,0:00:03.00,Disclosure,,0,0,0,,#ad Commission earned\n"));
  EXPECT_EQ(FindCaptionStyle("none"), nullptr);
  EXPECT_EQ(CaptionStyles().front().name, "bold");
}

// What libass says drawing `document` over a 1080x1920 frame (ffmpeg's log).
std::string RenderLog(const std::string& document, const std::string& name) {
  const std::string path = testing::TestTempPath(name + ".ass");
  std::ofstream(path) << document;
  return testing::CommandOutput(
      "ffmpeg -hide_banner -nostdin -f lavfi -i color=c=0x336699:s=1080x1920:d=1:r=5 -vf 'ass=" +
      path + "' -f null - 2>&1; echo exit=$?");
}

// Quotes, colons, backslashes, percent signs, override braces, emoji, CJK and right-to-left
// text: drawn, every glyph found in some font, and ffmpeg content.
TEST(CaptionsTest, EveryScriptRendersWithAllItsGlyphs) {
  std::vector<WordTiming> words;
  double t = 0;
  for (const char* text :
       {"\"Glow\":", "C:\\New\\{x}", "100%", "{\\fs200}big?", "\xf0\x9f\x94\xa5\xe2\x9c\xa8",
        "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
        "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", "%{pts}", "caf\xc3\xa9"}) {
    words.push_back({text, t, t + 0.1, true});
    t += 0.1;
  }
  std::string log = RenderLog(
      CaptionDocument(words, *FindCaptionStyle("bold"), Vertical(), "#ad \xe2\x9c\x93", 1.0),
      "scripts");
  EXPECT_TRUE(absl::StrContains(log, "exit=0")) << log;
  EXPECT_FALSE(absl::StrContains(log, "failed to find any fallback")) << log;
  // libass read both styles (and its Default), the disclosure and one event per word.
  EXPECT_TRUE(absl::StrContains(log, "(3 styles, 11 events)")) << log;
}

// The check above can fail: a glyph no installed font has is reported.
TEST(CaptionsTest, AMissingGlyphIsReported) {
  std::vector<WordTiming> words = {{"\xf0\x90\x80\x80", 0, 0.5, true}};  // U+10000, Linear B
  std::string log =
      RenderLog(CaptionDocument(words, *FindCaptionStyle("bold"), Vertical(), "", 1.0), "linear-b");
  EXPECT_TRUE(absl::StrContains(log, "failed to find any fallback")) << log;
}

}  // namespace
}  // namespace cf::assembly
