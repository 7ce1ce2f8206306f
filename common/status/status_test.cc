#include "common/status/status.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(FieldViolationsTest, EmptyIsOk) {
  FieldViolations violations;
  EXPECT_TRUE(violations.Build().ok());
}

TEST(FieldViolationsTest, NamesEveryFieldInMessageAndDetails) {
  FieldViolations violations;
  violations.Add("dossier.name", "must not be empty");
  violations.Add("dossier.price", "must be >= 0");
  absl::Status status = violations.Build();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("dossier.name"), absl::string_view::npos);
  EXPECT_NE(status.message().find("dossier.price"), absl::string_view::npos);
  auto fields = GetFieldViolations(status);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].first, "dossier.name");
  EXPECT_EQ(fields[1].second, "must be >= 0");
}

TEST(ToGrpcStatusTest, CarriesBadRequestInDetails) {
  grpc::Status status = ToGrpcStatus(InvalidField("id", "must be a UUID"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rpc_status;
  ASSERT_TRUE(rpc_status.ParseFromString(status.error_details()));
  EXPECT_EQ(rpc_status.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_EQ(rpc_status.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(rpc_status.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "id");
}

TEST(ToGrpcStatusTest, RoundTripsThroughFromGrpcStatus) {
  absl::Status original = InvalidField("page_token", "is not a token from this list");
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), original.code());
  EXPECT_EQ(back.message(), original.message());
  EXPECT_EQ(GetFieldViolations(back), GetFieldViolations(original));
}

TEST(ToGrpcStatusTest, PlainErrorHasNoDetails) {
  grpc::Status status = ToGrpcStatus(absl::NotFoundError("dossier not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(status.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(RetryAfterTest, TravelsAsRetryInfo) {
  absl::Status status = WithRetryAfter(absl::ResourceExhaustedError("slow down"), absl::Seconds(7));
  EXPECT_EQ(RetryAfterOf(status), absl::Seconds(7));
  EXPECT_EQ(RetryAfterOf(absl::UnavailableError("x")), absl::ZeroDuration());
  grpc::Status wire = ToGrpcStatus(status);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  google::rpc::RetryInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.retry_delay().seconds(), 7);
}

}  // namespace
}  // namespace cf
