#include "common/jobs/queue.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/values.h"

namespace cf::jobs {
namespace {

constexpr JobState kAllStates[] = {JobState::kQueued, JobState::kRunning, JobState::kDone,
                                   JobState::kFailed, JobState::kCancelled};

int64_t Millis(absl::Duration duration) { return absl::ToInt64Milliseconds(duration); }

// exec_params with a parameter list known only at run time (NULL for nullopt).
pqxx::result Exec(pqxx::work& txn, const std::string& sql, const SqlArgs& args) {
  std::vector<const char*> values;
  values.reserve(args.size());
  for (const auto& arg : args) values.push_back(arg ? arg->c_str() : nullptr);
  return txn.exec_params(sql, pqxx::prepare::make_dynamic_params(values));
}

// Error text as a TEXT column takes it: valid UTF-8 without NUL (ffmpeg's stderr may be
// anything), at most 2000 bytes.
std::string CleanText(const std::string& text) {
  std::string clean;
  for (size_t i = 0; i < text.size() && clean.size() < 2000;) {
    unsigned char c = text[i];
    int length = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool valid = length > 0 && i + length <= text.size() && c != 0;
    for (int k = 1; valid && k < length; ++k) valid = (text[i + k] & 0xc0) == 0x80;
    if (valid) {
      clean.append(text, i, length);
      i += length;
    } else {
      clean += '?';
      ++i;
    }
  }
  return clean;
}

}  // namespace

std::string Lease::OutputStem() const { return absl::StrCat(id, "-", token); }

const char* StateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kNone:
      return "none";
  }
  return "queued";
}

JobQueue::JobQueue(db::ConnectionPool* pool, QueueSpec spec) : pool_(pool), spec_(std::move(spec)) {
  claim_sql_ = absl::StrCat(
      "UPDATE ", spec_.table, " AS j SET ", SetState(JobState::kRunning),
      ", attempts = attempts + 1, lease_token = nextval('cf_job_lease_tokens'), "
      "lease_owner = $1, lease_expires_at = NOW() + $2 * interval '1 millisecond', "
      // A deferred external job keeps its progress from poll to poll.
      "progress = CASE WHEN j.next_poll_at IS NULL THEN 0 ELSE j.progress END, phase = NULL "
      "WHERE id IN (SELECT id FROM ",
      spec_.table,
      " WHERE job_state = 'queued' AND next_attempt_at <= NOW() "
      "ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT $3) "
      "RETURNING j.id::text, j.lease_token, j.attempts, ",
      spec_.external_job_column.empty()
          ? std::string("''")
          : absl::StrCat("COALESCE(j.", spec_.external_job_column, ", '')"),
      spec_.claim_columns.empty() ? "" : ", ", spec_.claim_columns);
  if (!spec_.external_job_column.empty()) {
    record_external_sql_ = FencedSql(absl::StrCat(spec_.external_job_column, " = $3"));
  }
  completed_by_sql_ = absl::StrCat("SELECT 1 FROM ", spec_.table, " WHERE id = $1::", spec_.id_type,
                                   " AND lease_token = $2 AND job_state = 'done'");
  // A job holding its external id that ends failed says so (external_failure_prefix).
  const std::string failing_error =
      spec_.external_failure_prefix.empty() || spec_.external_job_column.empty()
          ? std::string("$3")
          : absl::StrCat("CASE WHEN COALESCE(", spec_.external_job_column,
                         ", '') <> '' AND NOT starts_with($3, $6::text) THEN $6::text || ': ' || "
                         "$3 ELSE $3 END");
  fail_sql_ = FencedSql(absl::StrCat(
      SetStateTo("(CASE WHEN $4::boolean AND attempts < max_attempts THEN 'queued' "
                 "ELSE 'failed' END)"),
      ", next_attempt_at = NOW() + $5 * interval '1 millisecond', last_error = CASE WHEN "
      "$4::boolean AND attempts < max_attempts THEN $3 ELSE ",
      failing_error, " END, lease_owner = NULL, lease_expires_at = NULL"));
  defer_sql_ = FencedSql(absl::StrCat(SetState(JobState::kQueued),
                                      ", attempts = attempts - 1, lease_owner = NULL, "
                                      "lease_expires_at = NULL, "
                                      "next_attempt_at = NOW() + $3 * interval '1 millisecond', "
                                      "next_poll_at = NOW() + $3 * interval '1 millisecond', "
                                      "phase = COALESCE(NULLIF($4::text, ''), phase), "
                                      "progress = GREATEST(progress, $5::int)"));
  release_sql_ = FencedSql(absl::StrCat(SetState(JobState::kQueued),
                                        ", attempts = attempts - 1, lease_owner = NULL, "
                                        "lease_expires_at = NULL, progress = 0, phase = NULL"));
  heartbeat_sql_ =
      absl::StrCat("UPDATE ", spec_.table,
                   " AS t SET lease_expires_at = NOW() + $5 * interval '1 millisecond', "
                   "progress = GREATEST(t.progress, LEAST(b.progress, 99)), "
                   "phase = COALESCE(NULLIF(b.phase, ''), t.phase) "
                   "FROM unnest($1::",
                   spec_.id_type,
                   "[], $2::bigint[], $3::int[], $4::text[]) AS b(id, token, progress, phase) "
                   "WHERE t.id = b.id AND t.lease_token = b.token AND t.job_state = 'running' "
                   "RETURNING t.id::text, t.lease_token");
  // A job holding an external job keeps its attempts through crashes, up to its deadline,
  // when the spec says so (QueueSpec::external_deadline_sql).
  const bool keeps_external =
      !spec_.external_job_column.empty() && !spec_.external_deadline_sql.empty();
  const std::string holds_external =
      keeps_external ? absl::StrCat("COALESCE(", spec_.external_job_column, ", '') <> ''")
                     : "false";
  const std::string past_deadline =
      keeps_external ? absl::StrCat("NOW() >= (", spec_.external_deadline_sql, ")") : "false";
  rescue_sql_ = absl::StrCat(
      "UPDATE ", spec_.table, " SET ",
      SetStateTo(absl::StrCat("(CASE WHEN ", holds_external, " THEN (CASE WHEN ", past_deadline,
                              " THEN 'failed' ELSE 'queued' END) WHEN attempts >= max_attempts "
                              "THEN 'failed' ELSE 'queued' END)")),
      ", attempts = CASE WHEN ", holds_external, " AND NOT ", past_deadline,
      " THEN GREATEST(attempts - 1, 0) ELSE attempts END, ", "last_error = CASE WHEN ",
      holds_external, " AND ", past_deadline,
      " THEN $1::text ELSE 'attempt ' || attempts || ': the worker stopped responding (lease "
      "expired)' END, "
      "lease_owner = NULL, lease_expires_at = NULL "
      // next_attempt_at is kept: a job whose worker died keeps its place in the queue
      // instead of waiting behind everything queued since it was first due.
      "WHERE job_state = 'running' AND lease_expires_at < NOW() RETURNING 1");
}

std::string JobQueue::StatusName(JobState state) const {
  auto it = spec_.status_of.find(state);
  return it == spec_.status_of.end() ? StateName(state) : it->second;
}

std::string JobQueue::StateValue(const std::string& state_sql) const {
  std::vector<std::string> cases;
  for (JobState state : kAllStates) {
    auto it = spec_.status_of.find(state);
    if (it == spec_.status_of.end()) continue;
    cases.push_back(absl::StrCat("WHEN '", StateName(state), "' THEN '", it->second, "'"));
  }
  return absl::StrCat("CASE ", state_sql, " ", absl::StrJoin(cases, " "), " ELSE ",
                      spec_.status_column, " END");
}

std::string JobQueue::SetStateTo(const std::string& state_sql) const {
  std::string sql = absl::StrCat("job_state = ", state_sql);
  if (!spec_.status_column.empty()) {
    absl::StrAppend(&sql, ", ", spec_.status_column, " = ", StateValue(state_sql));
  }
  return sql;
}

std::string JobQueue::FencedSql(const std::string& set_sql) const {
  return absl::StrCat("UPDATE ", spec_.table, " SET ", set_sql, " WHERE id = $1::", spec_.id_type,
                      " AND lease_token = $2 AND job_state = 'running' RETURNING 1");
}

std::string JobQueue::SetState(JobState state) const {
  std::string sql = absl::StrCat("job_state = '", StateName(state), "'");
  if (spec_.status_column.empty()) return sql;
  auto it = spec_.status_of.find(state);
  if (it == spec_.status_of.end()) return sql;
  return absl::StrCat(sql, ", ", spec_.status_column, " = '", it->second, "'");
}

absl::Status JobQueue::Transition(const std::string& id, const std::string& set,
                                  const std::set<JobState>& from, const std::string& allowed,
                                  const std::string& only_if) {
  std::vector<std::string> states = {"NULL"};  // IN (NULL) matches nothing: a harmless filler
  for (JobState state : from) {
    if (state != JobState::kNone) states.push_back(absl::StrCat("'", StateName(state), "'"));
  }
  const std::string in_states =
      absl::StrCat("(job_state IN (", absl::StrJoin(states, ", "), ")",
                   from.count(JobState::kNone) > 0 ? " OR job_state IS NULL)" : ")");
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result changed = txn.exec_params(
        absl::StrCat("UPDATE ", spec_.table, " SET ", set, " WHERE id = $1::", spec_.id_type,
                     " AND ", in_states,
                     only_if.empty() ? "" : absl::StrCat(" AND (", only_if, ")"), " RETURNING 1"),
        id);
    if (!changed.empty()) return absl::OkStatus();
    // Said in the service's own words (its status column) when it has one.
    pqxx::result current = txn.exec_params(
        absl::StrCat("SELECT ", spec_.status_column.empty() ? "job_state" : spec_.status_column,
                     " FROM ", spec_.table, " WHERE id = $1::", spec_.id_type),
        id);
    if (current.empty()) {
      return absl::NotFoundError(absl::StrCat(spec_.kind, " ", id, " not found"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the ", spec_.kind, " is ", current[0][0].as<std::string>(), "; ", allowed));
  });
}

absl::Status JobQueue::Cancel(const std::string& id) {
  return Transition(
      id,
      absl::StrCat(SetState(JobState::kCancelled), ", lease_owner = NULL, lease_expires_at = NULL"),
      {JobState::kQueued, JobState::kRunning},
      absl::StrCat("only a ", StatusName(JobState::kQueued), " or ", StatusName(JobState::kRunning),
                   " job can be cancelled"));
}

absl::Status JobQueue::Requeue(const std::string& id, const std::set<JobState>& from,
                               const std::string& also_set, const std::string& allowed,
                               const std::string& only_if) {
  std::string set = absl::StrCat(
      SetState(JobState::kQueued),
      ", attempts = 0, progress = 0, phase = NULL, last_error = NULL, next_attempt_at = NOW(), "
      "next_poll_at = NULL, lease_owner = NULL, lease_expires_at = NULL",
      spec_.external_job_column.empty() ? ""
                                        : absl::StrCat(", ", spec_.external_job_column, " = NULL"),
      also_set.empty() ? "" : ", ", also_set);
  return Transition(id, set, from, allowed, only_if);
}

absl::StatusOr<std::vector<Lease>> JobQueue::Claim(const std::string& worker, int limit,
                                                   absl::Duration lease) {
  std::vector<Lease> leases;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    leases.clear();
    pqxx::result rows = txn.exec_params(claim_sql_, worker, Millis(lease), limit);
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
      Lease held;
      held.id = rows[i][0].as<std::string>();
      held.token = rows[i][1].as<int64_t>();
      held.attempt = rows[i][2].as<int>();
      held.external_job_id = rows[i][3].as<std::string>();
      held.rows = rows;
      held.index = i;
      leases.push_back(std::move(held));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return leases;
}

absl::StatusOr<bool> JobQueue::Fenced(const std::string& fenced_sql, const Lease& lease,
                                      const SqlArgs& args) {
  SqlArgs all = {lease.id, std::to_string(lease.token)};
  all.insert(all.end(), args.begin(), args.end());
  bool held = false;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    held = !Exec(txn, fenced_sql, all).empty();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return held;
}

absl::StatusOr<bool> JobQueue::RecordExternalJob(const Lease& lease,
                                                 const std::string& external_id) {
  if (spec_.external_job_column.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", spec_.kind, " queue keeps no external job id"));
  }
  return Fenced(record_external_sql_, lease, {external_id});
}

std::string JobQueue::CompleteSql(const std::string& set_sql, const std::string& then_sql) const {
  std::string update = FencedSql(absl::StrCat(SetState(JobState::kDone),
                                              ", progress = 100, phase = NULL, lease_owner = NULL, "
                                              "lease_expires_at = NULL, last_error = NULL",
                                              set_sql.empty() ? "" : ", ", set_sql));
  return WithThen(update, then_sql);
}

std::string JobQueue::WithThen(std::string update, const std::string& then_sql) {
  if (then_sql.empty()) return update;
  constexpr absl::string_view kReturningOne = "RETURNING 1";
  update.replace(update.size() - kReturningOne.size(), kReturningOne.size(), "RETURNING *");
  return absl::StrCat("WITH done AS (", update, ") ", then_sql);
}

absl::StatusOr<bool> JobQueue::Complete(const Lease& lease, const std::string& set_sql,
                                        const SqlArgs& args, const std::string& then_sql) {
  absl::StatusOr<bool> done = Fenced(CompleteSql(set_sql, then_sql), lease, args);
  if (!done.ok() || *done) return done;
  // Refused: unless this very token already completed it (a retry after the answer to a
  // committed completion was lost). Tokens never repeat, so that can be no one else.
  bool mine = false;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    mine = !txn.exec_params(completed_by_sql_, lease.id, lease.token).empty();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return mine;
}

absl::StatusOr<bool> JobQueue::OnFailedHolding(const std::string& sql, const std::string& id,
                                               const std::string& external_id,
                                               const SqlArgs& args) {
  if (spec_.external_job_column.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", spec_.kind, " queue keeps no external job id"));
  }
  SqlArgs all = {id, external_id};
  all.insert(all.end(), args.begin(), args.end());
  bool changed = false;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    changed = !Exec(txn, sql, all).empty();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return changed;
}

absl::StatusOr<bool> JobQueue::CompleteFailed(const std::string& id, const std::string& external_id,
                                              const std::string& set_sql, const SqlArgs& args,
                                              const std::string& then_sql) {
  const std::string update =
      absl::StrCat("UPDATE ", spec_.table, " SET ", SetState(JobState::kDone),
                   ", progress = 100, phase = NULL, last_error = NULL", set_sql.empty() ? "" : ", ",
                   set_sql, " WHERE id = $1::", spec_.id_type, " AND job_state = 'failed' AND ",
                   spec_.external_job_column, " = $2 RETURNING 1");
  return OnFailedHolding(WithThen(update, then_sql), id, external_id, args);
}

absl::StatusOr<bool> JobQueue::ReplaceExternalJob(const std::string& id,
                                                  const std::string& external_id,
                                                  const std::string& new_external_id,
                                                  const std::string& error) {
  const std::string sql = absl::StrCat(
      "UPDATE ", spec_.table, " SET ", spec_.external_job_column,
      " = NULLIF($3, ''), last_error = COALESCE(NULLIF($4, ''), last_error) WHERE id = $1::",
      spec_.id_type, " AND job_state = 'failed' AND ", spec_.external_job_column,
      " = $2 RETURNING 1");
  return OnFailedHolding(sql, id, external_id, {new_external_id, CleanText(error)});
}

absl::StatusOr<bool> JobQueue::Fail(const Lease& lease, const std::string& error, bool retryable,
                                    absl::Duration retry_after) {
  SqlArgs args = {CleanText(error), retryable ? "true" : "false",
                  std::to_string(Millis(retry_after))};
  if (!spec_.external_failure_prefix.empty() && !spec_.external_job_column.empty()) {
    args.push_back(spec_.external_failure_prefix);
  }
  return Fenced(fail_sql_, lease, args);
}

absl::StatusOr<bool> JobQueue::Defer(const Lease& lease, absl::Duration after,
                                     const std::string& phase, int progress) {
  return Fenced(defer_sql_, lease,
                {std::to_string(Millis(after)), phase, std::to_string(progress)});
}

absl::StatusOr<bool> JobQueue::Release(const Lease& lease) {
  return Fenced(release_sql_, lease, {});
}

std::set<std::pair<std::string, int64_t>> JobQueue::Heartbeat(pqxx::connection& connection,
                                                              const std::vector<Beat>& beats,
                                                              absl::Duration lease) {
  std::set<std::pair<std::string, int64_t>> held;
  if (beats.empty()) return held;
  std::vector<std::string> ids, tokens, progress, phases;
  for (const Beat& beat : beats) {
    ids.push_back(beat.id);
    tokens.push_back(std::to_string(beat.token));
    progress.push_back(std::to_string(beat.progress));
    phases.push_back(beat.phase);
  }
  pqxx::work txn(connection);
  pqxx::result rows =
      txn.exec_params(heartbeat_sql_, db::TextArrayLiteral(ids), db::TextArrayLiteral(tokens),
                      db::TextArrayLiteral(progress), db::TextArrayLiteral(phases), Millis(lease));
  txn.commit();
  for (const auto& row : rows) held.emplace(row[0].as<std::string>(), row[1].as<int64_t>());
  return held;
}

int JobQueue::RescueExpired(pqxx::connection& connection) {
  pqxx::work txn(connection);
  pqxx::result rows = txn.exec_params(rescue_sql_, spec_.external_deadline_error);
  txn.commit();
  return static_cast<int>(rows.size());
}

}  // namespace cf::jobs
