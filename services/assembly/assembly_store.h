// cf_assembled_content: drafts, their render jobs (common/jobs), and reads.
#ifndef CF_SERVICES_ASSEMBLY_ASSEMBLY_STORE_H_
#define CF_SERVICES_ASSEMBLY_ASSEMBLY_STORE_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cf/assembly/v1/assembly.pb.h"
#include "common/db/pool.h"
#include "common/jobs/queue.h"
#include "common/paging/page_token.h"
#include "services/assembly/post_text.h"

namespace cf::assembly {

// A draft as CreateAssembly decided it (its ids already checked against the other services).
struct Draft {
  std::string dossier_id;
  std::string script_id;
  std::vector<std::string> video_ids;
  std::vector<std::string> image_ids;
  std::string platform;  // "tiktok", ...
  PostText post;
  v1::AssemblyOptions options;  // with defaults filled in
  // What the render needs: {"dossier": {...}, "script": {"hook", "body", "cta"},
  // "clips": [{"id", "url"}], "images": [{"id", "url"}]}.
  nlohmann::json snapshot;
};

struct AssemblyFilter {
  std::string dossier_id;  // "" for any
  std::string platform;
  std::string status;
};

struct AssemblyPage {
  std::vector<v1::Assembly> assemblies;
  std::optional<CreatedCursor> next;
};

// The queue of renders: job_state onto the seed's status (a cancelled render is a draft again).
jobs::QueueSpec RenderQueueSpec();

class AssemblyStore {
 public:
  explicit AssemblyStore(db::ConnectionPool* pool);

  absl::StatusOr<v1::Assembly> Create(const Draft& draft, const std::string& request_id);
  absl::StatusOr<v1::Assembly> Get(const std::string& id);
  // The assembly an earlier Create with `request_id` made (nullopt when none, or when the
  // database cannot say: Create then decides).
  std::optional<v1::Assembly> FindByRequestId(const std::string& request_id);
  // The assemblies that exist among `ids`, in that order (for watch streams).
  absl::StatusOr<std::vector<v1::Assembly>> GetMany(const std::vector<std::string>& ids);
  // Queues a render: of a draft; of a ready or failed assembly only with `force`.
  absl::StatusOr<v1::Assembly> Render(const std::string& id, bool force);
  // A page after `after`: newest first, or oldest first (what is ready to publish).
  absl::StatusOr<AssemblyPage> List(const AssemblyFilter& filter,
                                    const std::optional<CreatedCursor>& after, int page_size,
                                    bool oldest_first);
  // Applies `change` to a draft's caption, hashtags and options in one transaction;
  // FAILED_PRECONDITION when it is no longer a draft.
  absl::StatusOr<v1::Assembly> UpdateDraft(
      const std::string& id, const std::function<absl::Status(v1::Assembly*)>& change);
  // ready -> published (again: no change); FAILED_PRECONDITION from any other state.
  absl::StatusOr<v1::Assembly> MarkPublished(const std::string& id);

  jobs::JobQueue* queue() { return &queue_; }

 private:
  db::ConnectionPool* pool_;
  jobs::JobQueue queue_;
};

// The option names as the seed's metadata keeps them, and back.
nlohmann::json OptionsToMetadata(const v1::AssemblyOptions& options);
v1::AssemblyOptions OptionsFromMetadata(const nlohmann::json& metadata);

}  // namespace cf::assembly

#endif  // CF_SERVICES_ASSEMBLY_ASSEMBLY_STORE_H_
