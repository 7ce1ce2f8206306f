// SQL for cf_product_dossiers (the catalog's slice). Input is validated before it gets here.
#ifndef CF_SERVICES_CATALOG_DOSSIER_STORE_H_
#define CF_SERVICES_CATALOG_DOSSIER_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cf/catalog/v1/catalog.pb.h"
#include "common/db/pipelined_reader.h"
#include "common/db/pool.h"
#include "common/paging/page_token.h"

namespace cf::catalog {

struct DossierFilter {
  std::string status;  // database value ("draft"), empty for any
  std::string category;
  std::string niche;
};

// Where a page starts: strictly after this (created_at, id) in newest-first order.
using DossierCursor = CreatedCursor;

struct DossierPage {
  std::vector<v1::Dossier> dossiers;
  std::optional<DossierCursor> next;  // set when more rows follow
};

// A dossier read's outcome, delivered on the pipelined reader's thread (it must not block).
using DossierDone = std::function<void(absl::StatusOr<v1::Dossier>)>;

class DossierStore {
 public:
  // Single-row reads go through `reads`; everything else through `pool`.
  DossierStore(db::ConnectionPool* pool, db::PipelinedReader* reads) : pool_(pool), reads_(reads) {}

  // Inserts a draft. With an explicit slug a taken slug is ALREADY_EXISTS; otherwise the slug is
  // derived from `slug_base` and a taken one gets the next free "-N" suffix, also under races.
  // A request_id seen before returns the dossier it created.
  absl::StatusOr<v1::Dossier> Create(const v1::Dossier& dossier, bool explicit_slug,
                                     const std::string& request_id);
  void GetById(const std::string& id, DossierDone done);
  void GetBySlug(const std::string& slug, DossierDone done);
  absl::StatusOr<DossierPage> List(const DossierFilter& filter,
                                   const std::optional<DossierCursor>& after, int page_size);
  // Locks the row, lets `change` edit a copy, and writes every mutable column back.
  absl::StatusOr<v1::Dossier> Update(const std::string& id,
                                     const std::function<absl::Status(v1::Dossier*)>& change);
  // Refuses an active or published dossier unless force (FAILED_PRECONDITION).
  absl::Status Delete(const std::string& id, bool force);
  // Moves status from `from` to `to`; FAILED_PRECONDITION when it is not `from`.
  absl::StatusOr<v1::Dossier> Transition(const std::string& id, v1::DossierStatus from,
                                         v1::DossierStatus to);
  absl::StatusOr<v1::DossierOverview> Overview(const std::string& id);

 private:
  db::ConnectionPool* pool_;
  db::PipelinedReader* reads_;
};

std::string StatusToDb(v1::DossierStatus status);
v1::DossierStatus StatusFromDb(const std::string& status);

}  // namespace cf::catalog

#endif  // CF_SERVICES_CATALOG_DOSSIER_STORE_H_
