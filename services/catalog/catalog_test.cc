// The catalog's logic and store against a real PostgreSQL, connected as the catalog's role.
#include "services/catalog/catalog.h"

#include <future>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/db/pool.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::catalog {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  v1::Dossier Create(const std::string& name, const std::string& request_id = "") {
    v1::CreateDossierRequest request;
    request.mutable_dossier()->set_name(name);
    request.mutable_dossier()->set_category("Beauty");
    request.set_request_id(request_id);
    auto created = catalog_.CreateDossier(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Dossier());
  }

  int CountRows(const std::string& table) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec("SELECT count(*) FROM " + table)[0][0].as<int>();
  }

  void Exec(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    txn.exec(sql);
  }

  // GetDossier answers through a callback on the reader's thread; this waits for it.
  absl::StatusOr<v1::Dossier> Get(const v1::GetDossierRequest& request) {
    auto answer = std::make_shared<std::promise<absl::StatusOr<v1::Dossier>>>();
    std::future<absl::StatusOr<v1::Dossier>> got = answer->get_future();
    catalog_.GetDossier(
        request, [answer](absl::StatusOr<v1::Dossier> dossier) { answer->set_value(dossier); });
    if (got.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      return absl::DeadlineExceededError("GetDossier never answered");
    }
    return got.get();
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_catalog"), 4};
  db::PipelinedReader reads_{database_.RoleConninfo("cf_catalog"), {}};
  DossierStore store_{&pool_, &reads_};
  Catalog catalog_{&store_};
};

TEST_F(CatalogTest, CreateFillsDefaultsAndReadsBack) {
  v1::CreateDossierRequest request;
  v1::Dossier* input = request.mutable_dossier();
  input->set_name("Crème Acne Patch");
  input->set_price("12.50");
  input->add_benefits("Clear skin \"fast\", {really}");
  input->add_pain_points("Breakouts before events");
  input->set_target_audience("Women 18-35 with acne");
  input->set_affiliate_link("https://amzn.to/abc");
  auto created = catalog_.CreateDossier(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->slug(), "creme-acne-patch");
  EXPECT_EQ(created->status(), v1::DOSSIER_STATUS_DRAFT);
  EXPECT_EQ(created->price(), "12.50");
  ASSERT_EQ(created->benefits_size(), 1);
  EXPECT_EQ(created->benefits(0), "Clear skin \"fast\", {really}");
  EXPECT_EQ(created->proof_types(0), "before_after");
  EXPECT_EQ(created->owner_id(), kDefaultOwnerId);
  EXPECT_GT(created->created_at().seconds(), 0);
  EXPECT_TRUE(created->niche().empty());

  v1::GetDossierRequest by_slug;
  by_slug.set_slug("creme-acne-patch");
  auto got = Get(by_slug);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id(), created->id());
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());
}

TEST_F(CatalogTest, GetFindsByIdOrSlugAndNamesWhatIsMissing) {
  v1::Dossier created = Create("Glow Serum");
  v1::GetDossierRequest by_id;
  by_id.set_id(created.id());
  auto got = Get(by_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created.SerializeAsString());

  by_id.set_id("00000000-0000-4000-8000-000000000000");
  got = Get(by_id);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("00000000-0000-4000-8000-000000000000"), std::string::npos);
  v1::GetDossierRequest by_slug;
  by_slug.set_slug("no-such-serum");
  got = Get(by_slug);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("no-such-serum"), std::string::npos);
}

TEST_F(CatalogTest, SlugCollisionsGetSuffixes) {
  EXPECT_EQ(Create("Acne Patch").slug(), "acne-patch");
  EXPECT_EQ(Create("Acne  Patch!").slug(), "acne-patch-2");
  EXPECT_EQ(Create("acne patch").slug(), "acne-patch-3");
  EXPECT_EQ(Create("!!!").slug(), "dossier");
  EXPECT_EQ(Create("???").slug(), "dossier-2");
}

TEST_F(CatalogTest, ConcurrentCreatesOfOneNameGetDistinctSlugs) {
  std::vector<std::string> slugs(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      v1::CreateDossierRequest request;
      request.mutable_dossier()->set_name("Race Product");
      auto created = catalog_.CreateDossier(request);
      if (created.ok()) slugs[i] = created->slug();
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct(slugs.begin(), slugs.end());
  EXPECT_EQ(distinct.size(), 8u);
  EXPECT_EQ(distinct.count(""), 0u);
  EXPECT_EQ(distinct.count("race-product"), 1u);
}

TEST_F(CatalogTest, ExplicitSlugIsValidatedAndMustBeFree) {
  v1::CreateDossierRequest request;
  request.mutable_dossier()->set_name("A");
  request.mutable_dossier()->set_slug("Not A Slug");
  EXPECT_EQ(catalog_.CreateDossier(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.mutable_dossier()->set_slug("my-slug");
  ASSERT_TRUE(catalog_.CreateDossier(request).ok());
  EXPECT_EQ(catalog_.CreateDossier(request).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(CatalogTest, RepeatedRequestIdReturnsTheFirstResult) {
  v1::Dossier first = Create("Idempotent", "req-1");
  v1::Dossier again = Create("Idempotent", "req-1");
  EXPECT_EQ(first.id(), again.id());
  EXPECT_EQ(CountRows("cf_product_dossiers"), 1);

  // Racing retries of one request create one dossier.
  std::vector<std::string> ids(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] { ids[i] = Create("Raced", "req-2").id(); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(CountRows("cf_product_dossiers"), 2);
}

TEST_F(CatalogTest, InvalidCreateWritesNothingAndNamesFields) {
  v1::CreateDossierRequest request;
  request.mutable_dossier()->set_name("");
  request.mutable_dossier()->set_price("-3");
  request.mutable_dossier()->set_status(static_cast<v1::DossierStatus>(42));
  auto created = catalog_.CreateDossier(request);
  ASSERT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const auto& [field, description] : GetFieldViolations(created.status())) {
    fields.insert(field);
  }
  EXPECT_EQ(fields, (std::set<std::string>{"dossier.name", "dossier.price", "dossier.status"}));
  EXPECT_NE(created.status().message().find("dossier.price"), std::string::npos);
  EXPECT_EQ(CountRows("cf_product_dossiers"), 0);
  EXPECT_EQ(CountRows("cf_audit_log"), 0);
}

TEST_F(CatalogTest, ListPagesNewestFirstWithStableTokens) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Create("Product " + std::to_string(i)).id());
  // Same created_at for some rows: the id breaks ties.
  Exec(
      "UPDATE cf_product_dossiers SET created_at = '2026-01-01' WHERE slug IN "
      "('product-2', 'product-3', 'product-4')");
  v1::ListDossiersRequest request;
  request.set_page_size(3);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = catalog_.ListDossiers(request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& dossier : page->dossiers()) seen.push_back(dossier.id());
    request.set_page_token(page->next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);
  // Newest first: the three back-dated rows come last.
  std::set<std::string> last_three(seen.end() - 3, seen.end());
  EXPECT_EQ(last_three.count(ids[2]) + last_three.count(ids[3]) + last_three.count(ids[4]), 3u);
}

TEST_F(CatalogTest, ListFiltersAndRejectsForeignTokens) {
  Create("One");
  v1::Dossier two = Create("Two");
  Create("Three");
  v1::ActivateDossierRequest activate;
  activate.set_id(two.id());
  ASSERT_TRUE(catalog_.ActivateDossier(activate).ok());
  v1::ListDossiersRequest request;
  request.set_status(v1::DOSSIER_STATUS_ACTIVE);
  auto active = catalog_.ListDossiers(request);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->dossiers_size(), 1);
  EXPECT_EQ(active->dossiers(0).id(), two.id());

  v1::ListDossiersRequest paged;
  paged.set_page_size(1);
  auto first = catalog_.ListDossiers(paged);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token().empty());
  v1::ListDossiersRequest other_filter;
  other_filter.set_category("Fitness");
  other_filter.set_page_token(first->next_page_token());
  EXPECT_EQ(catalog_.ListDossiers(other_filter).status().code(),
            absl::StatusCode::kInvalidArgument);
  other_filter.set_page_token("garbage!");
  EXPECT_EQ(catalog_.ListDossiers(other_filter).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, UpdateChangesOnlyMaskedFields) {
  v1::Dossier created = Create("Patch");
  v1::UpdateDossierRequest request;
  request.mutable_dossier()->set_id(created.id());
  request.mutable_dossier()->set_niche("Skincare");
  request.mutable_dossier()->set_name("ignored because not in the mask");
  request.mutable_update_mask()->add_paths("niche");
  request.mutable_update_mask()->add_paths("benefits");  // empty: clears the list
  auto updated = catalog_.UpdateDossier(request);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->niche(), "Skincare");
  EXPECT_EQ(updated->name(), "Patch");
  EXPECT_EQ(updated->category(), "Beauty");
  EXPECT_GE(updated->updated_at().seconds() * 1000000000LL + updated->updated_at().nanos(),
            created.updated_at().seconds() * 1000000000LL + created.updated_at().nanos());

  request.mutable_update_mask()->add_paths("status");
  EXPECT_EQ(catalog_.UpdateDossier(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.mutable_update_mask()->Clear();
  request.mutable_update_mask()->add_paths("price");
  request.mutable_dossier()->set_price("1.234");
  EXPECT_EQ(catalog_.UpdateDossier(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.mutable_dossier()->set_id("00000000-0000-0000-0000-00000000beef");
  request.mutable_dossier()->set_price("1.23");
  EXPECT_EQ(catalog_.UpdateDossier(request).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, StatusMovesDraftActiveArchivedOnly) {
  v1::Dossier dossier = Create("Lifecycle");
  v1::ArchiveDossierRequest archive;
  archive.set_id(dossier.id());
  EXPECT_EQ(catalog_.ArchiveDossier(archive).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::ActivateDossierRequest activate;
  activate.set_id(dossier.id());
  ASSERT_EQ(catalog_.ActivateDossier(activate)->status(), v1::DOSSIER_STATUS_ACTIVE);
  EXPECT_EQ(catalog_.ActivateDossier(activate).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(catalog_.ArchiveDossier(archive)->status(), v1::DOSSIER_STATUS_ARCHIVED);
  EXPECT_EQ(catalog_.ActivateDossier(activate).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CatalogTest, DeleteRefusesActiveOrPublishedUnlessForced) {
  v1::Dossier dossier = Create("Deletable");
  v1::ActivateDossierRequest activate;
  activate.set_id(dossier.id());
  ASSERT_TRUE(catalog_.ActivateDossier(activate).ok());
  v1::DeleteDossierRequest request;
  request.set_id(dossier.id());
  EXPECT_EQ(catalog_.DeleteDossier(request).code(), absl::StatusCode::kFailedPrecondition);

  v1::Dossier published = Create("Published");
  Exec("WITH ac AS (INSERT INTO cf_assembled_content (dossier_id, platform) VALUES ('" +
       published.id() +
       "', 'tiktok') RETURNING id) INSERT INTO cf_published_content "
       "(assembled_content_id, platform) SELECT id, 'tiktok' FROM ac");
  v1::DeleteDossierRequest delete_published;
  delete_published.set_id(published.id());
  EXPECT_EQ(catalog_.DeleteDossier(delete_published).code(), absl::StatusCode::kFailedPrecondition);
  delete_published.set_force(true);
  EXPECT_TRUE(catalog_.DeleteDossier(delete_published).ok());
  EXPECT_EQ(CountRows("cf_published_content"), 0);

  request.set_force(true);
  EXPECT_TRUE(catalog_.DeleteDossier(request).ok());
  EXPECT_EQ(catalog_.DeleteDossier(request).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CountRows("cf_product_dossiers"), 0);
}

TEST_F(CatalogTest, OverviewCountsAssets) {
  v1::Dossier dossier = Create("Counted");
  Exec("INSERT INTO cf_generated_images (dossier_id, type, prompt) VALUES ('" + dossier.id() +
       "', 'before', 'p'), ('" + dossier.id() + "', 'after', 'p')");
  Exec(
      "INSERT INTO cf_scripts (dossier_id, awareness_level, market_sophistication, hook, body, "
      "cta) VALUES ('" +
      dossier.id() + "', 1, 3, 'h', 'b', 'c')");
  v1::GetDossierOverviewRequest request;
  request.set_id(dossier.id());
  auto overview = catalog_.GetDossierOverview(request);
  ASSERT_TRUE(overview.ok()) << overview.status();
  EXPECT_EQ(overview->image_count(), 2);
  EXPECT_EQ(overview->script_count(), 1);
  EXPECT_EQ(overview->video_count(), 0);
  EXPECT_EQ(overview->dossier().id(), dossier.id());
}

TEST_F(CatalogTest, BadIdsAreInvalidArguments) {
  v1::GetDossierRequest request;
  request.set_id("not-a-uuid");
  auto got = Get(request);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(got.status()).at(0).first, "id");
  EXPECT_EQ(Get(v1::GetDossierRequest()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, AuditLogRecordsEveryChange) {
  v1::Dossier dossier = Create("Audited");
  v1::ActivateDossierRequest activate;
  activate.set_id(dossier.id());
  ASSERT_TRUE(catalog_.ActivateDossier(activate).ok());
  v1::DeleteDossierRequest remove;
  remove.set_id(dossier.id());
  remove.set_force(true);
  ASSERT_TRUE(catalog_.DeleteDossier(remove).ok());
  pqxx::connection connection(database_.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  auto rows = txn.exec("SELECT action FROM cf_audit_log ORDER BY created_at");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "INSERT");
  EXPECT_EQ(rows[1][0].as<std::string>(), "UPDATE");
  EXPECT_EQ(rows[2][0].as<std::string>(), "DELETE");
}

}  // namespace
}  // namespace cf::catalog
