// The deterministic script writer. Templates follow Schwartz: the awareness level decides the
// hook and call to action (1 POV/meme without the product, 2 the pain, 3 a comparison, 4 a
// review, 5 urgency), the sophistication stage decides the claim (1 direct, 2 improved,
// 3 mechanism, 4 enhanced mechanism, 5 experience/identity). A seed picks among phrasings.
//
// What each level needs from the dossier, and the fallbacks (also in the README):
//   levels 1-2 need pain_points; levels 2-5 need benefits (FAILED_PRECONDITION otherwise).
//   target_audience -> "someone who wants results that last"; price -> "on sale";
//   shop link -> TikTok Shop cart, else affiliate link in bio, else "search <name>";
//   category -> "product"; proof type -> before_after.
#ifndef CF_SERVICES_GENERATION_SCRIPT_ENGINE_H_
#define CF_SERVICES_GENERATION_SCRIPT_ENGINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cf::generation {

// The dossier fields scripts are made from (a snapshot; see dossier_source.h).
struct ScriptInput {
  std::string name;
  std::vector<std::string> benefits;
  std::vector<std::string> pain_points;
  std::vector<std::string> proof_types;
  std::string target_audience;
  std::string category;
  std::string niche;
  std::string price;  // decimal USD, "" when unknown
  std::string tiktok_shop_url;
  std::string affiliate_link;
};

struct ScriptText {
  std::string hook;
  std::string body;
  std::string cta;
  int estimated_duration = 0;  // seconds
};

// Speaking rate used for estimated_duration.
inline constexpr double kWordsPerSecond = 2.5;  // 150 words per minute

// OK when `input` has what every level in `awareness_levels` needs; otherwise
// FAILED_PRECONDITION naming each missing dossier field.
absl::Status CheckScriptInput(const ScriptInput& input, const std::vector<int>& awareness_levels);

// Writes one script. awareness and sophistication are 1-5; same inputs and seed, same text.
absl::StatusOr<ScriptText> WriteScript(const ScriptInput& input, int awareness, int sophistication,
                                       int64_t seed);

// The sophistication stage that fits a dossier: its niche, else its category, looked up in a
// table of saturated and fresh markets (see script_engine.cc); 3 (mechanism) when unknown.
int DefaultSophistication(const std::string& category, const std::string& niche);

// Seconds to read `text` aloud at kWordsPerSecond, at least 1.
int EstimateSeconds(const std::string& text);

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_SCRIPT_ENGINE_H_
