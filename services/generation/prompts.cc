#include "services/generation/prompts.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cf::generation {
namespace {

std::string First(const std::vector<std::string>& items, const std::string& fallback) {
  for (const std::string& item : items) {
    std::string trimmed(absl::StripAsciiWhitespace(item));
    while (!trimmed.empty() && (trimmed.back() == '.' || trimmed.back() == '!')) {
      trimmed.pop_back();
    }
    if (!trimmed.empty()) return trimmed;
  }
  return fallback;
}

std::string Or(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

std::string Market(const ScriptInput& d) {
  if (!d.niche.empty()) return absl::AsciiStrToLower(d.niche);
  if (!d.category.empty()) return absl::AsciiStrToLower(d.category);
  return "everyday";
}

}  // namespace

std::string ImagePrompt(const std::string& type, const ScriptInput& d,
                        const std::string& aspect_ratio) {
  std::string person = Or(d.target_audience, "an ordinary person");
  std::string pain = First(d.pain_points, "the everyday problem the product solves");
  std::string benefit = First(d.benefits, "a visible improvement");
  std::string body;
  if (type == "before") {
    body = absl::StrCat("Photorealistic, unretouched photo of ", person, " dealing with: ", pain,
                        ". Flat, dull light, honest and relatable, ", Market(d),
                        " context. The product is not shown.");
  } else if (type == "after") {
    body =
        absl::StrCat("Photorealistic photo of the same person after using ", d.name, ": ", benefit,
                     ". Bright natural light, clean and confident, ", Market(d), " context.");
  } else if (type == "product") {
    body = absl::StrCat("Studio product photo of ", d.name, " (", Market(d),
                        " category), centred on a clean light background with soft shadows, "
                        "label facing the camera",
                        d.price.empty() ? "" : absl::StrCat(", priced at $", d.price), ".");
  } else {
    body = absl::StrCat("Candid lifestyle photo of ", person, " using ", d.name,
                        " at home in warm window light; it shows: ", benefit, ".");
  }
  return absl::StrCat(body, " Aspect ratio ", aspect_ratio,
                      ". No text, no watermark, no logos other than the product's own.");
}

std::string VideoPrompt(const std::string& type, const ScriptInput& d,
                        const std::string& aspect_ratio, int duration_seconds) {
  std::string benefit = First(d.benefits, "the result");
  std::string body;
  if (type == "reveal") {
    body = absl::StrCat("A fast whip-pan from the before scene to the after scene revealing what ",
                        d.name, " does: ", benefit, ".");
  } else if (type == "demo") {
    body = absl::StrCat("A slow push-in on ", d.name,
                        " being used, showing how it works: ", benefit, ".");
  } else if (type == "transition") {
    body = absl::StrCat("A smooth lateral camera pan across the scene with ", d.name,
                        " in frame, to bridge two shots.");
  } else {
    body = absl::StrCat(Or(d.target_audience, "A happy customer"), " holding ", d.name,
                        " and talking to camera about it, nodding; mood: ", benefit, ".");
  }
  return absl::StrCat(body, " ", duration_seconds, " seconds, aspect ratio ", aspect_ratio,
                      ", vertical-video framing for social feeds, no on-screen text.");
}

}  // namespace cf::generation
