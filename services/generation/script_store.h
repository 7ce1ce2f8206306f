// SQL for cf_scripts (the generation service's slice).
#ifndef CF_SERVICES_GENERATION_SCRIPT_STORE_H_
#define CF_SERVICES_GENERATION_SCRIPT_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cf/generation/v1/generation.pb.h"
#include "common/db/pool.h"
#include "services/generation/script_engine.h"

namespace cf::generation {

struct ScriptCell {
  int awareness = 0;
  int sophistication = 0;
  ScriptText text;
};

struct SaveResult {
  std::vector<v1::Script> scripts;  // in the order of the cells given
  int created = 0;
  int replaced = 0;
  int kept = 0;
};

struct ScriptFilter {
  std::string dossier_id;  // empty: any
  int awareness = 0;       // 0: any
};

// Position in (dossier_id, awareness, sophistication or 0, id) order.
struct ScriptCursor {
  std::string dossier_id;
  int awareness = 0;
  int sophistication = 0;
  std::string id;
};

struct ScriptPage {
  std::vector<v1::Script> scripts;
  std::optional<ScriptCursor> next;
};

class ScriptStore {
 public:
  explicit ScriptStore(db::ConnectionPool* pool) : pool_(pool) {}

  // Writes all cells in one transaction: a new cell is created; an existing one is replaced in
  // place (same id) when overwrite is set, otherwise kept as it is.
  absl::StatusOr<SaveResult> SaveGenerated(const std::string& dossier_id,
                                           const std::vector<ScriptCell>& cells, bool overwrite);
  // Inserts a hand-written script; a taken cell is ALREADY_EXISTS; a request_id seen before
  // returns the script it created.
  absl::StatusOr<v1::Script> Create(const v1::Script& script, const std::string& request_id);
  absl::StatusOr<v1::Script> Get(const std::string& id);
  absl::StatusOr<ScriptPage> List(const ScriptFilter& filter,
                                  const std::optional<ScriptCursor>& after, int page_size);
  absl::Status Delete(const std::string& id);

 private:
  db::ConnectionPool* pool_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_SCRIPT_STORE_H_
