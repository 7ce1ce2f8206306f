// The generation service's rules for scripts: request validation, defaults, and the script
// engine over the dossier the catalog returns. Plain C++; generation_service.h adapts it to gRPC.
#ifndef CF_SERVICES_GENERATION_GENERATION_H_
#define CF_SERVICES_GENERATION_GENERATION_H_

#include "absl/status/statusor.h"
#include "cf/generation/v1/generation.pb.h"
#include "common/server/call_context.h"
#include "services/generation/dossier_source.h"
#include "services/generation/script_store.h"

namespace cf::generation {

inline constexpr size_t kMaxScriptPartLength = 2000;
inline constexpr int kMaxEstimatedDuration = 600;

class Generation {
 public:
  Generation(ScriptStore* scripts, DossierSource* dossiers)
      : scripts_(scripts), dossiers_(dossiers) {}

  absl::StatusOr<v1::GenerateScriptsResponse> GenerateScripts(
      const v1::GenerateScriptsRequest& request, const CallContext& call);
  absl::StatusOr<v1::Script> CreateScript(const v1::CreateScriptRequest& request,
                                          const CallContext& call);
  absl::StatusOr<v1::Script> GetScript(const v1::GetScriptRequest& request);
  absl::StatusOr<v1::ListScriptsResponse> ListScripts(const v1::ListScriptsRequest& request);
  absl::Status DeleteScript(const v1::DeleteScriptRequest& request);

 private:
  ScriptStore* scripts_;
  DossierSource* dossiers_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_GENERATION_H_
