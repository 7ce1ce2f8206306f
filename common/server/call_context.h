// What logic code needs to know about the call it serves, without gRPC types: when it must be
// done and how to trace it. Outgoing calls inherit both.
#ifndef CF_COMMON_SERVER_CALL_CONTEXT_H_
#define CF_COMMON_SERVER_CALL_CONTEXT_H_

#include <string>

#include "absl/time/time.h"

namespace cf {

struct CallContext {
  absl::Time deadline = absl::InfiniteFuture();
  std::string request_id;
};

}  // namespace cf

#endif  // CF_COMMON_SERVER_CALL_CONTEXT_H_
