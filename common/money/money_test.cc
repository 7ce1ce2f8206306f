#include "common/money/money.h"

#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(MoneyTest, AcceptsDecimalsWithAtMostTwoPlaces) {
  for (const char* text : {"0", "12", "12.5", "12.50", "99999999.99"}) {
    EXPECT_TRUE(IsMoney(text)) << text;
  }
  for (const char* text : {"", ".5", "12.", "12.505", "-1", "1e3", "100000000", "1,5", " 1"}) {
    EXPECT_FALSE(IsMoney(text)) << text;
  }
}

TEST(MoneyTest, CentsAreExact) {
  EXPECT_EQ(CentsOf("12.5"), 1250);
  EXPECT_EQ(CentsOf("0.07"), 7);
  EXPECT_EQ(CentsOf("99999999.99"), 9999999999);
  EXPECT_EQ(CentsOf("x"), -1);
  EXPECT_EQ(MoneyText(1250), "12.50");
  EXPECT_EQ(MoneyText(7), "0.07");
  EXPECT_EQ(MoneyText(-7), "-0.07");
}

}  // namespace
}  // namespace cf
