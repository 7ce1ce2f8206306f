#include "common/paging/page_token.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "common/validation/ids.h"

namespace cf {
namespace {

constexpr char kSeparator = '\x1f';
constexpr char kVersion[] = "p1";

}  // namespace

std::string EncodePageToken(const std::vector<std::string>& key, const std::string& filters) {
  std::vector<std::string> parts = {kVersion, filters};
  parts.insert(parts.end(), key.begin(), key.end());
  return absl::WebSafeBase64Escape(absl::StrJoin(parts, std::string(1, kSeparator)));
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(const std::string& token, size_t columns,
                                                         const std::string& filters) {
  std::string raw;
  if (token.size() > 2048 || !absl::WebSafeBase64Unescape(token, &raw)) {
    return InvalidField("page_token", "is not a page token from this list method");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, kSeparator);
  if (parts.size() != columns + 2 || parts[0] != kVersion) {
    return InvalidField("page_token", "is not a page token from this list method");
  }
  if (parts[1] != filters) {
    return InvalidField("page_token",
                        "was issued for other filters; repeat the first page's filters");
  }
  return std::vector<std::string>(parts.begin() + 2, parts.end());
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max_size) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return default_size;
  return std::min(requested, max_size);
}

absl::StatusOr<std::optional<CreatedCursor>> DecodeCreatedCursor(const std::string& token,
                                                                 const std::string& filters,
                                                                 const std::string& list) {
  if (token.empty()) return std::optional<CreatedCursor>();
  auto key = DecodePageToken(token, 2, filters);
  if (!key.ok()) return key.status();
  if (!IsUuid((*key)[1]) || (*key)[0].empty() || (*key)[0].size() > 40) {
    return InvalidField("page_token", absl::StrCat("is not a page token from ", list));
  }
  return std::optional<CreatedCursor>(CreatedCursor{(*key)[0], (*key)[1]});
}

std::string EncodeCreatedCursor(const CreatedCursor& cursor, const std::string& filters) {
  return EncodePageToken({cursor.created_at, cursor.id}, filters);
}

}  // namespace cf
