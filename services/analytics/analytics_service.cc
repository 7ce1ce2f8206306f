#include "services/analytics/analytics_service.h"

#include <chrono>

#include "common/server/call.h"
#include "common/status/status.h"

namespace cf::analytics {
namespace {

constexpr char kPrefix[] = "/cf.analytics.v1.AnalyticsService/";
// A stream's answer lists at most this many row errors (it counts them all), so a long feed of
// bad rows cannot outgrow a client's message size limit.
constexpr int kMaxStreamErrors = 1000;

// One StreamMetrics call: reads a message, writes it as a batch on the executor, then reads the
// next, so a fast client waits for the database instead of filling memory. Row indexes count
// across the whole stream. The first failing batch ends the call with its error; the batches
// before it stay written.
class IngestStream final : public grpc::ServerReadReactor<v1::IngestMetricsRequest> {
 public:
  IngestStream(grpc::CallbackServerContext* context, MetricsStore* metrics,
               BoundedExecutor* executor, v1::IngestMetricsResponse* response)
      : context_(context),
        request_id_(RequestIdOf(*context)),
        metrics_(metrics),
        executor_(executor),
        response_(response),
        started_(std::chrono::steady_clock::now()) {
    StartRead(&batch_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client finished sending, or went away
      End(context_->IsCancelled() ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                                  : grpc::Status::OK);
      return;
    }
    if (!executor_->TrySubmit([this] { WriteBatch(); })) {
      End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the database queue is full; retry later"));
    }
  }

  void OnDone() override { delete this; }

 private:
  void WriteBatch() {
    absl::StatusOr<v1::IngestMetricsResponse> written = metrics_->Ingest(batch_.rows(), rows_seen_);
    if (!written.ok()) {
      End(ToGrpcStatus(written.status()));
      return;
    }
    rows_seen_ += batch_.rows_size();
    response_->set_accepted(response_->accepted() + written->accepted());
    response_->set_changed(response_->changed() + written->changed());
    response_->set_rejected(response_->rejected() + written->rejected());
    for (auto& error : *written->mutable_errors()) {
      if (response_->errors_size() >= kMaxStreamErrors) break;
      *response_->add_errors() = std::move(error);
    }
    batch_.Clear();
    StartRead(&batch_);
  }

  void End(const grpc::Status& status) {
    const double latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
            .count();
    LogCall(std::string(kPrefix) + "StreamMetrics", request_id_, status, latency_ms);
    Finish(status);
  }

  grpc::CallbackServerContext* context_;
  const std::string request_id_;
  MetricsStore* metrics_;
  BoundedExecutor* executor_;
  v1::IngestMetricsResponse* response_;
  const std::chrono::steady_clock::time_point started_;
  v1::IngestMetricsRequest batch_;
  int rows_seen_ = 0;
};

}  // namespace

#define CF_ANALYTICS_METHOD(Logic, member, Name, Request, Response)                           \
  CF_SERVE_UNARY(AnalyticsService, "/cf.analytics.v1.AnalyticsService/", Logic, member, Name, \
                 Request, Response)

CF_ANALYTICS_METHOD(MetricsStore, metrics_, IngestMetrics, v1::IngestMetricsRequest,
                    v1::IngestMetricsResponse)
CF_ANALYTICS_METHOD(Collector, collector_, CollectMetrics, v1::CollectMetricsRequest,
                    v1::CollectMetricsResponse)
CF_ANALYTICS_METHOD(MetricsStore, metrics_, ListMetrics, v1::ListMetricsRequest,
                    v1::ListMetricsResponse)
CF_ANALYTICS_METHOD(Scoring, scoring_, CreateScoringConfig, v1::CreateScoringConfigRequest,
                    v1::ScoringConfig)
CF_ANALYTICS_METHOD(Scoring, scoring_, GetScoringConfig, v1::GetScoringConfigRequest,
                    v1::ScoringConfig)
CF_ANALYTICS_METHOD(Scoring, scoring_, ListScoringConfigs, v1::ListScoringConfigsRequest,
                    v1::ListScoringConfigsResponse)
CF_ANALYTICS_METHOD(Scoring, scoring_, ActivateScoringConfig, v1::ActivateScoringConfigRequest,
                    v1::ScoringConfig)
CF_ANALYTICS_METHOD(Scoring, scoring_, FindWinners, v1::FindWinnersRequest, v1::FindWinnersResponse)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, CreateAbTest, v1::CreateAbTestRequest, v1::AbTest)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, GetAbTest, v1::GetAbTestRequest, v1::AbTest)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, ListAbTests, v1::ListAbTestsRequest,
                    v1::ListAbTestsResponse)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, StartAbTest, v1::StartAbTestRequest, v1::AbTest)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, EvaluateAbTest, v1::EvaluateAbTestRequest,
                    v1::AbTestEvaluation)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, CompleteAbTest, v1::CompleteAbTestRequest, v1::AbTest)
CF_ANALYTICS_METHOD(AbTests, ab_tests_, CancelAbTest, v1::CancelAbTestRequest, v1::AbTest)

#undef CF_ANALYTICS_METHOD

grpc::ServerReadReactor<v1::IngestMetricsRequest>* AnalyticsService::StreamMetrics(
    grpc::CallbackServerContext* context, v1::IngestMetricsResponse* response) {
  return new IngestStream(context, metrics_, executor_, response);
}

}  // namespace cf::analytics
