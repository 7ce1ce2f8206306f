// The gateway, catalog and generation as real gRPC servers on loopback over a real PostgreSQL,
// driven the way an operator would through the gateway: a dossier's whole life, scripts, errors
// with details, streaming through the forwarder, metadata and deadlines, health and reflection.
#include "services/gateway/gateway.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <future>
#include <set>
#include <thread>

#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "cf/generation/v1/generation.grpc.pb.h"
#include "cf/testing/v1/echo.grpc.pb.h"
#include "common/status/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "src/proto/grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/integration/stack.h"

namespace cf {
namespace {

namespace catalog_v1 = cf::catalog::v1;
namespace echo_v1 = cf::testing::v1;
namespace generation_v1 = cf::generation::v1;
using grpc::health::v1::HealthCheckResponse;

class GatewayTest : public ::testing::Test {
 protected:
  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  grpc::Status Create(const std::string& name, catalog_v1::Dossier* out) {
    catalog_v1::CreateDossierRequest request;
    request.mutable_dossier()->set_name(name);
    request.mutable_dossier()->set_price("19.99");
    request.mutable_dossier()->set_category("Beauty");
    return catalog_->CreateDossier(Context().get(), request, out);
  }

  HealthCheckResponse::ServingStatus Health(const std::string& service, grpc::Status* status) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    *status =
        grpc::health::v1::Health::NewStub(channel_)->Check(Context().get(), request, &response);
    return response.status();
  }

  cf::testing::TestStack stack_;
  std::shared_ptr<grpc::Channel> channel_ = stack_.gateway();
  std::unique_ptr<catalog_v1::CatalogService::Stub> catalog_ =
      catalog_v1::CatalogService::NewStub(channel_);
  std::unique_ptr<echo_v1::EchoService::Stub> echo_ = echo_v1::EchoService::NewStub(channel_);
  std::unique_ptr<generation_v1::GenerationService::Stub> generation_ =
      generation_v1::GenerationService::NewStub(channel_);
};

TEST_F(GatewayTest, DrivesADossierThroughItsWholeLife) {
  catalog_v1::Dossier created;
  ASSERT_TRUE(Create("Glow Serum", &created).ok());
  EXPECT_EQ(created.slug(), "glow-serum");
  EXPECT_EQ(created.status(), catalog_v1::DOSSIER_STATUS_DRAFT);

  catalog_v1::GetDossierRequest get;
  get.set_slug("glow-serum");
  catalog_v1::Dossier got;
  ASSERT_TRUE(catalog_->GetDossier(Context().get(), get, &got).ok());
  EXPECT_EQ(got.id(), created.id());

  for (int i = 0; i < 4; ++i) {
    catalog_v1::Dossier more;
    ASSERT_TRUE(Create("Extra " + std::to_string(i), &more).ok());
  }
  catalog_v1::ListDossiersRequest list;
  list.set_page_size(2);
  std::set<std::string> listed;
  int pages = 0;
  do {
    catalog_v1::ListDossiersResponse page;
    ASSERT_TRUE(catalog_->ListDossiers(Context().get(), list, &page).ok());
    for (const auto& dossier : page.dossiers()) listed.insert(dossier.id());
    list.set_page_token(page.next_page_token());
    ++pages;
  } while (!list.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed.size(), 5u);

  catalog_v1::UpdateDossierRequest update;
  update.mutable_dossier()->set_id(created.id());
  update.mutable_dossier()->set_niche("Skincare");
  update.mutable_update_mask()->add_paths("niche");
  catalog_v1::Dossier updated;
  ASSERT_TRUE(catalog_->UpdateDossier(Context().get(), update, &updated).ok());
  EXPECT_EQ(updated.niche(), "Skincare");

  catalog_v1::ActivateDossierRequest activate;
  activate.set_id(created.id());
  catalog_v1::Dossier active;
  ASSERT_TRUE(catalog_->ActivateDossier(Context().get(), activate, &active).ok());
  EXPECT_EQ(active.status(), catalog_v1::DOSSIER_STATUS_ACTIVE);

  catalog_v1::DeleteDossierRequest remove;
  remove.set_id(created.id());
  google::protobuf::Empty empty;
  EXPECT_EQ(catalog_->DeleteDossier(Context().get(), remove, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  catalog_v1::ArchiveDossierRequest archive;
  archive.set_id(created.id());
  catalog_v1::Dossier archived;
  ASSERT_TRUE(catalog_->ArchiveDossier(Context().get(), archive, &archived).ok());
  EXPECT_EQ(archived.status(), catalog_v1::DOSSIER_STATUS_ARCHIVED);

  ASSERT_TRUE(catalog_->DeleteDossier(Context().get(), remove, &empty).ok());
  catalog_v1::GetDossierRequest by_id;
  by_id.set_id(created.id());
  EXPECT_EQ(catalog_->GetDossier(Context().get(), by_id, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayTest, EveryScriptMethodThroughTheGateway) {
  catalog_v1::CreateDossierRequest create;
  create.mutable_dossier()->set_name("Glow Serum");
  create.mutable_dossier()->add_benefits("Glowing skin in a week");
  create.mutable_dossier()->add_pain_points("Dull skin every morning");
  catalog_v1::Dossier dossier;
  ASSERT_TRUE(catalog_->CreateDossier(Context().get(), create, &dossier).ok());

  generation_v1::GenerateScriptsRequest generate;
  generate.set_dossier_id(dossier.id());
  generate.set_seed(7);
  generation_v1::GenerateScriptsResponse generated;
  grpc::Status status = generation_->GenerateScripts(Context().get(), generate, &generated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(generated.scripts_size(), 5);

  generation_v1::CreateScriptRequest hand;
  hand.mutable_script()->set_dossier_id(dossier.id());
  hand.mutable_script()->set_awareness_level(generation_v1::AWARENESS_LEVEL_MOST_AWARE);
  hand.mutable_script()->set_market_sophistication(generation_v1::MARKET_SOPHISTICATION_IDENTITY);
  hand.mutable_script()->set_hook("Hook");
  hand.mutable_script()->set_body("Body");
  hand.mutable_script()->set_cta("Cta");
  generation_v1::Script created;
  ASSERT_TRUE(generation_->CreateScript(Context().get(), hand, &created).ok());

  generation_v1::GetScriptRequest get;
  get.set_id(created.id());
  generation_v1::Script got;
  ASSERT_TRUE(generation_->GetScript(Context().get(), get, &got).ok());
  EXPECT_EQ(got.full_script(), "Hook\n\nBody\n\nCta");

  generation_v1::ListScriptsRequest list;
  list.set_dossier_id(dossier.id());
  generation_v1::ListScriptsResponse listed;
  ASSERT_TRUE(generation_->ListScripts(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.scripts_size(), 6);

  generation_v1::DeleteScriptRequest remove;
  remove.set_id(created.id());
  google::protobuf::Empty empty;
  ASSERT_TRUE(generation_->DeleteScript(Context().get(), remove, &empty).ok());
  EXPECT_EQ(generation_->GetScript(Context().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A missing dossier is the catalog's NOT_FOUND, carried through generation and the gateway.
  generate.set_dossier_id("00000000-0000-0000-0000-000000000099");
  EXPECT_EQ(generation_->GenerateScripts(Context().get(), generate, &generated).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayTest, BadInputComesBackWithFieldViolations) {
  catalog_v1::CreateDossierRequest request;
  request.mutable_dossier()->set_name("Patch");
  request.mutable_dossier()->set_price("-5");
  catalog_v1::Dossier response;
  grpc::Status status = catalog_->CreateDossier(Context().get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("dossier.price"), std::string::npos);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "dossier.price");
}

TEST_F(GatewayTest, UnknownServiceIsUnimplemented) {
  grpc::GenericStub stub(channel_);
  grpc::Slice empty_message("");
  grpc::ByteBuffer request(&empty_message, 1), response;
  std::promise<grpc::Status> done;
  auto context = Context();
  stub.UnaryCall(context.get(), "/cf.nothing.v1.NothingService/Do", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status status) { done.set_value(status); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GatewayTest, ForwardsEveryStreamingShape) {
  echo_v1::EchoRequest request;
  request.set_message("hi");
  request.set_count(5);
  {
    auto context = Context();
    auto reader = echo_->Expand(context.get(), request);
    echo_v1::EchoResponse response;
    int received = 0;
    while (reader->Read(&response)) EXPECT_EQ(response.index(), received++);
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(received, 5);
  }
  {
    auto context = Context();
    echo_v1::EchoResponse response;
    auto writer = echo_->Collect(context.get(), &response);
    for (const char* part : {"a", "b", "c"}) {
      request.set_message(part);
      ASSERT_TRUE(writer->Write(request));
    }
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(response.message(), "abc");
    EXPECT_EQ(response.index(), 3);
  }
  {
    auto context = Context();
    auto stream = echo_->Chat(context.get());
    for (int i = 0; i < 4; ++i) {
      request.set_message("m" + std::to_string(i));
      ASSERT_TRUE(stream->Write(request));
      echo_v1::EchoResponse response;
      ASSERT_TRUE(stream->Read(&response));  // answered before the next request is sent
      EXPECT_EQ(response.message(), "m" + std::to_string(i));
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
}

TEST_F(GatewayTest, BackendEndingAStreamEarlyReachesTheCaller) {
  auto context = Context();
  auto stream = echo_->Chat(context.get());
  echo_v1::EchoRequest request;
  request.set_message("first");
  ASSERT_TRUE(stream->Write(request));
  echo_v1::EchoResponse response;
  ASSERT_TRUE(stream->Read(&response));
  request.set_fail_with_code(static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  ASSERT_TRUE(stream->Write(request));
  // The caller has not half-closed; the backend's status must still arrive.
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(GatewayTest, CallerCancellingAStreamCancelsTheBackendCall) {
  echo_v1::EchoRequest request;
  request.set_message("many");
  request.set_count(1000000);
  auto context = Context();
  auto reader = echo_->Expand(context.get(), request);
  echo_v1::EchoResponse response;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(stack_.echo().running_expands(), 1);
  context->TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 200 && stack_.echo().running_expands() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(stack_.echo().running_expands(), 0) << "the backend call outlived the caller's";
  // The gateway still serves afterwards.
  echo_v1::EchoRequest ping;
  ping.set_message("ping");
  EXPECT_TRUE(echo_->Echo(Context().get(), ping, &response).ok());
}

TEST_F(GatewayTest, PropagatesDeadlineMetadataAndRequestId) {
  echo_v1::EchoRequest request;
  request.set_message("x");
  echo_v1::EchoResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  context.AddMetadata("x-test-header", "kept");
  ASSERT_TRUE(echo_->Echo(&context, request, &response).ok());
  // The caller's 3 s, not the gateway's 30 s default; grpc-timeout rounds up on the wire, hence
  // the slack.
  EXPECT_GT(response.deadline_left_ms(), 0);
  EXPECT_LE(response.deadline_left_ms(), 3100);
  EXPECT_EQ(response.test_header(), "kept");
  EXPECT_EQ(response.request_id().size(), 32u);  // added by the gateway
  auto trailer = context.GetServerTrailingMetadata().find("x-request-id");
  ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), response.request_id());

  grpc::ClientContext with_id;
  with_id.AddMetadata("x-request-id", "caller-chosen-id");
  ASSERT_TRUE(echo_->Echo(&with_id, request, &response).ok());
  EXPECT_EQ(response.request_id(), "caller-chosen-id");

  // A deadline shorter than the backend's work expires at the backend too.
  request.set_delay_ms(1000);
  grpc::ClientContext short_deadline;
  short_deadline.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  EXPECT_EQ(echo_->Echo(&short_deadline, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(GatewayTest, ErrorsKeepTheirDetailsThroughTheGateway) {
  echo_v1::EchoRequest request;
  request.set_fail_with_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  echo_v1::EchoResponse response;
  grpc::Status status = echo_->Echo(Context().get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto violations = GetFieldViolations(FromGrpcStatus(status));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].first, "message");
}

TEST_F(GatewayTest, HealthIsTheGatewaysOwnOrTheBackends) {
  grpc::Status status;
  EXPECT_EQ(Health("", &status), HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(Health("cf.catalog.v1.CatalogService", &status), HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok());
  Health("cf.nothing.v1.Nothing", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  stack_.StopCatalog();
  EXPECT_EQ(Health("cf.catalog.v1.CatalogService", &status), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health("", &status), HealthCheckResponse::SERVING);
}

TEST_F(GatewayTest, ReflectionListsAndDescribesWhatItFronts) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.insert(service.name());
  }
  EXPECT_EQ(names, (std::set<std::string>{"cf.catalog.v1.CatalogService",
                                          "cf.generation.v1.GenerationService",
                                          "cf.testing.v1.EchoService", "grpc.health.v1.Health",
                                          "grpc.reflection.v1alpha.ServerReflection"}));

  for (const char* symbol :
       {"cf.catalog.v1.CatalogService", "cf.catalog.v1.Dossier",
        "cf.generation.v1.GenerationService", "google.rpc.BadRequest", "grpc.health.v1.Health"}) {
    request.set_file_containing_symbol(symbol);
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_FALSE(response.has_error_response()) << symbol;
    EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0) << symbol;
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace cf
