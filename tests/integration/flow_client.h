// Drives the whole factory through the gateway, as an operator or another service would: makes
// a dossier's assets, renders assemblies, publishes them and watches the publishes end. Shared
// by the tests that run the real binaries (publish_flow_test, tools_up_test).
#ifndef CF_TESTS_INTEGRATION_FLOW_CLIENT_H_
#define CF_TESTS_INTEGRATION_FLOW_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "cf/analytics/v1/analytics.grpc.pb.h"
#include "cf/assembly/v1/assembly.grpc.pb.h"
#include "cf/catalog/v1/catalog.grpc.pb.h"
#include "cf/generation/v1/generation.grpc.pb.h"
#include "cf/publishing/v1/publishing.grpc.pb.h"
#include "common/testing/subprocess.h"

namespace cf::testing {

// Starts `binary` (a runfiles path) listening on a free loopback port, recorded as
// `(*addresses)[name]`, with its log in the test's temp folder, and waits until it serves.
std::unique_ptr<Subprocess> StartService(const std::string& name, const std::string& binary,
                                         std::map<std::string, std::string> env,
                                         std::map<std::string, std::string>* addresses);

class FlowClient {
 public:
  explicit FlowClient(const std::string& gateway_address);

  // A client context with a 30 s deadline.
  static std::unique_ptr<grpc::ClientContext> Context();

  // A dossier with a script, a completed image and a completed clip made from it. Failures are
  // fatal gtest failures: callers check HasFatalFailure().
  void MakeAssets();

  // Creates an assembly of the assets for `platform` and starts its render: the assembly's id,
  // or "" after a gtest failure.
  std::string StartRender(assembly::v1::Platform platform);
  // Waits until the assembly's render has ended: whether it ended READY.
  bool WaitReady(const std::string& assembly_id);
  assembly::v1::Assembly GetAssembly(const std::string& id);

  // Publishes a ready assembly and watches until the publish ends: its last state (a gtest
  // failure when the call or the watch fails).
  publishing::v1::Publish PublishAndWatch(const std::string& assembly_id);
  // The post's stats (a gtest failure when the call fails).
  publishing::v1::PostStats Stats(const std::string& published_content_id);
  grpc::Status TryStats(const std::string& published_content_id, publishing::v1::PostStats* stats);
  // Waits until the post has views (the sandbox's audience found it): whether it did.
  bool WaitForViews(const std::string& published_content_id);

  std::unique_ptr<catalog::v1::CatalogService::Stub> catalog;
  std::unique_ptr<generation::v1::GenerationService::Stub> generation;
  std::unique_ptr<assembly::v1::AssemblyService::Stub> assembly;
  std::unique_ptr<publishing::v1::PublishingService::Stub> publishing;
  std::unique_ptr<analytics::v1::AnalyticsService::Stub> analytics;

  catalog::v1::Dossier dossier;
  std::string script_id, image_id, video_id;
};

}  // namespace cf::testing

#endif  // CF_TESTS_INTEGRATION_FLOW_CLIENT_H_
