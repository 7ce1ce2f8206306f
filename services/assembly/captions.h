// Word-timed captions in the short-video style: a few words on screen, the spoken word
// highlighted, written as an ASS subtitle file that ffmpeg's `ass` filter (libass) draws.
// User text reaches libass only inside this file, escaped: never inside a filter string.
#ifndef CF_SERVICES_ASSEMBLY_CAPTIONS_H_
#define CF_SERVICES_ASSEMBLY_CAPTIONS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/platforms/platforms.h"
#include "services/assembly/voice.h"

namespace cf::assembly {

// A named look for captions.
struct CaptionStyle {
  std::string name;
  std::string description;
  int font_size = 0;             // pixels on a 1080-pixel-wide frame (scaled with the width)
  std::string text_colour;       // ASS &HBBGGRR&
  std::string highlight_colour;  // the word being spoken
  int outline = 0;               // pixels
  bool uppercase = false;
  int words_per_screen = 0;
};

// The styles, the default ("bold") first.
const std::vector<CaptionStyle>& CaptionStyles();
const CaptionStyle* FindCaptionStyle(absl::string_view name);

// Where the captions go: the frame, the platform's safe zone and the font family.
struct CaptionLayout {
  int width = 0;
  int height = 0;
  platforms::SafeZone safe_zone;
  std::string font = "DejaVu Sans";
};

// `text` as ASS dialogue text that libass shows as written: override braces and backslash
// sequences (\N, \h, {\b1}) are shown, not obeyed.
std::string AssText(absl::string_view text);

// "H:MM:SS.cc", the ASS time format (centiseconds).
std::string AssTime(double seconds);

// One screen of caption: the words shown together and when.
struct CaptionScreen {
  int first_word = 0;  // index into the words
  int word_count = 0;
  double start_s = 0;
  double end_s = 0;
};

// Groups words into screens of at most `words_per_screen`, ending a screen early after a
// sentence's last word. A screen shows from its first word until the next screen starts (the
// last one until its last word ends plus a short tail, within `duration_s`).
std::vector<CaptionScreen> GroupIntoScreens(const std::vector<WordTiming>& words,
                                            int words_per_screen, double duration_s);

// The whole subtitle file: the captions, and when `disclosure` is not empty, that text at the
// top of the safe zone for the whole video.
std::string CaptionDocument(const std::vector<WordTiming>& words, const CaptionStyle& style,
                            const CaptionLayout& layout, const std::string& disclosure,
                            double duration_s);

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_CAPTIONS_H_
