// Scoring configs (weights for engagement, CTR and conversion rate, and a views threshold; one
// active at a time) and FindWinners, which ranks posts or groups of posts from the rollups.
//
// Normalization: each rate is replaced by its percentile rank within the cohort (the groups
// that pass the filters and the threshold): (rank - 1) / (cohort size - 1), in [0, 1], ties
// sharing the lower rank (PostgreSQL's percent_rank()). The score is the weighted sum of the
// three. Percentile ranks make rates of different scales comparable and are not swayed by one
// outlier; a cohort of one scores 0.
#ifndef CF_SERVICES_ANALYTICS_SCORING_H_
#define CF_SERVICES_ANALYTICS_SCORING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cf/analytics/v1/analytics.pb.h"
#include "common/db/pool.h"

namespace cf::analytics {

// The default threshold, the seed's.
constexpr int kDefaultMinViews = 1000;

// OK, or INVALID_ARGUMENT naming each bad key ("weights[reach]", "weights[ctr]", "weights").
absl::Status CheckWeights(const google::protobuf::Map<std::string, double>& weights);

// One group of a FindWinners cohort and its three rates.
struct CohortMember {
  std::string key;
  double engagement_rate = 0;
  double ctr = 0;
  double conversion_rate = 0;
};

// A member's place: its index in the cohort, its normalized rates and its score.
struct RankedMember {
  size_t index = 0;
  double engagement_component = 0;
  double ctr_component = 0;
  double conversion_component = 0;
  double score = 0;
};

// Percentile ranks, (rank - 1) / (n - 1) with ties sharing the lower rank, as PostgreSQL's
// percent_rank(); 0 for a cohort of one.
std::vector<double> PercentRanks(const std::vector<double>& values);

// The cohort by score, best first (ties: the higher engagement rate, then the smaller key).
std::vector<RankedMember> RankCohort(const std::vector<CohortMember>& cohort,
                                     const v1::ScoringWeights& weights);

// A cohort and its ranking, as computed at one metrics version (cf_metrics_version).
struct Ranking {
  std::string metrics_version;  // its label: the version and the server's start
  std::vector<CohortMember> cohort;
  std::vector<RankedMember> ranked;
};

// The rankings FindWinners computed last, by the request's filters (scoring config, dossier,
// platform, awareness, months, grouping, basis; configs never change once made). A ranking is
// reused only at the metrics version it was computed at: every statement that writes metrics
// bumps the version in its own transaction, so an equal version means equal metrics. At most
// `max_entries` rankings are kept (a ranking of 20,000 posts takes about 3 MB), the least
// recently used dropped first.
class RankingCache {
 public:
  explicit RankingCache(size_t max_entries) : max_entries_(max_entries) {}

  // The ranking kept for `filters` if it was computed at `metrics_version`, else null.
  std::shared_ptr<const Ranking> Find(const std::string& filters,
                                      const std::string& metrics_version);
  void Keep(const std::string& filters, const std::string& metrics_version,
            std::shared_ptr<Ranking> ranking);

 private:
  struct Entry {
    std::shared_ptr<const Ranking> ranking;
    uint64_t last_used = 0;
  };
  const size_t max_entries_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  uint64_t uses_ = 0;
};

class Scoring {
 public:
  // `read_pool`: a replica for FindWinners (null: the primary).
  explicit Scoring(db::ConnectionPool* pool, db::ConnectionPool* read_pool = nullptr)
      : pool_(pool), reads_(read_pool != nullptr ? read_pool : pool) {}

  absl::StatusOr<v1::ScoringConfig> CreateScoringConfig(
      const v1::CreateScoringConfigRequest& request);
  absl::StatusOr<v1::ScoringConfig> GetScoringConfig(const v1::GetScoringConfigRequest& request);
  absl::StatusOr<v1::ListScoringConfigsResponse> ListScoringConfigs(
      const v1::ListScoringConfigsRequest& request);
  absl::StatusOr<v1::ScoringConfig> ActivateScoringConfig(
      const v1::ActivateScoringConfigRequest& request);

  absl::StatusOr<v1::FindWinnersResponse> FindWinners(const v1::FindWinnersRequest& request);

 private:
  // The config by id, or the active one for "".
  absl::StatusOr<v1::ScoringConfig> ConfigFor(const std::string& id);

  db::ConnectionPool* pool_;
  db::ConnectionPool* reads_;
  RankingCache rankings_{8};
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_SCORING_H_
