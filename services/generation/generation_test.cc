// Script generation against a real PostgreSQL (as the generation role) and a real catalog
// server on loopback, reached through CatalogClient.
#include "services/generation/generation.h"

#include <grpcpp/grpcpp.h>

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/db/executor.h"
#include "common/db/pool.h"
#include "common/server/server.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog.h"
#include "services/catalog/catalog_service.h"

namespace cf::generation {
namespace {

class GenerationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.services = {{"cf.catalog.v1.CatalogService", &catalog_service_}};
    catalog_server_ = std::move(Server::Start(std::move(options)).value());
    client_ = std::make_unique<CatalogClient>(
        grpc::CreateChannel(catalog_server_->address(), grpc::InsecureChannelCredentials()));
    generation_ = std::make_unique<Generation>(&scripts_, client_.get());
  }

  std::string CreateDossier(bool with_pain = true) {
    catalog::v1::CreateDossierRequest request;
    auto* dossier = request.mutable_dossier();
    dossier->set_name("ClearSkin Patch");
    dossier->add_benefits("Clears spots overnight");
    if (with_pain) dossier->add_pain_points("Breakouts before every event");
    dossier->set_category("Beauty");
    dossier->set_niche("Skincare");
    dossier->set_price("12.99");
    return catalog_logic_.CreateDossier(request).value().id();
  }

  v1::GenerateScriptsResponse Generate(const std::string& dossier_id, int64_t seed, bool overwrite,
                                       std::vector<int> sophistication = {}) {
    v1::GenerateScriptsRequest request;
    request.set_dossier_id(dossier_id);
    request.set_seed(seed);
    request.set_overwrite(overwrite);
    for (int s : sophistication) {
      request.add_sophistication_levels(static_cast<v1::MarketSophistication>(s));
    }
    auto response = generation_->GenerateScripts(request, CallContext());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::GenerateScriptsResponse());
  }

  int CountScripts() {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec("SELECT count(*) FROM cf_scripts")[0][0].as<int>();
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool catalog_pool_{database_.RoleConninfo("cf_catalog"), 2};
  db::PipelinedReader catalog_reads_{database_.RoleConninfo("cf_catalog"), {}};
  catalog::DossierStore dossiers_{&catalog_pool_, &catalog_reads_};
  catalog::Catalog catalog_logic_{&dossiers_};
  BoundedExecutor executor_{2, 32};
  catalog::CatalogService catalog_service_{&catalog_logic_, &executor_};
  std::unique_ptr<Server> catalog_server_;
  std::unique_ptr<CatalogClient> client_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_generation"), 4};
  ScriptStore scripts_{&pool_};
  std::unique_ptr<Generation> generation_;
};

TEST_F(GenerationTest, DefaultsToFiveLevelsAtTheDossiersSophistication) {
  std::string dossier = CreateDossier();
  v1::GenerateScriptsResponse response = Generate(dossier, 1, false);
  ASSERT_EQ(response.scripts_size(), 5);
  // Skincare is a crowded market: enhanced mechanism.
  ASSERT_EQ(response.sophistication_levels_size(), 1);
  EXPECT_EQ(response.sophistication_levels(0), v1::MARKET_SOPHISTICATION_ENHANCED_MECHANISM);
  for (int i = 0; i < 5; ++i) {
    const v1::Script& script = response.scripts(i);
    EXPECT_EQ(script.awareness_level(), i + 1);
    EXPECT_EQ(script.market_sophistication(), v1::MARKET_SOPHISTICATION_ENHANCED_MECHANISM);
    EXPECT_EQ(script.full_script(), script.hook() + "\n\n" + script.body() + "\n\n" + script.cta());
    EXPECT_GT(script.estimated_duration(), 0);
  }
  EXPECT_EQ(response.created_count(), 5);
}

TEST_F(GenerationTest, AllTwentyFiveCellsAndNeverADuplicate) {
  std::string dossier = CreateDossier();
  auto first = Generate(dossier, 1, false, {1, 2, 3, 4, 5});
  EXPECT_EQ(first.scripts_size(), 25);
  EXPECT_EQ(first.created_count(), 25);
  auto again = Generate(dossier, 2, false, {1, 2, 3, 4, 5});
  EXPECT_EQ(again.kept_count(), 25);
  EXPECT_EQ(again.created_count(), 0);
  // Kept cells keep their text even though another seed was asked for.
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(again.scripts(i).id(), first.scripts(i).id());
    EXPECT_EQ(again.scripts(i).full_script(), first.scripts(i).full_script());
  }
  EXPECT_EQ(CountScripts(), 25);
}

TEST_F(GenerationTest, OverwriteReplacesInPlace) {
  std::string dossier = CreateDossier();
  auto first = Generate(dossier, 1, false, {3});
  std::set<std::string> changed;
  for (int64_t seed = 2; seed < 6; ++seed) {
    auto replaced = Generate(dossier, seed, true, {3});
    EXPECT_EQ(replaced.replaced_count(), 5);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(replaced.scripts(i).id(), first.scripts(i).id());
      if (replaced.scripts(i).full_script() != first.scripts(i).full_script()) {
        changed.insert(replaced.scripts(i).id());
      }
    }
  }
  EXPECT_FALSE(changed.empty());  // other seeds wrote other variants
  EXPECT_EQ(CountScripts(), 5);
  // The same seed writes the same text again.
  auto same = Generate(dossier, 1, true, {3});
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(same.scripts(i).full_script(), first.scripts(i).full_script());
}

TEST_F(GenerationTest, ConcurrentGenerationsStoreOneScriptPerCell) {
  std::string dossier = CreateDossier();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { Generate(dossier, i, i % 2 == 0, {1, 2, 3, 4, 5}); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(CountScripts(), 25);
}

TEST_F(GenerationTest, MissingDossierFieldsAreAPreconditionAndWriteNothing) {
  std::string dossier = CreateDossier(/*with_pain=*/false);
  v1::GenerateScriptsRequest request;
  request.set_dossier_id(dossier);
  auto response = generation_->GenerateScripts(request, CallContext());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(response.status().message().find("pain_points"), std::string::npos);
  EXPECT_EQ(CountScripts(), 0);
  // Levels that do not need the pain still work.
  request.add_awareness_levels(v1::AWARENESS_LEVEL_PRODUCT_AWARE);
  EXPECT_TRUE(generation_->GenerateScripts(request, CallContext()).ok());
}

TEST_F(GenerationTest, BadRequestsNameTheirFields) {
  v1::GenerateScriptsRequest request;
  request.set_dossier_id("nope");
  request.add_awareness_levels(static_cast<v1::AwarenessLevel>(9));
  request.add_sophistication_levels(v1::MARKET_SOPHISTICATION_UNSPECIFIED);
  auto response = generation_->GenerateScripts(request, CallContext());
  ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const auto& [field, description] : GetFieldViolations(response.status())) {
    fields.insert(field);
  }
  EXPECT_EQ(fields, (std::set<std::string>{"dossier_id", "awareness_levels[0]",
                                           "sophistication_levels[0]"}));
  request = v1::GenerateScriptsRequest();
  request.set_dossier_id("00000000-0000-0000-0000-000000000042");
  EXPECT_EQ(generation_->GenerateScripts(request, CallContext()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GenerationTest, HandWrittenScriptsAreIdempotentAndUniquePerCell) {
  std::string dossier = CreateDossier();
  v1::CreateScriptRequest request;
  request.mutable_script()->set_dossier_id(dossier);
  request.mutable_script()->set_awareness_level(v1::AWARENESS_LEVEL_MOST_AWARE);
  request.mutable_script()->set_hook("Last chance.");
  request.mutable_script()->set_body("It works, and it's on sale.");
  request.mutable_script()->set_cta("Tap the cart.");
  request.set_request_id("hand-1");
  auto first = generation_->CreateScript(request, CallContext());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->market_sophistication(), v1::MARKET_SOPHISTICATION_UNSPECIFIED);
  EXPECT_EQ(first->estimated_duration(), 5);  // 11 words at 2.5 words per second
  auto retry = generation_->CreateScript(request, CallContext());
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->id(), first->id());
  // The same cell without sophistication again: NULLS NOT DISTINCT makes it a duplicate.
  request.set_request_id("hand-2");
  EXPECT_EQ(generation_->CreateScript(request, CallContext()).status().code(),
            absl::StatusCode::kAlreadyExists);
  request.mutable_script()->set_hook("");
  EXPECT_EQ(generation_->CreateScript(request, CallContext()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CountScripts(), 1);
}

TEST_F(GenerationTest, ListPagesInCellOrderAndDeleteRemoves) {
  std::string dossier = CreateDossier();
  std::string other = CreateDossier();
  Generate(dossier, 1, false, {1, 2});
  Generate(other, 1, false, {1});
  v1::ListScriptsRequest request;
  request.set_dossier_id(dossier);
  request.set_page_size(3);
  std::vector<std::pair<int, int>> cells;
  int pages = 0;
  do {
    auto page = generation_->ListScripts(request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& script : page->scripts()) {
      EXPECT_EQ(script.dossier_id(), dossier);
      cells.emplace_back(script.awareness_level(), script.market_sophistication());
    }
    request.set_page_token(page->next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(cells.size(), 10u);
  EXPECT_TRUE(std::is_sorted(cells.begin(), cells.end()));

  v1::ListScriptsRequest by_level;
  by_level.set_awareness_level(v1::AWARENESS_LEVEL_UNAWARE);
  auto level_one = generation_->ListScripts(by_level).value();
  EXPECT_EQ(level_one.scripts_size(), 3);  // two from the first dossier, one from the other

  v1::DeleteScriptRequest remove;
  remove.set_id(level_one.scripts(0).id());
  EXPECT_TRUE(generation_->DeleteScript(remove).ok());
  EXPECT_EQ(generation_->DeleteScript(remove).code(), absl::StatusCode::kNotFound);
  v1::GetScriptRequest get;
  get.set_id(remove.id());
  EXPECT_EQ(generation_->GetScript(get).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GenerationTest, ArchivedDossiersTakeNoNewScripts) {
  std::string dossier = CreateDossier();
  catalog::v1::ActivateDossierRequest activate;
  activate.set_id(dossier);
  ASSERT_TRUE(catalog_logic_.ActivateDossier(activate).ok());
  EXPECT_EQ(Generate(dossier, 1, false, {3}).scripts_size(), 5);  // active: fine
  catalog::v1::ArchiveDossierRequest archive;
  archive.set_id(dossier);
  ASSERT_TRUE(catalog_logic_.ArchiveDossier(archive).ok());
  v1::GenerateScriptsRequest request;
  request.set_dossier_id(dossier);
  auto response = generation_->GenerateScripts(request, CallContext());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(response.status().message().find("archived"), std::string::npos);
}

TEST_F(GenerationTest, CatalogDownIsUnavailable) {
  std::string dossier = CreateDossier();
  catalog_server_->Shutdown();
  v1::GenerateScriptsRequest request;
  request.set_dossier_id(dossier);
  auto response = generation_->GenerateScripts(request, CallContext());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cf::generation
