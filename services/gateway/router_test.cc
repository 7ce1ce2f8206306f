#include "services/gateway/router.h"

#include "gtest/gtest.h"

namespace cf::gateway {
namespace {

TEST(RouterTest, ParsesMethodNames) {
  EXPECT_EQ(ServiceOfMethod("/cf.catalog.v1.CatalogService/GetDossier"),
            "cf.catalog.v1.CatalogService");
  EXPECT_EQ(ServiceOfMethod("cf.catalog.v1.CatalogService/GetDossier"), "");
  EXPECT_EQ(ServiceOfMethod("/cf.catalog.v1.CatalogService/"), "");
  EXPECT_EQ(ServiceOfMethod("//x"), "");
}

TEST(RouterTest, BackendKeyFollowsThePackage) {
  EXPECT_EQ(BackendKeyOf("cf.catalog.v1.CatalogService").value(), "catalog");
  EXPECT_EQ(BackendKeyOf("cf.generation.v1.GenerationService").value(), "generation");
  EXPECT_FALSE(BackendKeyOf("grpc.health.v1.Health").has_value());
  EXPECT_FALSE(BackendKeyOf("cf.catalog.v2.CatalogService").has_value());
}

TEST(RouterTest, RoutesOnlyConfiguredBackends) {
  std::vector<std::string> services = ServicesInFiles({"cf/catalog/v1/catalog.proto"});
  ASSERT_EQ(services, std::vector<std::string>{"cf.catalog.v1.CatalogService"});
  Router unconfigured = Router::FromConfig(Config(std::map<std::string, std::string>{}), services);
  EXPECT_EQ(unconfigured.ChannelFor("cf.catalog.v1.CatalogService"), nullptr);
  Router router = Router::FromConfig(
      Config(std::map<std::string, std::string>{{"catalog_addr", "127.0.0.1:1"}}), services);
  EXPECT_NE(router.ChannelFor("cf.catalog.v1.CatalogService"), nullptr);
  EXPECT_EQ(router.ChannelFor("cf.other.v1.OtherService"), nullptr);
  EXPECT_EQ(router.routed_services(), services);
}

}  // namespace
}  // namespace cf::gateway
