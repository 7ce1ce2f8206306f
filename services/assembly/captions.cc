#include "services/assembly/captions.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace cf::assembly {
namespace {

// Shown after the last word of the last screen, so it does not vanish with the last syllable.
constexpr double kTailSeconds = 0.5;

// U+2060 WORD JOINER: invisible, and keeps a backslash from starting a libass escape.
constexpr char kWordJoiner[] = "\xe2\x81\xa0";

bool EndsSentence(absl::string_view word) {
  while (!word.empty() && (word.back() == '"' || word.back() == '\'' || word.back() == ')')) {
    word.remove_suffix(1);
  }
  return absl::EndsWith(word, ".") || absl::EndsWith(word, "!") || absl::EndsWith(word, "?");
}

std::string ScreenText(const std::vector<WordTiming>& words, const CaptionScreen& screen,
                       const CaptionStyle& style, int highlighted) {
  std::vector<std::string> shown;
  for (int i = screen.first_word; i < screen.first_word + screen.word_count; ++i) {
    std::string text =
        AssText(style.uppercase ? absl::AsciiStrToUpper(words[i].text) : words[i].text);
    if (i == highlighted) {
      text = absl::StrCat("{\\c&H", style.highlight_colour, "&}", text, "{\\c&H", style.text_colour,
                          "&}");
    }
    shown.push_back(std::move(text));
  }
  return absl::StrJoin(shown, " ");
}

std::string Dialogue(double start_s, double end_s, const std::string& style,
                     const std::string& text) {
  return absl::StrCat("Dialogue: 0,", AssTime(start_s), ",", AssTime(end_s), ",", style,
                      ",,0,0,0,,", text, "\n");
}

}  // namespace

const std::vector<CaptionStyle>& CaptionStyles() {
  static const std::vector<CaptionStyle>* styles = new std::vector<CaptionStyle>{
      {"bold", "Large white capitals with a black outline, the spoken word in yellow", 84, "FFFFFF",
       "00D7FF", 6, true, 3},
      {"clean", "Sentence-case white text with a thin outline, the spoken word in cyan", 64,
       "FFFFFF", "FFFF00", 3, false, 5},
      {"pop", "Large capitals one or two at a time, the spoken word in green", 104, "FFFFFF",
       "4CFF4C", 8, true, 2},
  };
  return *styles;
}

const CaptionStyle* FindCaptionStyle(absl::string_view name) {
  for (const CaptionStyle& style : CaptionStyles()) {
    if (style.name == name) return &style;
  }
  return nullptr;
}

std::string AssText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        absl::StrAppend(&out, "\\", kWordJoiner);
        break;
      case '{':
        out += "\\{";
        break;
      case '}':
        out += "\\}";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string AssTime(double seconds) {
  const int64_t centis = std::llround(std::max(0.0, seconds) * 100);
  return absl::StrFormat("%d:%02d:%02d.%02d", centis / 360000, centis / 6000 % 60,
                         centis / 100 % 60, centis % 100);
}

std::vector<CaptionScreen> GroupIntoScreens(const std::vector<WordTiming>& words,
                                            int words_per_screen, double duration_s) {
  std::vector<CaptionScreen> screens;
  for (int i = 0; i < static_cast<int>(words.size()); ++i) {
    if (screens.empty() || screens.back().word_count == words_per_screen ||
        EndsSentence(words[i - 1].text)) {
      screens.push_back({i, 0, words[i].start_s, 0});
    }
    ++screens.back().word_count;
  }
  for (size_t s = 0; s < screens.size(); ++s) {
    const WordTiming& last = words[screens[s].first_word + screens[s].word_count - 1];
    screens[s].end_s = s + 1 < screens.size() ? screens[s + 1].start_s
                                              : std::min(duration_s, last.end_s + kTailSeconds);
    screens[s].end_s = std::max(screens[s].end_s, screens[s].start_s);
  }
  return screens;
}

std::string CaptionDocument(const std::vector<WordTiming>& words, const CaptionStyle& style,
                            const CaptionLayout& layout, const std::string& disclosure,
                            double duration_s) {
  const double scale = layout.width / 1080.0;
  const int font_size = static_cast<int>(style.font_size * scale);
  const int margin = static_cast<int>(40 * scale);
  const int left = static_cast<int>(layout.safe_zone.left * layout.width) + margin;
  const int right = static_cast<int>(layout.safe_zone.right * layout.width) + margin;
  // Captions sit just above the bottom of the safe zone; the disclosure just below its top.
  const int bottom = static_cast<int>(layout.safe_zone.bottom * layout.height) + margin;
  const int top = static_cast<int>(layout.safe_zone.top * layout.height) + margin / 2;
  std::string document = absl::StrCat(
      "[Script Info]\nScriptType: v4.00+\nPlayResX: ", layout.width, "\nPlayResY: ", layout.height,
      "\nWrapStyle: 0\nScaledBorderAndShadow: yes\n\n[V4+ Styles]\n"
      "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
      "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
      "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n",
      // The font name goes in unescaped: it is chosen from a fixed list, never user text.
      "Style: Caption,", layout.font, ",", font_size, ",&H00", style.text_colour,
      ",&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,",
      static_cast<int>(style.outline * scale), ",0,2,", left, ",", right, ",", bottom, ",1\n",
      "Style: Disclosure,", layout.font, ",", static_cast<int>(40 * scale),
      ",&H00FFFFFF,&H00FFFFFF,&H99000000,&H99000000,-1,0,0,0,100,100,0,0,3,",
      static_cast<int>(8 * scale), ",0,8,", left, ",", right, ",", top, ",1\n\n",
      "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, "
      "Text\n");
  if (!disclosure.empty()) {
    absl::StrAppend(&document, Dialogue(0, duration_s, "Disclosure", AssText(disclosure)));
  }
  for (const CaptionScreen& screen : GroupIntoScreens(words, style.words_per_screen, duration_s)) {
    // The screen's time is cut at each spoken word's start; each piece highlights that word.
    // Words not spoken (emoji) are shown, never highlighted.
    double from = screen.start_s;
    int highlighted = -1;
    for (int i = screen.first_word; i <= screen.first_word + screen.word_count; ++i) {
      const bool at_end = i == screen.first_word + screen.word_count;
      if (!at_end && !words[i].spoken) continue;
      const double to = at_end ? screen.end_s : std::max(from, words[i].start_s);
      if (to > from) {
        absl::StrAppend(&document, Dialogue(from, to, "Caption",
                                            ScreenText(words, screen, style, highlighted)));
      }
      from = to;
      highlighted = i;
    }
  }
  return document;
}

}  // namespace cf::assembly
