// Opaque, stable page tokens for keyset pagination (AIP-158): the sort key of the last row
// returned plus a fingerprint of the request's filters, so a token used with other filters is
// refused instead of silently skipping rows.
#ifndef CF_COMMON_PAGING_PAGE_TOKEN_H_
#define CF_COMMON_PAGING_PAGE_TOKEN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cf {

// `key`: the last row's sort key, one string per column; none may contain '\x1f'.
std::string EncodePageToken(const std::vector<std::string>& key, const std::string& filters);

// The key, or INVALID_ARGUMENT on "page_token" when the token is malformed, has another number
// of columns, or was issued for other filters.
absl::StatusOr<std::vector<std::string>> DecodePageToken(const std::string& token, size_t columns,
                                                         const std::string& filters);

// The cursor of lists ordered newest first: the last row's created_at (timestamptz text as the
// database printed it) and id (a UUID).
struct CreatedCursor {
  std::string created_at;
  std::string id;
};

// "" -> nullopt; a token from the same list and filters -> its cursor; anything else ->
// INVALID_ARGUMENT on "page_token" naming `list` (e.g. "ListDossiers").
absl::StatusOr<std::optional<CreatedCursor>> DecodeCreatedCursor(const std::string& token,
                                                                 const std::string& filters,
                                                                 const std::string& list);
std::string EncodeCreatedCursor(const CreatedCursor& cursor, const std::string& filters);

// Page size from a request: 0 -> default, above max -> max, negative -> INVALID_ARGUMENT.
absl::StatusOr<int> PageSize(int requested, int default_size, int max_size);

}  // namespace cf

#endif  // CF_COMMON_PAGING_PAGE_TOKEN_H_
