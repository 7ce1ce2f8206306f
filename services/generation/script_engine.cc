#include "services/generation/script_engine.h"

#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/status.h"

namespace cf::generation {
namespace {

using Pool = std::vector<const char*>;

// ---- Phrasings. Placeholders: {product} {benefit} {benefit_lc} {also} {pain} {audience}
// ---- {category} {price} {proof} {action} {action_lc} {claim}. Level 1 never uses {product}.

const Pool& HookPool(int awareness) {
  static const std::map<int, Pool> pools = {
      {1,
       {"POV: {pain} and you've tried literally everything.",
        "Nobody talks about how exhausting it is when {pain}.",
        "Tell me you know the feeling without telling me: {pain}.",
        "The face you make when {pain}. Again."}},
      {2,
       {"If {pain}, stop scrolling.", "{pain}? Here's why it keeps happening.",
        "The real reason {pain} keeps happening to you.",
        "Raise your hand if {pain}. Yeah, me too."}},
      {3,
       {"I compared every fix so you don't have to.",
        "Before you buy another {category}, watch this.",
        "Cheap quick fixes vs. {product}: an honest comparison.",
        "Three ways people deal with it. Only one is worth your money."}},
      {4,
       {"Honest review of {product} after 30 days.", "Is {product} worth it? My honest take.",
        "I didn't expect {product} to actually work.",
        "Everything you need to know about {product} in 30 seconds."}},
      {5,
       {"{product} is {price} right now, and it won't last.", "Last call: {product}, {price}.",
        "You already know {product}. This is your sign.",
        "If {product} has been sitting in your cart, this is it."}},
  };
  return pools.at(awareness);
}

const Pool& BodyPool(int awareness) {
  static const std::map<int, Pool> pools = {
      {1,
       {"If this is you, you're not alone. I spent months thinking it was just how things had "
        "to be. {claim}",
        "Everyone around me acted like it was normal. It's not, and you don't have to live with "
        "it. {claim}"}},
      {2,
       {"It's not your fault, and it's fixable. {claim} {benefit}.",
        "Most people blame themselves. The truth: it has a fix. {claim} {benefit}."}},
      {3,
       {"Option one: ignore it. Option two: quick fixes that wear off by lunch. Option three: "
        "{product}. {claim} The difference? {benefit}.",
        "I tried the cheap stuff, the expensive stuff and the home remedies. {claim} "
        "{product} was the one that stuck: {benefit_lc}."}},
      {4,
       {"What I liked: {benefit_lc}. {claim} {proof}{also}",
        "Day one I was skeptical. By week two: {benefit_lc}. {claim} {proof}"}},
      {5,
       {"{benefit}. {claim} Stock is limited and the price goes back up soon.",
        "{claim} {benefit}. {proof} This deal ends soon."}},
  };
  return pools.at(awareness);
}

const Pool& CtaPool(int awareness) {
  static const std::map<int, Pool> pools = {
      {1,
       {"Follow: part 2 shows what finally worked.", "Save this for the next time it happens.",
        "Comment 'me' if you relate and I'll share what changed."}},
      {2,
       {"{action} to see how it works.", "Don't wait for it to get worse: {action_lc}.",
        "{action} and fix it this week."}},
      {3,
       {"See why it wins: {action_lc}.", "{action} and compare for yourself.",
        "Skip the trial and error: {action_lc}."}},
      {4,
       {"{action} before it sells out again.", "Try it yourself: {action_lc}.",
        "Worth every cent. {action}."}},
      {5,
       {"{action} now, before it's gone.", "Don't miss it: {action_lc} today.",
        "{action}. Seriously, right now."}},
  };
  return pools.at(awareness);
}

// Claims mention the product; teasers are their product-free form for level 1.
const Pool& ClaimPool(int sophistication, bool teaser) {
  static const std::map<int, Pool> claims = {
      {1,
       {"{product} does exactly what it says.", "It simply works.",
        "One product. One job. {product} does it."}},
      {2,
       {"{product} does it faster and better than what you're using now.",
        "Everything else promised it. {product} actually does it better.",
        "It's the upgrade over the old way."}},
      {3,
       {"The reason it works: it goes after the cause, not the symptom.",
        "{product} works differently: it targets the root cause, not the surface.",
        "It's not magic, it's the mechanism: it fixes the cause instead of covering it up."}},
      {4,
       {"Unlike the first wave of fixes, {product} pairs a smarter mechanism with results you "
        "can see.",
        "Others copied the idea; {product} upgraded how it works.",
        "It's the next generation: same goal, a better mechanism, faster results."}},
      {5,
       {"{product} is made for {audience}.", "This is for {audience} who refuse to settle.",
        "It's what it feels like to stop worrying about it and feel like yourself again."}},
  };
  static const std::map<int, Pool> teasers = {
      {1, {"Turns out the fix is simpler than I thought."}},
      {2, {"Turns out there's a better way than what I was using."}},
      {3, {"The problem was never me: I was treating the symptom instead of the cause."}},
      {4, {"The newer approach fixes what the old ones got wrong."}},
      {5, {"It's less about the fix and more about feeling like yourself again."}},
  };
  return (teaser ? teasers : claims).at(sophistication);
}

// ---- Deterministic choice: SplitMix64 over (seed, cell, slot). std:: distributions are not
// ---- portable across standard libraries, so they are not used.

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

const char* Pick(const Pool& pool, int64_t seed, int awareness, int sophistication, int slot) {
  uint64_t h = Mix(static_cast<uint64_t>(seed));
  h = Mix(h ^ static_cast<uint64_t>(awareness * 100 + sophistication * 10 + slot));
  return pool[h % pool.size()];
}

// ---- Filling.

// "Clears spots" -> "clears spots", but "TV stand" stays.
std::string LowerFirst(absl::string_view text) {
  std::string out(text);
  if (out.size() >= 2 && absl::ascii_isupper(static_cast<unsigned char>(out[0])) &&
      absl::ascii_islower(static_cast<unsigned char>(out[1]))) {
    out[0] = absl::ascii_tolower(static_cast<unsigned char>(out[0]));
  }
  return out;
}

std::string CleanFragment(absl::string_view text) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  while (!trimmed.empty() && (trimmed.back() == '.' || trimmed.back() == '!')) {
    trimmed.remove_suffix(1);
  }
  return std::string(trimmed);
}

std::string ProofSentence(const std::vector<std::string>& proof_types) {
  std::string first = proof_types.empty() ? "before_after" : proof_types[0];
  if (first == "testimonial") return "And I'm not the only one saying it.";
  if (first == "demo") return "Watch it work in real time.";
  return "The before and after speaks for itself.";
}

std::string CallToActionVerb(const ScriptInput& input) {
  if (!input.tiktok_shop_url.empty()) return "Tap the orange cart";
  if (!input.affiliate_link.empty()) return "Hit the link in bio";
  return absl::StrCat("Search \"", input.name, "\"");
}

// Replaces every {key} in one pass, so text from the dossier is never expanded again.
std::string Fill(absl::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find('{', i);
    if (open == absl::string_view::npos) break;
    size_t close = text.find('}', open);
    if (close == absl::string_view::npos) break;
    absl::StrAppend(&out, text.substr(i, open - i));
    std::string key(text.substr(open + 1, close - open - 1));
    auto it = values.find(key);
    // Every template key is in `values`; a missing one is a bug caught by the tests.
    out += it != values.end() ? it->second : absl::StrCat("{", key, "}");
    i = close + 1;
  }
  absl::StrAppend(&out, text.substr(i));
  return out;
}

// Capitalizes a sentence that starts with a filled-in lowercase fragment; a product name keeps
// its own spelling ("iPhone stand").
std::string CapitalizeFirst(std::string text, const std::string& product) {
  if (!text.empty() && !absl::StartsWith(text, product) &&
      absl::ascii_islower(static_cast<unsigned char>(text[0]))) {
    text[0] = absl::ascii_toupper(static_cast<unsigned char>(text[0]));
  }
  return text;
}

std::map<std::string, std::string> Values(const ScriptInput& input) {
  std::string benefit = input.benefits.empty() ? "" : CleanFragment(input.benefits[0]);
  std::string benefit2 = input.benefits.size() > 1 ? CleanFragment(input.benefits[1]) : "";
  std::string pain =
      input.pain_points.empty() ? "" : LowerFirst(CleanFragment(input.pain_points[0]));
  std::string category = input.category.empty()
                             ? "product"
                             : absl::StrCat(absl::AsciiStrToLower(input.category), " product");
  return {
      {"product", input.name},
      {"benefit", benefit},
      {"benefit_lc", LowerFirst(benefit)},
      {"also", benefit2.empty() ? "" : absl::StrCat(" Also: ", LowerFirst(benefit2), ".")},
      {"pain", pain},
      {"audience", input.target_audience.empty()
                       ? "someone who wants results that last"
                       : LowerFirst(CleanFragment(input.target_audience))},
      {"category", category},
      {"price", input.price.empty() ? "on sale" : absl::StrCat("just $", input.price)},
      {"proof", ProofSentence(input.proof_types)},
      {"action", CallToActionVerb(input)},
      {"action_lc", LowerFirst(CallToActionVerb(input))},
  };
}

// Lowercase names of markets, niche or category, and their usual sophistication stage.
const std::map<std::string, int>& MarketTable() {
  static const std::map<std::string, int> table = {
      // Saturated: every claim has been made; identity sells.
      {"weight loss", 5},
      {"supplements", 5},
      {"fitness", 5},
      {"anti-aging", 5},
      // Crowded: mechanisms must be upgraded.
      {"beauty", 4},
      {"skincare", 4},
      {"haircare", 4},
      {"fashion", 4},
      {"wellness", 4},
      // Established: a mechanism story works.
      {"tech", 3},
      {"gadgets", 3},
      {"electronics", 3},
      {"health", 3},
      // Young markets: improved or direct claims.
      {"home", 2},
      {"kitchen", 2},
      {"pets", 2},
      {"cleaning", 2},
      {"toys", 2},
      {"garden", 1},
      {"automotive", 1},
  };
  return table;
}

}  // namespace

absl::Status CheckScriptInput(const ScriptInput& input, const std::vector<int>& awareness_levels) {
  bool needs_pain = false;
  bool needs_benefit = false;
  for (int level : awareness_levels) {
    if (level <= 2) needs_pain = true;
    if (level >= 2) needs_benefit = true;
  }
  std::vector<std::string> missing;
  auto empty = [](const std::vector<std::string>& items) {
    for (const auto& item : items) {
      if (!CleanFragment(item).empty()) return false;
    }
    return true;
  };
  if (needs_pain && empty(input.pain_points)) {
    missing.push_back("pain_points (awareness levels 1-2 call out the pain)");
  }
  if (needs_benefit && empty(input.benefits)) {
    missing.push_back("benefits (awareness levels 2-5 promise a result)");
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the dossier lacks what these scripts need: ", absl::StrJoin(missing, "; ")));
}

absl::StatusOr<ScriptText> WriteScript(const ScriptInput& input, int awareness, int sophistication,
                                       int64_t seed) {
  if (awareness < 1 || awareness > 5 || sophistication < 1 || sophistication > 5) {
    return absl::InvalidArgumentError("awareness and sophistication must be 1-5");
  }
  absl::Status ready = CheckScriptInput(input, {awareness});
  if (!ready.ok()) return ready;
  std::map<std::string, std::string> values = Values(input);
  bool unaware = awareness == 1;  // no product mention at all
  values["claim"] =
      Fill(Pick(ClaimPool(sophistication, unaware), seed, awareness, sophistication, 0), values);
  ScriptText script;
  script.hook = CapitalizeFirst(
      Fill(Pick(HookPool(awareness), seed, awareness, sophistication, 1), values), input.name);
  script.body = CapitalizeFirst(
      Fill(Pick(BodyPool(awareness), seed, awareness, sophistication, 2), values), input.name);
  script.cta = CapitalizeFirst(
      Fill(Pick(CtaPool(awareness), seed, awareness, sophistication, 3), values), input.name);
  script.estimated_duration =
      EstimateSeconds(absl::StrCat(script.hook, " ", script.body, " ", script.cta));
  return script;
}

int DefaultSophistication(const std::string& category, const std::string& niche) {
  const auto& table = MarketTable();
  for (const std::string* name : {&niche, &category}) {
    auto it = table.find(absl::AsciiStrToLower(absl::StripAsciiWhitespace(*name)));
    if (it != table.end()) return it->second;
  }
  return 3;
}

int EstimateSeconds(const std::string& text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \n\t"), absl::SkipWhitespace());
  return std::max(1, static_cast<int>(std::ceil(words.size() / kWordsPerSecond)));
}

}  // namespace cf::generation
