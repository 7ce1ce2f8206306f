#include "services/analytics/scoring.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/db/values.h"
#include "common/paging/page_token.h"
#include "common/status/status.h"
#include "common/validation/ids.h"
#include "services/analytics/metrics_store.h"
#include "services/assembly/assembly_client.h"

namespace cf::analytics {
namespace {

constexpr char kConfigColumns[] =
    "id::text, name, weights::text, COALESCE(min_views_threshold, 0), COALESCE(active, false), ";

std::string ConfigSelect() {
  return absl::StrCat("SELECT ", kConfigColumns, db::MicrosOf("created_at"),
                      " FROM cf_scoring_config");
}

double WeightAt(const nlohmann::json& weights, const char* key) {
  auto it = weights.find(key);
  return it != weights.end() && it->is_number() ? it->get<double>() : 0.0;
}

v1::ScoringConfig ConfigOf(const pqxx::row& row) {
  v1::ScoringConfig config;
  config.set_id(row[0].c_str());
  config.set_name(row[1].c_str());
  nlohmann::json weights = nlohmann::json::parse(row[2].c_str(), nullptr, false);
  config.mutable_weights()->set_engagement(WeightAt(weights, "engagement"));
  config.mutable_weights()->set_ctr(WeightAt(weights, "ctr"));
  config.mutable_weights()->set_conversions(WeightAt(weights, "conversions"));
  config.set_min_views_threshold(row[3].as<int>());
  config.set_active(row[4].as<bool>());
  db::SetTimestamp(row[5].as<int64_t>(), config.mutable_create_time());
  return config;
}

bool IsMonth(const google::type::Date& date, absl::CivilDay* first_day) {
  if (date.day() != 0) return false;
  google::type::Date first = date;
  first.set_day(1);
  return CivilDayOf(first, first_day);
}

// The SQL of one FindWinners shape. Every value is a parameter; only these fixed fragments
// vary, chosen by the grouping and whether months are asked for.
struct WinnersQuery {
  std::string source;    // FROM ... (with any LATERAL)
  std::string key;       // the group's key expression, as text
  std::string group_by;  // what the groups are formed by (a post's uuid groups faster than text)
  bool has_dimensions;   // content: the post's dossier, platform, cell and video types
};

WinnersQuery QueryFor(v1::WinnerGrouping grouping, bool months, bool dossier_filter) {
  const std::string per_post =
      months ? "cf_metrics_monthly_rollup r" : "cf_metrics_content_rollup r";
  const std::string cell_key =
      "'awareness=' || r.awareness_level || ' sophistication=' || r.market_sophistication || "
      "' platform=' || r.platform";
  switch (grouping) {
    case v1::WINNER_GROUPING_SCRIPT_CELL:
      // Without a dossier filter the cell rollup answers alone (it has no dossier column).
      return {dossier_filter ? per_post : "cf_metrics_cell_rollup r", cell_key, cell_key, false};
    case v1::WINNER_GROUPING_PLATFORM:
      return {dossier_filter ? per_post : "cf_metrics_cell_rollup r", "r.platform", "r.platform",
              false};
    case v1::WINNER_GROUPING_VIDEO_TYPE:
      return {per_post + " CROSS JOIN LATERAL unnest(r.video_types) AS video_type", "video_type",
              "video_type", false};
    default:
      return {per_post, "r.published_content_id::text", "r.published_content_id", true};
  }
}

// The groups' sums: straight from the per-post rollup when each post is its own group over all
// time (one row per post already), summed otherwise. With `only_keys` (the page's details):
// every total and the dimensions, for the keys in $7 only; without (the whole cohort): only the
// sums its rates need. Every parameter appears in every shape (PostgreSQL must infer each
// one's type).
std::string GroupsSql(const WinnersQuery& query, bool dossier_filter, bool months, bool only_keys) {
  std::string where =
      "($2::text IS NULL OR r.platform = $2) AND "
      "($3::int IS NULL OR r.awareness_level = $3)";
  where += dossier_filter ? " AND r.dossier_id = $1::uuid" : " AND $1::uuid IS NULL";
  where += months ? " AND r.month >= $4::date AND r.month <= $5::date"
                  : " AND $4::date IS NULL AND $5::date IS NULL";
  std::string having = "sum(r.views) > $6";
  if (only_keys) {
    if (query.has_dimensions) {
      where += " AND r.published_content_id = ANY($7::uuid[])";
    } else {
      having += absl::StrCat(" AND ", query.key, " = ANY($7::text[])");
    }
  }
  if (query.has_dimensions && !months) {
    const char* columns =
        only_keys ? "r.days, r.views, r.likes, r.comments, r.shares, r.saves, r.clicks, "
                    "r.conversions, r.spend, r.engagement_rate_sum, r.ctr_sum, "
                    "r.dossier_id::text AS dossier_id, r.platform, r.awareness_level, "
                    "r.market_sophistication, r.video_types"
                  : "r.days, r.views, r.likes + r.comments + r.shares + r.saves AS interactions, "
                    "r.clicks, r.conversions, r.engagement_rate_sum, r.ctr_sum";
    return absl::StrCat("SELECT r.published_content_id::text AS key, ", columns,
                        " FROM cf_metrics_content_rollup r WHERE ", where, " AND r.views > $6");
  }
  std::string columns =
      only_keys ? "sum(r.days) AS days, sum(r.views) AS views, sum(r.likes) AS likes, "
                  "sum(r.comments) AS comments, sum(r.shares) AS shares, sum(r.saves) AS saves, "
                  "sum(r.clicks) AS clicks, sum(r.conversions) AS conversions, "
                  "sum(r.spend) AS spend, sum(r.engagement_rate_sum) AS engagement_rate_sum, "
                  "sum(r.ctr_sum) AS ctr_sum, "
                : "sum(r.days) AS days, sum(r.views) AS views, "
                  "sum(r.likes + r.comments + r.shares + r.saves) AS interactions, "
                  "sum(r.clicks) AS clicks, sum(r.conversions) AS conversions, "
                  "sum(r.engagement_rate_sum) AS engagement_rate_sum, sum(r.ctr_sum) AS ctr_sum";
  if (only_keys) {
    columns += query.has_dimensions
                   ? "min(r.dossier_id::text) AS dossier_id, min(r.platform) AS platform, "
                     "min(r.awareness_level) AS awareness_level, "
                     "min(r.market_sophistication) AS market_sophistication, "
                     "min(r.video_types)::text[] AS video_types"
                   : "NULL::text AS dossier_id, NULL::text AS platform, "
                     "NULL::smallint AS awareness_level, NULL::smallint AS market_sophistication, "
                     "NULL::text[] AS video_types";
  }
  return absl::StrCat("SELECT ", query.key, " AS key, ", columns, " FROM ", query.source, " WHERE ",
                      where, " GROUP BY ", query.group_by, " HAVING ", having);
}

// What a ranking is labelled with: the metrics version, and when the server started, since a
// database restored from a backup, or a replica promoted, may reach the same version with other
// rows.
constexpr char kMetricsVersionLabel[] = "version || '@' || pg_postmaster_start_time()";

// The cohort: each group's key and rates, and the metrics version its statement saw. The sums
// are exact (integers and NUMERIC); the rates are doubles, which separate any two different
// ratios of these sums.
std::string CohortSql(const WinnersQuery& query, bool dossier_filter, bool months) {
  return absl::StrCat("WITH groups AS (", GroupsSql(query, dossier_filter, months, false), R"sql(
    )
    SELECT key,
           CASE WHEN $7 THEN engagement_rate_sum::float8 / days
                ELSE interactions::float8 / views END,
           CASE WHEN $7 THEN ctr_sum::float8 / days ELSE clicks::float8 / views END,
           CASE WHEN clicks > 0 THEN conversions::float8 / clicks ELSE 0 END,
           (SELECT )sql",
                      kMetricsVersionLabel, R"sql( FROM cf_metrics_version)
      FROM groups)sql");
}

// The page's groups with their totals and dimensions.
std::string DetailsSql(const WinnersQuery& query, bool dossier_filter, bool months) {
  return absl::StrCat("WITH groups AS (", GroupsSql(query, dossier_filter, months, true), R"sql(
    )
    SELECT key, days, views, likes, comments, shares, saves, clicks, conversions, spend::text,
           dossier_id, platform, awareness_level, market_sophistication, video_types
      FROM groups)sql");
}

}  // namespace

std::shared_ptr<const Ranking> RankingCache::Find(const std::string& filters,
                                                  const std::string& metrics_version) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(filters);
  if (it == entries_.end() || it->second.ranking->metrics_version != metrics_version) {
    return nullptr;
  }
  it->second.last_used = ++uses_;
  return it->second.ranking;
}

void RankingCache::Keep(const std::string& filters, const std::string& metrics_version,
                        std::shared_ptr<Ranking> ranking) {
  ranking->metrics_version = metrics_version;
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.count(filters) == 0 && entries_.size() >= max_entries_) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    entries_.erase(oldest);
  }
  entries_[filters] = {std::move(ranking), ++uses_};
}

absl::Status CheckWeights(const google::protobuf::Map<std::string, double>& weights) {
  FieldViolations violations;
  double sum = 0;
  const std::set<std::string> known = {"engagement", "ctr", "conversions"};
  for (const auto& [key, value] : weights) {
    const std::string field = absl::StrCat("weights[", key, "]");
    if (known.count(key) == 0) {
      violations.Add(field, "unknown key; the keys are engagement, ctr and conversions");
    } else if (!std::isfinite(value) || value < 0) {
      violations.Add(field, "must be a number >= 0");
    } else {
      sum += value;
    }
  }
  if (violations.empty() && std::fabs(sum - 1.0) > 1e-6) {
    violations.Add("weights",
                   absl::StrFormat("must sum to 1.0 (within 1e-6); they sum to %.9g", sum));
  }
  return violations.Build();
}

std::vector<double> PercentRanks(const std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n, 0.0);
  size_t first_of_tie = 0;
  for (size_t position = 0; position < n; ++position) {
    if (position > 0 && values[order[position]] != values[order[position - 1]]) {
      first_of_tie = position;
    }
    ranks[order[position]] = n > 1 ? static_cast<double>(first_of_tie) / (n - 1) : 0.0;
  }
  return ranks;
}

std::vector<RankedMember> RankCohort(const std::vector<CohortMember>& cohort,
                                     const v1::ScoringWeights& weights) {
  std::vector<double> engagement, ctr, conversion;
  for (const CohortMember& member : cohort) {
    engagement.push_back(member.engagement_rate);
    ctr.push_back(member.ctr);
    conversion.push_back(member.conversion_rate);
  }
  const std::vector<double> engagement_ranks = PercentRanks(engagement);
  const std::vector<double> ctr_ranks = PercentRanks(ctr);
  const std::vector<double> conversion_ranks = PercentRanks(conversion);
  std::vector<RankedMember> ranked;
  ranked.reserve(cohort.size());
  for (size_t i = 0; i < cohort.size(); ++i) {
    ranked.push_back({i, engagement_ranks[i], ctr_ranks[i], conversion_ranks[i],
                      weights.engagement() * engagement_ranks[i] + weights.ctr() * ctr_ranks[i] +
                          weights.conversions() * conversion_ranks[i]});
  }
  std::sort(ranked.begin(), ranked.end(), [&](const RankedMember& a, const RankedMember& b) {
    if (a.score != b.score) return a.score > b.score;
    const CohortMember& x = cohort[a.index];
    const CohortMember& y = cohort[b.index];
    if (x.engagement_rate != y.engagement_rate) return x.engagement_rate > y.engagement_rate;
    return x.key < y.key;
  });
  return ranked;
}

absl::StatusOr<v1::ScoringConfig> Scoring::CreateScoringConfig(
    const v1::CreateScoringConfigRequest& request) {
  FieldViolations violations;
  if (request.name().empty()) violations.Add("name", "is required");
  if (request.name().size() > 200) violations.Add("name", "must be at most 200 characters");
  violations.AddAll(CheckWeights(request.weights()));
  const int threshold =
      request.has_min_views_threshold() ? request.min_views_threshold() : kDefaultMinViews;
  if (threshold < 0) violations.Add("min_views_threshold", "must be >= 0");
  absl::Status invalid = violations.Build();
  if (!invalid.ok()) return invalid;

  nlohmann::json weights = nlohmann::json::object();
  for (const auto& [key, value] : request.weights()) weights[key] = value;
  std::optional<v1::ScoringConfig> created;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("INSERT INTO cf_scoring_config (name, weights, min_views_threshold, active) "
                     "VALUES ($1, $2::jsonb, $3, false) RETURNING ",
                     kConfigColumns, db::MicrosOf("created_at")),
        request.name(), weights.dump(), threshold);
    created = ConfigOf(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return *created;
}

absl::StatusOr<v1::ScoringConfig> Scoring::GetScoringConfig(
    const v1::GetScoringConfigRequest& request) {
  absl::Status id_ok = RequireUuid(request.id(), "id");
  if (!id_ok.ok()) return id_ok;
  return ConfigFor(request.id());
}

absl::StatusOr<v1::ScoringConfig> Scoring::ConfigFor(const std::string& id) {
  absl::StatusOr<pqxx::result> rows =
      id.empty() ? pool_->Read("scoring_active", ConfigSelect() + " WHERE active")
                 : pool_->Read("scoring_by_id", ConfigSelect() + " WHERE id = $1::uuid", id);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return id.empty() ? absl::FailedPreconditionError(
                            "no scoring config is active; activate one (ActivateScoringConfig)")
                      : absl::NotFoundError(absl::StrCat("scoring config ", id, " not found"));
  }
  return ConfigOf((*rows)[0]);
}

absl::StatusOr<v1::ListScoringConfigsResponse> Scoring::ListScoringConfigs(
    const v1::ListScoringConfigsRequest& request) {
  absl::StatusOr<int> page_size = PageSize(request.page_size(), 50, 500);
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<std::optional<CreatedCursor>> cursor =
      DecodeCreatedCursor(request.page_token(), "", "ListScoringConfigs");
  if (!cursor.ok()) return cursor.status();
  const std::string after_time = cursor->has_value() ? (*cursor)->created_at : "";
  const std::string after_id = cursor->has_value() ? (*cursor)->id : "";
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "scoring_newest_first",
      absl::StrCat(
          "SELECT ", kConfigColumns, db::MicrosOf("created_at"),
          ", created_at::text FROM cf_scoring_config WHERE $1::timestamptz IS NULL OR "
          "(created_at, id) < ($1::timestamptz, $2::uuid) ORDER BY created_at DESC, id DESC "
          "LIMIT $3"),
      db::NullIfEmpty(after_time), db::NullIfEmpty(after_id), *page_size + 1);
  if (!rows.ok()) return rows.status();
  v1::ListScoringConfigsResponse response;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < *page_size; ++i) {
    *response.add_configs() = ConfigOf((*rows)[i]);
  }
  if (static_cast<int>(rows->size()) > *page_size) {
    const auto& last = (*rows)[*page_size - 1];
    response.set_next_page_token(EncodeCreatedCursor({last[6].c_str(), last[0].c_str()}, ""));
  }
  return response;
}

absl::StatusOr<v1::ScoringConfig> Scoring::ActivateScoringConfig(
    const v1::ActivateScoringConfigRequest& request) {
  absl::Status id_ok = RequireUuid(request.id(), "id");
  if (!id_ok.ok()) return id_ok;
  std::optional<v1::ScoringConfig> activated;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    // One switch at a time: two at once would each clear the old active row and then collide
    // on the one-active index.
    txn.exec("SELECT pg_advisory_xact_lock(hashtext('cf_scoring_config activate'))");
    pqxx::result target =
        txn.exec_params("SELECT 1 FROM cf_scoring_config WHERE id = $1::uuid", request.id());
    if (target.empty()) {
      return absl::NotFoundError(absl::StrCat("scoring config ", request.id(), " not found"));
    }
    txn.exec_params("UPDATE cf_scoring_config SET active = false WHERE active AND id <> $1::uuid",
                    request.id());
    pqxx::result rows = txn.exec_params(
        absl::StrCat("UPDATE cf_scoring_config SET active = true WHERE id = $1::uuid RETURNING ",
                     kConfigColumns, db::MicrosOf("created_at")),
        request.id());
    activated = ConfigOf(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return *activated;
}

absl::StatusOr<v1::FindWinnersResponse> Scoring::FindWinners(
    const v1::FindWinnersRequest& request) {
  FieldViolations violations;
  if (!request.scoring_config_id().empty()) {
    CheckUuidField(request.scoring_config_id(), "scoring_config_id", &violations);
  }
  if (!request.dossier_id().empty())
    CheckUuidField(request.dossier_id(), "dossier_id", &violations);
  if (request.awareness_level() < 0 || request.awareness_level() > 5) {
    violations.Add("awareness_level", "must be 1-5, or 0 for any");
  }
  if (!assembly::v1::Platform_IsValid(request.platform())) {
    violations.Add("platform", "unknown platform");
  }
  if (!v1::WinnerGrouping_IsValid(request.group_by()))
    violations.Add("group_by", "unknown grouping");
  if (!v1::RateBasis_IsValid(request.rate_basis())) violations.Add("rate_basis", "unknown basis");
  const bool months = request.has_first_month() || request.has_last_month();
  absl::CivilDay first_month, last_month;
  if (months) {
    if (!request.has_first_month() || !IsMonth(request.first_month(), &first_month)) {
      violations.Add("first_month", "must be a year and month with day 0 (whole months)");
    }
    if (!request.has_last_month() || !IsMonth(request.last_month(), &last_month)) {
      violations.Add("last_month", "must be a year and month with day 0 (whole months)");
    }
    if (violations.empty() && last_month < first_month) {
      violations.Add("last_month", "must not be before first_month");
    }
  }
  absl::StatusOr<int> page_size = PageSize(request.page_size(), 10, 1000);
  if (!page_size.ok()) violations.Add("page_size", "must be >= 0");
  absl::Status invalid = violations.Build();
  if (!invalid.ok()) return invalid;

  absl::StatusOr<v1::ScoringConfig> config = ConfigFor(request.scoring_config_id());
  if (!config.ok()) return config.status();
  const std::string filters =
      absl::StrCat(config->id(), "|", request.dossier_id(), "|", request.platform(), "|",
                   request.awareness_level(), "|", months ? absl::FormatCivilTime(first_month) : "",
                   "|", months ? absl::FormatCivilTime(last_month) : "", "|", request.group_by(),
                   "|", request.rate_basis());
  int offset = 0;
  if (!request.page_token().empty()) {
    absl::StatusOr<std::vector<std::string>> key =
        DecodePageToken(request.page_token(), 1, filters);
    if (!key.ok()) return key.status();
    if (!absl::SimpleAtoi((*key)[0], &offset) || offset < 0) {
      return InvalidField("page_token", "is not a FindWinners page token");
    }
  }
  const bool dossier_filter = !request.dossier_id().empty();
  const WinnersQuery query = QueryFor(request.group_by(), months, dossier_filter);
  const std::string platform =
      request.platform() == 0 ? "" : assembly::PlatformName(request.platform());
  const std::string awareness =
      request.awareness_level() == 0 ? "" : absl::StrCat(request.awareness_level());
  const bool mean_of_daily = request.rate_basis() == v1::RATE_BASIS_MEAN_OF_DAILY_RATES;
  const std::string first_month_text = months ? absl::FormatCivilTime(first_month) : "";
  const std::string last_month_text = months ? absl::FormatCivilTime(last_month) : "";
  // The cohort's rates come from the database; the three percentile ranks and the ordering are
  // computed here (three sorts of a few numbers each, cheaper than three window sorts of whole
  // rows), and only the page's groups are read in full.
  //
  // A ranking is kept with the metrics version it was computed at, and reused while the
  // version stays (no metrics row changed since): then only the page is read.
  std::shared_ptr<const Ranking> ranking;
  std::vector<RankedMember> page;
  std::map<std::string, pqxx::row> details;
  absl::Status status = reads_->WithConnection([&](pqxx::connection& connection) {
    pqxx::nontransaction txn(connection);
    ranking = rankings_.Find(filters, txn.exec(absl::StrCat("SELECT ", kMetricsVersionLabel,
                                                            " FROM cf_metrics_version"))[0][0]
                                          .c_str());
    if (ranking == nullptr) {
      pqxx::result rows = txn.exec_params(
          CohortSql(query, dossier_filter, months), db::NullIfEmpty(request.dossier_id()),
          db::NullIfEmpty(platform), db::NullIfEmpty(awareness), db::NullIfEmpty(first_month_text),
          db::NullIfEmpty(last_month_text), config->min_views_threshold(), mean_of_daily);
      auto computed = std::make_shared<Ranking>();
      computed->cohort.reserve(rows.size());
      for (const auto& row : rows) {
        computed->cohort.push_back(
            {row[0].c_str(), row[1].as<double>(), row[2].as<double>(), row[3].as<double>()});
      }
      computed->ranked = RankCohort(computed->cohort, config->weights());
      // Labelled with the version the cohort's own statement saw (an empty cohort has no row
      // to say it, and is cheap to compute again).
      if (!rows.empty()) rankings_.Keep(filters, rows[0][4].c_str(), computed);
      ranking = std::move(computed);
    }
    const std::vector<CohortMember>& cohort = ranking->cohort;
    const std::vector<RankedMember>& ranked = ranking->ranked;
    std::vector<std::string> keys;
    for (size_t i = offset; i < ranked.size() && i <= static_cast<size_t>(offset + *page_size);
         ++i) {
      page.push_back(ranked[i]);
      keys.push_back(cohort[ranked[i].index].key);
    }
    if (keys.empty()) return absl::OkStatus();
    pqxx::result found = txn.exec_params(
        DetailsSql(query, dossier_filter, months), db::NullIfEmpty(request.dossier_id()),
        db::NullIfEmpty(platform), db::NullIfEmpty(awareness), db::NullIfEmpty(first_month_text),
        db::NullIfEmpty(last_month_text), config->min_views_threshold(),
        db::TextArrayLiteral(keys));
    for (const auto& row : found) details.emplace(row[0].c_str(), row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  v1::FindWinnersResponse response;
  response.set_scoring_config_id(config->id());
  const std::vector<CohortMember>& cohort = ranking->cohort;
  response.set_cohort_size(static_cast<int32_t>(cohort.size()));
  for (int i = 0; i < static_cast<int>(page.size()) && i < *page_size; ++i) {
    const RankedMember& ranked = page[i];
    const CohortMember& member = cohort[ranked.index];
    v1::Winner* winner = response.add_winners();
    winner->set_key(member.key);
    winner->set_rank(offset + i + 1);
    winner->set_score(ranked.score);
    winner->set_engagement_rate(member.engagement_rate);
    winner->set_ctr(member.ctr);
    winner->set_conversion_rate(member.conversion_rate);
    winner->set_engagement_component(ranked.engagement_component);
    winner->set_ctr_component(ranked.ctr_component);
    winner->set_conversion_component(ranked.conversion_component);
    auto found = details.find(member.key);
    if (found == details.end()) continue;  // the group changed between the two reads
    const pqxx::row& row = found->second;
    ReadTotals(row, 1, winner->mutable_totals());
    if (query.has_dimensions) {
      winner->set_dossier_id(row[10].is_null() ? "" : row[10].c_str());
      winner->set_platform(assembly::PlatformOf(row[11].c_str()));
      winner->set_awareness_level(row[12].as<int>());
      winner->set_market_sophistication(row[13].as<int>());
      for (const std::string& type : db::ReadTextArray(row[14])) winner->add_video_types(type);
    }
  }
  if (static_cast<int>(page.size()) > *page_size) {
    response.set_next_page_token(EncodePageToken({absl::StrCat(offset + *page_size)}, filters));
  }
  return response;
}

}  // namespace cf::analytics
