// Errors as the API returns them: absl::Status inside the code, grpc::Status at the edge, with
// google.rpc details (BadRequest field violations) carried in grpc-status-details-bin.
#ifndef CF_COMMON_STATUS_STATUS_H_
#define CF_COMMON_STATUS_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cf {

// Collects invalid fields of one request; Build() returns OK when there are none, otherwise
// INVALID_ARGUMENT whose message names every field and whose details hold a BadRequest.
class FieldViolations {
 public:
  void Add(std::string field, std::string description);
  // Adds the field violations `status` carries (none for OK), e.g. from a check of a part.
  void AddAll(const absl::Status& status);
  bool empty() const { return violations_.empty(); }
  absl::Status Build() const;

 private:
  std::vector<std::pair<std::string, std::string>> violations_;
};

// INVALID_ARGUMENT for a single field.
absl::Status InvalidField(std::string field, std::string description);

// The field violations carried by a status (empty when it has none).
std::vector<std::pair<std::string, std::string>> GetFieldViolations(const absl::Status& status);

// Attaches a retry hint (google.rpc.RetryInfo, so gRPC callers see it in the details too).
absl::Status WithRetryAfter(absl::Status status, absl::Duration retry_after);
// The retry hint a status carries (zero when none).
absl::Duration RetryAfterOf(const absl::Status& status);

// absl -> grpc, packing the status' payloads as google.rpc.Status details.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc -> absl, unpacking google.rpc.Status details back into payloads.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cf

#endif  // CF_COMMON_STATUS_STATUS_H_
