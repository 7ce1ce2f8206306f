#include "services/catalog/dossier_validation.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cf::catalog {
namespace {

// ASCII folding of Latin-1 Supplement and Latin Extended-A letters, indexed from U+00C0.
// Entries are what the letter folds to ("" drops it).
const char* FoldLatin(uint32_t code_point) {
  static const char* const kLatin1[] = {
      // U+00C0 - U+00FF
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
      "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
      "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};
  // U+0100 - U+017F: mostly pairs of upper/lower case of one base letter.
  static const char* const kExtendedA[] = {
      "a", "a", "a",  "a",  "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
      "d", "d", "e",  "e",  "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
      "g", "g", "g",  "g",  "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
      "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
      "l", "l", "l",  "n",  "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
      "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
      "s", "s", "t",  "t",  "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
      "u", "u", "u",  "u",  "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"};
  if (code_point >= 0xC0 && code_point <= 0xFF) return kLatin1[code_point - 0xC0];
  if (code_point >= 0x100 && code_point <= 0x17F) return kExtendedA[code_point - 0x100];
  return nullptr;
}

// Decodes one UTF-8 sequence at text[*i], advancing *i; invalid bytes decode as U+FFFD.
uint32_t NextCodePoint(absl::string_view text, size_t* i) {
  unsigned char lead = text[*i];
  int extra;
  if (lead < 0x80) {
    extra = 0;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + extra >= text.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t code_point = extra == 0 ? lead : lead & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    unsigned char next = text[*i + k];
    if ((next & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    code_point = (code_point << 6) | (next & 0x3F);
  }
  *i += extra + 1;
  return code_point;
}

bool HasControlCharacters(absl::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t';
  });
}

void CheckText(absl::string_view value, size_t max_length, const std::string& field,
               FieldViolations* violations) {
  if (Utf8Length(value) > max_length) {
    violations->Add(field, absl::StrCat("must be at most ", max_length, " characters"));
  } else if (HasControlCharacters(value)) {
    violations->Add(field, "must not contain control characters");
  }
}

void CheckList(const google::protobuf::RepeatedPtrField<std::string>& items,
               const std::string& field, FieldViolations* violations) {
  if (items.size() > static_cast<int>(kMaxListItems)) {
    violations->Add(field, absl::StrCat("must have at most ", kMaxListItems, " entries"));
    return;
  }
  for (int i = 0; i < items.size(); ++i) {
    std::string item_field = absl::StrCat(field, "[", i, "]");
    if (absl::StripAsciiWhitespace(items[i]).empty()) {
      violations->Add(item_field, "must not be empty");
    } else {
      CheckText(items[i], kMaxListItemLength, item_field, violations);
    }
  }
}

void CheckProofTypes(const google::protobuf::RepeatedPtrField<std::string>& items,
                     const std::string& field, FieldViolations* violations) {
  static const std::set<std::string> kKnown = {"before_after", "testimonial", "demo"};
  std::set<std::string> seen;
  for (int i = 0; i < items.size(); ++i) {
    std::string item_field = absl::StrCat(field, "[", i, "]");
    if (kKnown.count(items[i]) == 0) {
      violations->Add(item_field, "must be one of before_after, testimonial, demo");
    } else if (!seen.insert(items[i]).second) {
      violations->Add(item_field, "is repeated");
    }
  }
}

void CheckUrl(absl::string_view url, const std::string& field, FieldViolations* violations) {
  if (url.empty()) return;
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    violations->Add(field, "must be an http:// or https:// URL");
    return;
  }
  absl::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  bool has_space = std::any_of(url.begin(), url.end(), [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c)) ||
           static_cast<unsigned char>(c) < 0x20;
  });
  if (host.empty() || has_space) {
    violations->Add(field, "must be an http(s) URL with a host and no spaces");
  } else if (url.size() > kMaxUrlLength) {
    violations->Add(field, absl::StrCat("must be at most ", kMaxUrlLength, " characters"));
  }
}

void CheckPrice(absl::string_view price, const std::string& field, FieldViolations* violations) {
  if (price.empty()) return;
  if (absl::StartsWith(price, "-")) {
    violations->Add(field, "must be >= 0");
    return;
  }
  size_t dot = price.find('.');
  absl::string_view whole = price.substr(0, dot);
  absl::string_view cents = dot == absl::string_view::npos ? "" : price.substr(dot + 1);
  auto all_digits = [](absl::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  bool ok = !whole.empty() && whole.size() <= 8 && all_digits(whole) && all_digits(cents) &&
            (dot == absl::string_view::npos || (!cents.empty() && cents.size() <= 2));
  if (!ok) {
    violations->Add(field,
                    "must be a decimal amount in USD with at most two decimals, such as "
                    "\"19.99\" (at most 99999999.99)");
  }
}

}  // namespace

size_t Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    NextCodePoint(text, &i);
    ++count;
  }
  return count;
}

const std::vector<std::string>& MutableDossierFields() {
  static const std::vector<std::string> fields = {
      "name",     "slug",  "benefits", "pain_points",     "proof_types",   "target_audience",
      "category", "niche", "price",    "tiktok_shop_url", "affiliate_link"};
  return fields;
}

void ValidateDossierFields(const v1::Dossier& dossier, const std::vector<std::string>& fields,
                           absl::string_view prefix, FieldViolations* violations) {
  auto named = [&](absl::string_view field) { return absl::StrCat(prefix, field); };
  for (const std::string& field : fields) {
    if (field == "name") {
      if (absl::StripAsciiWhitespace(dossier.name()).empty()) {
        violations->Add(named("name"), "is required");
      } else {
        CheckText(dossier.name(), kMaxNameLength, named("name"), violations);
      }
    } else if (field == "slug") {
      if (!dossier.slug().empty() && !IsValidSlug(dossier.slug())) {
        violations->Add(named("slug"),
                        absl::StrCat("must be lowercase letters and digits separated by single "
                                     "hyphens, at most ",
                                     kMaxSlugLength, " characters"));
      }
    } else if (field == "benefits") {
      CheckList(dossier.benefits(), named("benefits"), violations);
    } else if (field == "pain_points") {
      CheckList(dossier.pain_points(), named("pain_points"), violations);
    } else if (field == "proof_types") {
      CheckProofTypes(dossier.proof_types(), named("proof_types"), violations);
    } else if (field == "target_audience") {
      CheckText(dossier.target_audience(), kMaxTextLength, named("target_audience"), violations);
    } else if (field == "category") {
      CheckText(dossier.category(), kMaxShortTextLength, named("category"), violations);
    } else if (field == "niche") {
      CheckText(dossier.niche(), kMaxShortTextLength, named("niche"), violations);
    } else if (field == "price") {
      CheckPrice(dossier.price(), named("price"), violations);
    } else if (field == "tiktok_shop_url") {
      CheckUrl(dossier.tiktok_shop_url(), named("tiktok_shop_url"), violations);
    } else if (field == "affiliate_link") {
      CheckUrl(dossier.affiliate_link(), named("affiliate_link"), violations);
    }
  }
}

std::string Slugify(absl::string_view name) {
  std::string slug;
  bool pending_hyphen = false;
  auto append = [&](absl::string_view piece) {
    if (piece.empty()) return;
    if (pending_hyphen && !slug.empty()) slug += '-';
    pending_hyphen = false;
    slug.append(piece.data(), piece.size());
  };
  for (size_t i = 0; i < name.size();) {
    uint32_t code_point = NextCodePoint(name, &i);
    if (code_point < 0x80 && absl::ascii_isalnum(static_cast<unsigned char>(code_point))) {
      char c = absl::ascii_tolower(static_cast<unsigned char>(code_point));
      append(absl::string_view(&c, 1));
    } else if (code_point == '\'' || code_point == 0x2019) {
      // Apostrophes join: "Women's" -> "womens".
    } else if (const char* folded = FoldLatin(code_point); folded != nullptr && *folded) {
      append(folded);
    } else {
      pending_hyphen = true;
    }
  }
  // Leave room for a "-NNN" collision suffix.
  constexpr size_t kMaxBase = kMaxSlugLength - 10;
  if (slug.size() > kMaxBase) {
    slug.resize(kMaxBase);
    while (!slug.empty() && slug.back() == '-') slug.pop_back();
  }
  return slug.empty() ? "dossier" : slug;
}

bool IsValidSlug(absl::string_view slug) {
  if (slug.empty() || slug.size() > kMaxSlugLength) return false;
  if (slug.front() == '-' || slug.back() == '-') return false;
  char previous = 0;
  for (char c : slug) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && previous == '-')) return false;
    previous = c;
  }
  return true;
}

}  // namespace cf::catalog
