// The job queue: rows of a service's table are the jobs (DESIGN.md "Data and jobs").
//
// The library owns its columns, which a migration adds to the service's table: job_state
// (queued, running, done, failed, cancelled), lease_token, attempts, max_attempts,
// next_attempt_at, next_poll_at, lease_owner, lease_expires_at, progress, phase, last_error.
// A hook maps job_state onto the service's own status column in the same UPDATE.
//
// Fencing: every claim takes a new lease_token from the sequence cf_job_lease_tokens, so the
// token grows and never repeats, Retry and re-queueing included. Every write a worker makes
// (heartbeat, progress, external job id, complete, fail, defer, release) names the token and
// changes nothing once another claim holds the row.
#ifndef CF_COMMON_JOBS_QUEUE_H_
#define CF_COMMON_JOBS_QUEUE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"

namespace cf::jobs {

// kNone is a row that has had no job yet (job_state NULL, e.g. an assembly still a draft); it
// is only ever a state Requeue starts from.
enum class JobState { kQueued, kRunning, kDone, kFailed, kCancelled, kNone };
const char* StateName(JobState state);  // "queued", "running", ..., "none"

// How a service's table carries jobs.
struct QueueSpec {
  std::string table;    // e.g. "cf_generated_images"
  std::string kind;     // a name for logs and errors, e.g. "image"
  std::string channel;  // the NOTIFY channel the table's cf_jobs_notify trigger uses
  std::string id_type = "uuid";
  // The hook: the service's status column and its value in each job state ("" column: none).
  std::string status_column;
  std::map<JobState, std::string> status_of;
  std::string external_job_column;  // where an external job's id is kept ("" when none)
  // How the rescuer treats a job whose worker stopped while the job held an external job (its
  // external_job_column set, e.g. a publish holding a platform handle, a Veo operation).
  // Empty: as any other job, the claim's attempt counts, and the job fails once they are used
  // up. Set: the crash spends no attempt, since the job's state lives outside and giving up
  // would abandon it (a post live on the platform, a paid operation); instead the job is
  // bounded by this deadline, an SQL timestamp over the row (e.g. "created_at + interval '1
  // day'"): once it has passed, the rescuer fails the job with `external_deadline_error`,
  // keeping the external id.
  std::string external_deadline_sql;
  std::string external_deadline_error;
  // With external_deadline_sql: how the error of a job that ends failed while holding its
  // external id starts, whoever fails it (the job, the runner, the rescuer), so such a job can
  // always be told from one that made nothing outside (e.g. "live on the platform, not
  // recorded"). Added unless the error already starts so.
  std::string external_failure_prefix;
  // What a claim returns besides the queue's own columns: a select list over the row alias j.
  std::string claim_columns;
};

// Parameters for the SQL a service adds (NULL as nullopt).
using SqlArgs = std::vector<std::optional<std::string>>;

// A job a worker holds.
struct Lease {
  std::string id;
  int64_t token = 0;  // the fencing token
  int attempt = 0;    // 1 for the first claim; a plain counter
  std::string external_job_id;
  // The claim's row; the service's claim_columns start at field kPayload.
  static constexpr int kPayload = 4;
  pqxx::result rows;
  int index = 0;
  pqxx::row row() const { return rows[index]; }
  // "<id>-<token>": names this attempt's output, so no two attempts write the same file.
  std::string OutputStem() const;
};

// One running job's heartbeat.
struct Beat {
  std::string id;
  int64_t token = 0;
  int progress = 0;
  std::string phase;  // "" leaves it as it is
};

class JobQueue {
 public:
  JobQueue(db::ConnectionPool* pool, QueueSpec spec);

  const QueueSpec& spec() const { return spec_; }

  // --- For the API. Each answers NOT_FOUND, or FAILED_PRECONDITION naming the state.
  // queued -> cancelled. A running job is cancelled too: its worker's next heartbeat finds the
  // lease gone and stops it.
  absl::Status Cancel(const std::string& id);
  // `from` -> queued with a fresh set of attempts and progress 0 (Retry: from failed; render
  // again: from done). `also_set` is more SQL for the same UPDATE (may be ""). `only_if` is a
  // further condition on the row, checked in the same UPDATE (e.g. "status <> 'published'";
  // may be ""). `allowed` says in the error what may be re-queued.
  absl::Status Requeue(const std::string& id, const std::set<JobState>& from,
                       const std::string& also_set, const std::string& allowed,
                       const std::string& only_if = "");

  // --- For reconciling a failed job that kept its external job id (e.g. a publish whose
  // outcome on the platform was never learned), fenced on that id instead of a lease: false,
  // writing nothing, when the job is no longer failed or holds another id.
  // failed -> done, as Complete (parameters of `set_sql` and `then_sql` from $3).
  absl::StatusOr<bool> CompleteFailed(const std::string& id, const std::string& external_id,
                                      const std::string& set_sql, const SqlArgs& args,
                                      const std::string& then_sql = "");
  // Stays failed, holding `new_external_id` instead (what a lookup learned); "" clears it (the
  // external system says nothing came of it). `error`, when not "", becomes the reason.
  absl::StatusOr<bool> ReplaceExternalJob(const std::string& id, const std::string& external_id,
                                          const std::string& new_external_id,
                                          const std::string& error);

  // --- For workers. Fenced writes answer false, writing nothing, when the lease was lost; an
  // error status means the database did not answer and the write may be tried again.
  absl::StatusOr<std::vector<Lease>> Claim(const std::string& worker, int limit,
                                           absl::Duration lease);
  absl::StatusOr<bool> RecordExternalJob(const Lease& lease, const std::string& external_id);
  // running -> done, with the service's `set_sql` (parameters from $3, in `args`).
  // `then_sql`, when given, is a statement over `done` (the completed row, as RETURNING *
  // gives it), run in the same statement and so only when the fence held: e.g. an INSERT ...
  // SELECT ... FROM done of what the job produced. It must return a row when it wrote one.
  // (Side effects in `set_sql` itself are unsafe: PostgreSQL may compute SET twice, or for a
  // row it then skips, when a heartbeat touches the row meanwhile.)
  absl::StatusOr<bool> Complete(const Lease& lease, const std::string& set_sql, const SqlArgs& args,
                                const std::string& then_sql = "");
  // running -> queued after `retry_after` while attempts remain and `retryable`; else failed.
  absl::StatusOr<bool> Fail(const Lease& lease, const std::string& error, bool retryable,
                            absl::Duration retry_after);
  // running -> queued until `after` without using up the attempt, keeping the external job id:
  // an external job is still running and will be polled again then. The job's phase ("" keeps
  // it) and progress so far are stored with it, so a reader sees where it waits.
  absl::StatusOr<bool> Defer(const Lease& lease, absl::Duration after,
                             const std::string& phase = "", int progress = 0);
  // running -> queued now, in its old place in the queue, without using up the attempt (the
  // worker is shutting down).
  absl::StatusOr<bool> Release(const Lease& lease);

  // --- Maintenance, on a connection of the caller's (not the API's pool). They throw what
  // libpqxx throws.
  // Extends the leases still held and records progress; returns the (id, token) pairs held.
  std::set<std::pair<std::string, int64_t>> Heartbeat(pqxx::connection& connection,
                                                      const std::vector<Beat>& beats,
                                                      absl::Duration lease);
  // Expired leases back to queued (in their old place in the queue), or failed once attempts
  // are used up (or, for a job holding an external job under external_deadline_sql, once its
  // deadline has passed). Returns how many.
  int RescueExpired(pqxx::connection& connection);

  // The claim and completion statements, for the queue benchmark to drive raw. The completion
  // takes the lease's id and token as $1 and $2, then the service's `set_sql` parameters.
  const std::string& claim_sql() const { return claim_sql_; }
  std::string CompleteSql(const std::string& set_sql, const std::string& then_sql = "") const;

 private:
  // An UPDATE ... RETURNING 1 made into one whose completed row feeds `then_sql` (as `done`).
  static std::string WithThen(std::string update, const std::string& then_sql);
  // Runs `sql` on the failed job `id` that holds `external_id` ($1, $2; `args` from $3).
  absl::StatusOr<bool> OnFailedHolding(const std::string& sql, const std::string& id,
                                       const std::string& external_id, const SqlArgs& args);
  // Applies `set` when the row is in one of `from` (and meets `only_if`, when given);
  // otherwise NOT_FOUND or FAILED_PRECONDITION naming the state, then `allowed`.
  absl::Status Transition(const std::string& id, const std::string& set,
                          const std::set<JobState>& from, const std::string& allowed,
                          const std::string& only_if = "");
  // Runs a statement made by FencedSql with the lease's id and token as $1 and $2, then `args`.
  absl::StatusOr<bool> Fenced(const std::string& fenced_sql, const Lease& lease,
                              const SqlArgs& args);
  // UPDATE ... SET `set_sql` on the lease's row, only while its token holds it.
  std::string FencedSql(const std::string& set_sql) const;
  // SET fragment for a new state, including the service's status column.
  std::string SetState(JobState state) const;
  // The same for a state computed by SQL (a CASE expression).
  std::string SetStateTo(const std::string& state_sql) const;
  std::string StateValue(const std::string& state_sql) const;
  // The service's word for a state ("pending" for queued), or the state's own name.
  std::string StatusName(JobState state) const;

  db::ConnectionPool* pool_;
  QueueSpec spec_;
  // Statements fixed by the spec, built once.
  std::string claim_sql_;
  std::string record_external_sql_;
  std::string completed_by_sql_;
  std::string fail_sql_;
  std::string defer_sql_;
  std::string release_sql_;
  std::string heartbeat_sql_;
  std::string rescue_sql_;
};

}  // namespace cf::jobs

#endif  // CF_COMMON_JOBS_QUEUE_H_
