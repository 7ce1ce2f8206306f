#include "services/catalog/dossier_validation.h"

#include "gtest/gtest.h"

namespace cf::catalog {
namespace {

std::vector<std::string> Fields(const v1::Dossier& dossier) {
  FieldViolations violations;
  ValidateDossierFields(dossier, MutableDossierFields(), "dossier.", &violations);
  std::vector<std::string> fields;
  for (const auto& [field, description] : GetFieldViolations(violations.Build())) {
    fields.push_back(field);
  }
  return fields;
}

v1::Dossier Valid() {
  v1::Dossier dossier;
  dossier.set_name("Acne Patch");
  dossier.set_price("19.99");
  dossier.add_benefits("Clears spots overnight");
  dossier.add_proof_types("before_after");
  dossier.set_tiktok_shop_url("https://shop.tiktok.com/view/product/1");
  return dossier;
}

TEST(SlugifyTest, LowercasesAndHyphenates) {
  EXPECT_EQ(Slugify("Acne Patch"), "acne-patch");
  EXPECT_EQ(Slugify("  Hello,   World!! "), "hello-world");
  EXPECT_EQ(Slugify("Women's 3-in-1 Serum"), "womens-3-in-1-serum");
}

TEST(SlugifyTest, FoldsAccents) {
  EXPECT_EQ(Slugify("Crème Brûlée"), "creme-brulee");
  EXPECT_EQ(Slugify("Straße Æther Øre"), "strasse-aether-ore");
  EXPECT_EQ(Slugify("Łódź"), "lodz");
}

TEST(SlugifyTest, FallsBackWhenNothingIsLeft) {
  EXPECT_EQ(Slugify("!!!"), "dossier");
  EXPECT_EQ(Slugify("日本語"), "dossier");
  EXPECT_EQ(Slugify(""), "dossier");
}

TEST(SlugifyTest, LeavesRoomForASuffix) {
  std::string slug = Slugify(std::string(300, 'a'));
  EXPECT_LE(slug.size(), kMaxSlugLength - 10);
  EXPECT_TRUE(IsValidSlug(slug));
}

TEST(IsValidSlugTest, AcceptsOnlyTheCanonicalForm) {
  EXPECT_TRUE(IsValidSlug("acne-patch-2"));
  EXPECT_FALSE(IsValidSlug("Acne"));
  EXPECT_FALSE(IsValidSlug("-a"));
  EXPECT_FALSE(IsValidSlug("a--b"));
  EXPECT_FALSE(IsValidSlug("a b"));
  EXPECT_FALSE(IsValidSlug(""));
}

TEST(ValidateTest, AcceptsAValidDossier) { EXPECT_TRUE(Fields(Valid()).empty()); }

TEST(ValidateTest, RequiresAName) {
  v1::Dossier dossier = Valid();
  dossier.set_name("   ");
  EXPECT_EQ(Fields(dossier), std::vector<std::string>{"dossier.name"});
  dossier.set_name(std::string(201, 'x'));
  EXPECT_EQ(Fields(dossier), std::vector<std::string>{"dossier.name"});
  dossier.set_name(std::string(200, 'x'));
  EXPECT_TRUE(Fields(dossier).empty());
}

TEST(ValidateTest, PriceIsANonNegativeAmountWithTwoDecimals) {
  for (const char* good : {"0", "19.99", "12.5", "99999999.99"}) {
    v1::Dossier dossier = Valid();
    dossier.set_price(good);
    EXPECT_TRUE(Fields(dossier).empty()) << good;
  }
  for (const char* bad : {"-1", "1.999", "abc", "1e3", "100000000", ".5", "5.", "1,00"}) {
    v1::Dossier dossier = Valid();
    dossier.set_price(bad);
    EXPECT_EQ(Fields(dossier), std::vector<std::string>{"dossier.price"}) << bad;
  }
}

TEST(ValidateTest, UrlsMustBeHttp) {
  v1::Dossier dossier = Valid();
  dossier.set_affiliate_link("javascript:alert(1)");
  dossier.set_tiktok_shop_url("https://");
  EXPECT_EQ(Fields(dossier),
            (std::vector<std::string>{"dossier.tiktok_shop_url", "dossier.affiliate_link"}));
  dossier.set_affiliate_link("http://amzn.to/x?y=1");
  dossier.set_tiktok_shop_url("https://shop.example/x y");
  EXPECT_EQ(Fields(dossier), std::vector<std::string>{"dossier.tiktok_shop_url"});
}

TEST(ValidateTest, ListsAreBounded) {
  v1::Dossier dossier = Valid();
  for (int i = 0; i < 21; ++i) dossier.add_pain_points("p");
  dossier.add_benefits("");
  dossier.add_benefits(std::string(501, 'b'));
  EXPECT_EQ(Fields(dossier), (std::vector<std::string>{"dossier.benefits[1]", "dossier.benefits[2]",
                                                       "dossier.pain_points"}));
}

TEST(ValidateTest, ProofTypesAreKnownAndDistinct) {
  v1::Dossier dossier = Valid();
  dossier.add_proof_types("before_after");
  dossier.add_proof_types("hearsay");
  EXPECT_EQ(Fields(dossier),
            (std::vector<std::string>{"dossier.proof_types[1]", "dossier.proof_types[2]"}));
}

}  // namespace
}  // namespace cf::catalog
