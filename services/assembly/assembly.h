// The assembly service's logic, apart from its gRPC wiring: drafts checked against the catalog
// and generation (through their APIs), options with their defaults, renders queued.
#ifndef CF_SERVICES_ASSEMBLY_ASSEMBLY_H_
#define CF_SERVICES_ASSEMBLY_ASSEMBLY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cf/assembly/v1/assembly.pb.h"
#include "common/server/call_context.h"
#include "services/assembly/assembly_client.h"
#include "services/assembly/assembly_store.h"
#include "services/assembly/voice.h"
#include "services/catalog/catalog_client.h"
#include "services/generation/generation_client.h"

namespace cf::assembly {

// Clips and images one assembly may use together.
inline constexpr int kMaxAssets = 10;
// Words a voice says in a second (150 a minute), and the margin on the estimate: a create whose
// script would run past the platform's maximum is refused before anything renders.
inline constexpr double kWordsPerSecond = 2.5;
inline constexpr double kEstimateMarginSeconds = 2.0;

class Assemblies {
 public:
  Assemblies(AssemblyStore* store, catalog::DossierSource* dossiers,
             generation::ContentSource* content, const VoiceProvider* voice)
      : store_(store), dossiers_(dossiers), content_(content), voice_(voice) {}

  absl::StatusOr<v1::Assembly> CreateAssembly(const v1::CreateAssemblyRequest& request,
                                              const CallContext& call);
  absl::StatusOr<v1::Assembly> GetAssembly(const v1::GetAssemblyRequest& request);
  absl::StatusOr<v1::Assembly> RenderAssembly(const v1::RenderAssemblyRequest& request);
  absl::StatusOr<v1::AssemblyOptionsCatalog> ListAssemblyOptions(
      const v1::ListAssemblyOptionsRequest& request);
  absl::StatusOr<v1::ListAssembliesResponse> ListAssemblies(
      const v1::ListAssembliesRequest& request);
  absl::StatusOr<v1::Assembly> UpdateAssembly(const v1::UpdateAssemblyRequest& request);
  absl::StatusOr<v1::ListReadyToPublishResponse> ListReadyToPublish(
      const v1::ListReadyToPublishRequest& request);
  absl::StatusOr<v1::Assembly> MarkPublished(const v1::MarkPublishedRequest& request);

  // `options` with every empty field set to its default for `platform`, or INVALID_ARGUMENT
  // naming each unknown name and the valid ones.
  absl::StatusOr<v1::AssemblyOptions> CheckOptions(const v1::AssemblyOptions& options,
                                                   const platforms::PlatformSpec& platform) const;

 private:
  // The snapshot of the script and assets, each checked to exist, belong to the dossier and be
  // completed.
  absl::StatusOr<nlohmann::json> SnapshotAssets(const v1::CreateAssemblyRequest& request,
                                                const CallContext& call);

  AssemblyStore* store_;
  catalog::DossierSource* dossiers_;
  generation::ContentSource* content_;
  const VoiceProvider* voice_;
};

// List pages: 20 by default, at most 100.
inline constexpr int kDefaultPageSize = 20;
inline constexpr int kMaxPageSize = 100;

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_ASSEMBLY_H_
