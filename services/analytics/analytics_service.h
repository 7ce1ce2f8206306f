// gRPC adapter for cf.analytics.v1.AnalyticsService: each unary method runs its logic class on
// the database executor; StreamMetrics writes each message of the stream as a batch.
#ifndef CF_SERVICES_ANALYTICS_ANALYTICS_SERVICE_H_
#define CF_SERVICES_ANALYTICS_ANALYTICS_SERVICE_H_

#include "cf/analytics/v1/analytics.grpc.pb.h"
#include "common/db/executor.h"
#include "services/analytics/ab_tests/ab_tests.h"
#include "services/analytics/collector.h"
#include "services/analytics/metrics_store.h"
#include "services/analytics/scoring.h"

namespace cf::analytics {

// The logic classes the service serves.
struct AnalyticsLogic {
  MetricsStore* metrics;
  Collector* collector;
  Scoring* scoring;
  AbTests* ab_tests;
};

class AnalyticsService final : public v1::AnalyticsService::CallbackService {
 public:
  AnalyticsService(AnalyticsLogic logic, BoundedExecutor* executor)
      : metrics_(logic.metrics),
        collector_(logic.collector),
        scoring_(logic.scoring),
        ab_tests_(logic.ab_tests),
        executor_(executor) {}

#define CF_ANALYTICS_DECLARE(Name, Request, Response)                                          \
  grpc::ServerUnaryReactor* Name(grpc::CallbackServerContext* context, const Request* request, \
                                 Response* response) override;
  CF_ANALYTICS_DECLARE(IngestMetrics, v1::IngestMetricsRequest, v1::IngestMetricsResponse)
  CF_ANALYTICS_DECLARE(CollectMetrics, v1::CollectMetricsRequest, v1::CollectMetricsResponse)
  CF_ANALYTICS_DECLARE(ListMetrics, v1::ListMetricsRequest, v1::ListMetricsResponse)
  CF_ANALYTICS_DECLARE(CreateScoringConfig, v1::CreateScoringConfigRequest, v1::ScoringConfig)
  CF_ANALYTICS_DECLARE(GetScoringConfig, v1::GetScoringConfigRequest, v1::ScoringConfig)
  CF_ANALYTICS_DECLARE(ListScoringConfigs, v1::ListScoringConfigsRequest,
                       v1::ListScoringConfigsResponse)
  CF_ANALYTICS_DECLARE(ActivateScoringConfig, v1::ActivateScoringConfigRequest, v1::ScoringConfig)
  CF_ANALYTICS_DECLARE(FindWinners, v1::FindWinnersRequest, v1::FindWinnersResponse)
  CF_ANALYTICS_DECLARE(CreateAbTest, v1::CreateAbTestRequest, v1::AbTest)
  CF_ANALYTICS_DECLARE(GetAbTest, v1::GetAbTestRequest, v1::AbTest)
  CF_ANALYTICS_DECLARE(ListAbTests, v1::ListAbTestsRequest, v1::ListAbTestsResponse)
  CF_ANALYTICS_DECLARE(StartAbTest, v1::StartAbTestRequest, v1::AbTest)
  CF_ANALYTICS_DECLARE(EvaluateAbTest, v1::EvaluateAbTestRequest, v1::AbTestEvaluation)
  CF_ANALYTICS_DECLARE(CompleteAbTest, v1::CompleteAbTestRequest, v1::AbTest)
  CF_ANALYTICS_DECLARE(CancelAbTest, v1::CancelAbTestRequest, v1::AbTest)
#undef CF_ANALYTICS_DECLARE

  grpc::ServerReadReactor<v1::IngestMetricsRequest>* StreamMetrics(
      grpc::CallbackServerContext* context, v1::IngestMetricsResponse* response) override;

 private:
  MetricsStore* metrics_;
  Collector* collector_;
  Scoring* scoring_;
  AbTests* ab_tests_;
  BoundedExecutor* executor_;
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_ANALYTICS_SERVICE_H_
