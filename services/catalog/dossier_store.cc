#include "services/catalog/dossier_store.h"

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/create_once.h"
#include "common/db/errors.h"
#include "common/db/values.h"

namespace cf::catalog {
namespace {

// Columns every read returns, in the order DossierOf expects.
const std::string& Columns() {
  static const std::string columns = absl::StrCat(
      "id::text, slug, name, benefits, pain_points, proof_types, target_audience, category, "
      "niche, price::text, tiktok_shop_url, affiliate_link, status, ",
      db::MicrosOf("created_at"), ", ", db::MicrosOf("updated_at"),
      ", owner_id::text, created_at::text");
  return columns;
}

constexpr int kCreatedAtTextColumn = 16;

// A row of Columns() as DossierOf reads it: from libpqxx inside a transaction, or from the
// pipelined reader on the hot read path. Text is "" for NULL in both.
struct PqxxRow {
  const pqxx::row& row;
  bool IsNull(int column) const { return row[column].is_null(); }
  const char* Text(int column) const { return row[column].c_str(); }
};

struct ReaderRow {
  const db::ReadRows& rows;
  bool IsNull(int column) const { return rows.IsNull(0, column); }
  const char* Text(int column) const { return rows.Text(0, column); }
};

template <typename Row>
void ReadArray(const Row& row, int column, google::protobuf::RepeatedPtrField<std::string>* out) {
  if (row.IsNull(column)) return;
  for (std::string& item : db::ParseTextArray(row.Text(column))) *out->Add() = std::move(item);
}

template <typename Row>
int64_t Micros(const Row& row, int column) {
  int64_t micros = 0;
  (void)absl::SimpleAtoi(row.Text(column), &micros);  // a bigint the server printed
  return micros;
}

template <typename Row>
v1::Dossier DossierOf(const Row& row) {
  v1::Dossier dossier;
  dossier.set_id(row.Text(0));
  dossier.set_slug(row.Text(1));
  dossier.set_name(row.Text(2));
  ReadArray(row, 3, dossier.mutable_benefits());
  ReadArray(row, 4, dossier.mutable_pain_points());
  ReadArray(row, 5, dossier.mutable_proof_types());
  dossier.set_target_audience(row.Text(6));
  dossier.set_category(row.Text(7));
  dossier.set_niche(row.Text(8));
  dossier.set_price(row.Text(9));
  dossier.set_tiktok_shop_url(row.Text(10));
  dossier.set_affiliate_link(row.Text(11));
  dossier.set_status(StatusFromDb(row.Text(12)));
  db::SetTimestamp(Micros(row, 13), dossier.mutable_created_at());
  db::SetTimestamp(Micros(row, 14), dossier.mutable_updated_at());
  dossier.set_owner_id(row.Text(15));
  return dossier;
}

v1::Dossier RowToDossier(const pqxx::row& row) { return DossierOf(PqxxRow{row}); }

std::string ArrayLiteral(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return db::TextArrayLiteralOf(items);
}

absl::Status NotFound(const std::string& key) {
  return absl::NotFoundError(absl::StrCat("dossier ", key, " not found"));
}

// The reader's answer to a one-row read as a dossier, or NOT_FOUND naming `key`.
db::PipelinedReader::Done OneDossier(std::string key, DossierDone done) {
  return [key = std::move(key), done = std::move(done)](absl::StatusOr<db::ReadRows> rows) {
    if (!rows.ok()) return done(rows.status());
    if (rows->empty()) return done(NotFound(key));
    done(DossierOf(ReaderRow{*rows}));
  };
}

std::optional<v1::Dossier> SelectOne(pqxx::transaction_base& txn, const std::string& where,
                                     const std::string& value, bool for_update = false) {
  pqxx::result rows =
      txn.exec_params(absl::StrCat("SELECT ", Columns(), " FROM cf_product_dossiers WHERE ", where,
                                   for_update ? " FOR UPDATE" : ""),
                      value);
  if (rows.empty()) return std::nullopt;
  return RowToDossier(rows[0]);
}

// The highest numeric suffix among slugs "base" and "base-N" (1 for the bare base).
int HighestSuffix(pqxx::transaction_base& txn, const std::string& base) {
  pqxx::result rows = txn.exec_params(
      "SELECT COALESCE(MAX(CASE WHEN slug = $1 THEN 1 "
      "ELSE substring(slug FROM '-([0-9]{1,9})$')::int END), 0) "
      "FROM cf_product_dossiers WHERE slug = $1 OR slug ~ ('^' || $1 || '-[0-9]{1,9}$')",
      base);
  return rows[0][0].as<int>();
}

}  // namespace

std::string StatusToDb(v1::DossierStatus status) {
  switch (status) {
    case v1::DOSSIER_STATUS_DRAFT:
      return "draft";
    case v1::DOSSIER_STATUS_ACTIVE:
      return "active";
    case v1::DOSSIER_STATUS_ARCHIVED:
      return "archived";
    default:
      return "";
  }
}

v1::DossierStatus StatusFromDb(const std::string& status) {
  if (status == "draft") return v1::DOSSIER_STATUS_DRAFT;
  if (status == "active") return v1::DOSSIER_STATUS_ACTIVE;
  if (status == "archived") return v1::DOSSIER_STATUS_ARCHIVED;
  return v1::DOSSIER_STATUS_UNSPECIFIED;
}

absl::StatusOr<v1::Dossier> DossierStore::Create(const v1::Dossier& dossier, bool explicit_slug,
                                                 const std::string& request_id) {
  v1::Dossier created;
  auto find_by_request = [&](pqxx::work& txn) {
    auto existing = SelectOne(txn, "create_request_id = $1", request_id);
    if (existing) created = *existing;
    return existing.has_value();
  };
  absl::Status status = db::CreateOnce(pool_, request_id, find_by_request, [&](pqxx::work& txn) {
    std::string base = dossier.slug();
    std::string slug = base;
    // A racing create can take the slug between our read and insert; each lost race moves on
    // to the next suffix. Ten losses in a row means something else is wrong.
    for (int attempt = 0; attempt < 10; ++attempt) {
      pqxx::result rows = txn.exec_params(
          absl::StrCat("INSERT INTO cf_product_dossiers (slug, name, benefits, pain_points, "
                       "proof_types, target_audience, category, niche, price, tiktok_shop_url, "
                       "affiliate_link, create_request_id) VALUES ($1, $2, $3::text[], "
                       "$4::text[], $5::text[], $6, $7, $8, $9::numeric, $10, $11, $12) "
                       "ON CONFLICT (slug) DO NOTHING RETURNING ",
                       Columns()),
          slug, dossier.name(), ArrayLiteral(dossier.benefits()),
          ArrayLiteral(dossier.pain_points()), ArrayLiteral(dossier.proof_types()),
          db::NullIfEmpty(dossier.target_audience()), db::NullIfEmpty(dossier.category()),
          db::NullIfEmpty(dossier.niche()), db::NullIfEmpty(dossier.price()),
          db::NullIfEmpty(dossier.tiktok_shop_url()), db::NullIfEmpty(dossier.affiliate_link()),
          db::NullIfEmpty(request_id));
      if (!rows.empty()) {
        created = RowToDossier(rows[0]);
        return absl::OkStatus();
      }
      if (explicit_slug) {
        return absl::AlreadyExistsError(absl::StrCat("slug '", slug, "' is already taken"));
      }
      slug = absl::StrCat(base, "-", std::max(HighestSuffix(txn, base), 1) + 1);
    }
    return absl::AbortedError("could not find a free slug; retry");
  });
  if (!status.ok()) return status;
  return created;
}

// The hot read path: one statement on the pipelined reader, no executor thread.
void DossierStore::GetById(const std::string& id, DossierDone done) {
  static const std::string name = "catalog_dossier_by_id";
  static const std::string sql =
      absl::StrCat("SELECT ", Columns(), " FROM cf_product_dossiers WHERE id = $1::uuid");
  reads_->Read(name, sql, {id}, OneDossier(id, std::move(done)));
}

void DossierStore::GetBySlug(const std::string& slug, DossierDone done) {
  static const std::string name = "catalog_dossier_by_slug";
  static const std::string sql =
      absl::StrCat("SELECT ", Columns(), " FROM cf_product_dossiers WHERE slug = $1");
  reads_->Read(name, sql, {slug},
               OneDossier(absl::StrCat("with slug '", slug, "'"), std::move(done)));
}

absl::StatusOr<DossierPage> DossierStore::List(const DossierFilter& filter,
                                               const std::optional<DossierCursor>& after,
                                               int page_size) {
  DossierPage page;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", Columns(),
                     " FROM cf_product_dossiers"
                     " WHERE ($1::text IS NULL OR status = $1)"
                     " AND ($2::text IS NULL OR category = $2)"
                     " AND ($3::text IS NULL OR niche = $3)"
                     " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, "
                     "$5::uuid))"
                     " ORDER BY created_at DESC, id DESC LIMIT $6"),
        db::NullIfEmpty(filter.status), db::NullIfEmpty(filter.category),
        db::NullIfEmpty(filter.niche), after ? after->created_at.c_str() : nullptr,
        after ? after->id.c_str() : nullptr, page_size + 1);
    for (int i = 0; i < static_cast<int>(rows.size()) && i < page_size; ++i) {
      page.dossiers.push_back(RowToDossier(rows[i]));
    }
    if (static_cast<int>(rows.size()) > page_size) {
      const pqxx::row& last = rows[page_size - 1];
      page.next =
          DossierCursor{last[kCreatedAtTextColumn].as<std::string>(), last[0].as<std::string>()};
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::StatusOr<v1::Dossier> DossierStore::Update(
    const std::string& id, const std::function<absl::Status(v1::Dossier*)>& change) {
  v1::Dossier updated;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    std::optional<v1::Dossier> current = SelectOne(txn, "id = $1::uuid", id, true);
    if (!current) return NotFound(id);
    v1::Dossier next = *current;
    absl::Status changed = change(&next);
    if (!changed.ok()) return changed;
    pqxx::result rows = txn.exec_params(
        absl::StrCat("UPDATE cf_product_dossiers SET slug = $2, name = $3, benefits = "
                     "$4::text[], pain_points = $5::text[], proof_types = $6::text[], "
                     "target_audience = $7, category = $8, niche = $9, price = $10::numeric, "
                     "tiktok_shop_url = $11, affiliate_link = $12 WHERE id = $1::uuid "
                     "RETURNING ",
                     Columns()),
        id, next.slug(), next.name(), ArrayLiteral(next.benefits()),
        ArrayLiteral(next.pain_points()), ArrayLiteral(next.proof_types()),
        db::NullIfEmpty(next.target_audience()), db::NullIfEmpty(next.category()),
        db::NullIfEmpty(next.niche()), db::NullIfEmpty(next.price()),
        db::NullIfEmpty(next.tiktok_shop_url()), db::NullIfEmpty(next.affiliate_link()));
    updated = RowToDossier(rows[0]);
    return absl::OkStatus();
  });
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("that slug is already taken by another dossier");
  }
  if (!status.ok()) return status;
  return updated;
}

absl::Status DossierStore::Delete(const std::string& id, bool force) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows = txn.exec_params(
        "SELECT d.status, EXISTS (SELECT 1 FROM cf_published_content pc JOIN "
        "cf_assembled_content ac ON ac.id = pc.assembled_content_id WHERE ac.dossier_id = d.id) "
        "FROM cf_product_dossiers d WHERE d.id = $1::uuid FOR UPDATE",
        id);
    if (rows.empty()) return NotFound(id);
    std::string state = rows[0][0].as<std::string>();
    bool published = rows[0][1].as<bool>();
    if (!force && state == "active") {
      return absl::FailedPreconditionError(
          "dossier is active: archive it first, or set force to delete it with everything "
          "made from it");
    }
    if (!force && published) {
      return absl::FailedPreconditionError(
          "dossier has published content, which deleting it would delete too: set force to "
          "delete anyway");
    }
    txn.exec_params("DELETE FROM cf_product_dossiers WHERE id = $1::uuid", id);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Dossier> DossierStore::Transition(const std::string& id, v1::DossierStatus from,
                                                     v1::DossierStatus to) {
  v1::Dossier updated;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    std::optional<v1::Dossier> current = SelectOne(txn, "id = $1::uuid", id, true);
    if (!current) return NotFound(id);
    if (current->status() != from) {
      return absl::FailedPreconditionError(
          absl::StrCat("dossier is ", StatusToDb(current->status()), "; only a ", StatusToDb(from),
                       " dossier can become ", StatusToDb(to)));
    }
    pqxx::result rows = txn.exec_params(
        absl::StrCat("UPDATE cf_product_dossiers SET status = $2 WHERE id = $1::uuid "
                     "RETURNING ",
                     Columns()),
        id, StatusToDb(to));
    updated = RowToDossier(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return updated;
}

absl::StatusOr<v1::DossierOverview> DossierStore::Overview(const std::string& id) {
  v1::DossierOverview overview;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    // The seed's "Get dossier with all assets" query, plus published content.
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", Columns(),
                     ", (SELECT COUNT(*) FROM cf_generated_images WHERE dossier_id = d.id),"
                     " (SELECT COUNT(*) FROM cf_generated_videos WHERE dossier_id = d.id),"
                     " (SELECT COUNT(*) FROM cf_scripts WHERE dossier_id = d.id),"
                     " (SELECT COUNT(*) FROM cf_assembled_content WHERE dossier_id = d.id),"
                     " (SELECT COUNT(*) FROM cf_published_content pc JOIN cf_assembled_content ac"
                     "   ON ac.id = pc.assembled_content_id WHERE ac.dossier_id = d.id)"
                     " FROM cf_product_dossiers d WHERE d.id = $1::uuid"),
        id);
    if (rows.empty()) return NotFound(id);
    const pqxx::row& row = rows[0];
    *overview.mutable_dossier() = RowToDossier(row);
    overview.set_image_count(row[kCreatedAtTextColumn + 1].as<int64_t>());
    overview.set_video_count(row[kCreatedAtTextColumn + 2].as<int64_t>());
    overview.set_script_count(row[kCreatedAtTextColumn + 3].as<int64_t>());
    overview.set_assembled_count(row[kCreatedAtTextColumn + 4].as<int64_t>());
    overview.set_published_count(row[kCreatedAtTextColumn + 5].as<int64_t>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return overview;
}

}  // namespace cf::catalog
