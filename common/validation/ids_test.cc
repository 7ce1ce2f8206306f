#include "common/validation/ids.h"

#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(IsUuidTest, ChecksShape) {
  EXPECT_TRUE(IsUuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(IsUuid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(IsUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsUuid("zzze4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400-"));
  EXPECT_FALSE(IsUuid(""));
}

TEST(CheckUuidFieldTest, NamesTheField) {
  FieldViolations violations;
  CheckUuidField("", "a", &violations);
  CheckUuidField("x", "b", &violations);
  CheckUuidField("123e4567-e89b-12d3-a456-426614174000", "c", &violations);
  auto fields = GetFieldViolations(violations.Build());
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].first, "a");
  EXPECT_EQ(fields[0].second, "is required");
  EXPECT_EQ(fields[1].first, "b");
  EXPECT_EQ(fields[1].second, "must be a UUID");
}

TEST(RequireUuidTest, OkOrNamedViolation) {
  EXPECT_TRUE(RequireUuid("123e4567-e89b-12d3-a456-426614174000", "id").ok());
  absl::Status bad = RequireUuid("x", "id");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(bad).at(0).first, "id");
}

}  // namespace
}  // namespace cf
