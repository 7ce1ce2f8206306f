#include "common/db/pipelined_reader.h"

#include <postgresql/libpq-fe.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/db/errors.h"
#include "common/log/log.h"

namespace cf::db {

int ReadRows::size() const { return PQntuples(result_.get()); }

bool ReadRows::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

const char* ReadRows::Text(int row, int column) const {
  return PQgetvalue(result_.get(), row, column);
}

struct PipelinedReader::Request {
  std::string name;
  std::string sql;
  std::vector<std::string> params;
  Done done;
};

using Clock = std::chrono::steady_clock;

// One connection and, in order, what the server owes it: each read is sent as its own pipeline
// segment (prepare when new, execute, sync), so an error fails that read alone.
struct PipelinedReader::Connection {
  struct Expected {
    enum Kind { kPrepare, kExecute, kSync } kind;
    std::string name;            // kPrepare, kExecute: the statement
    Done done;                   // kExecute: the caller
    Clock::time_point sent_at;   // kExecute
    absl::Status prepare_error;  // kExecute: its statement's prepare failed after it was sent
    PGresult* result = nullptr;  // the answer so far (a NULL from libpq ends it)
  };

  int index = 0;
  PGconn* pg = nullptr;
  std::set<std::string> prepared;  // sent; a failure takes the name out again
  std::deque<Expected> expected;
  absl::Status segment_error;  // a failed prepare, for the execute it aborted
  bool want_write = false;
  Clock::time_point retry_at;  // a lost connection is replaced from then on
};

namespace {

// epoll data for the wake fd; connections use their index.
constexpr uint64_t kWakeTag = ~uint64_t{0};
constexpr char kUndefinedStatement[] = "26000";
constexpr size_t kMaxParams = 65535;  // the protocol's limit

absl::Status Unavailable(const std::string& why) {
  return absl::UnavailableError(
      absl::StrCat("the database is unavailable; retry later (", why, ")"));
}

std::string SqlStateOf(const PGresult* result) {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return sqlstate == nullptr ? "" : sqlstate;
}

absl::Status StatusOfResult(const PGresult* result) {
  return StatusFromServerError(SqlStateOf(result), PQresultErrorMessage(result),
                               /*connection_lost=*/false);
}

// Server notices (and a shutdown message that arrives while a connection is idle) go to the log
// rather than to stderr, libpq's default.
void LogNotice(void* /*unused*/, const char* message) {
  Log(LogLevel::kWarning, "pipelined reader: database notice", {{"message", message}});
}

[[noreturn]] void Die(const char* what) {
  Log(LogLevel::kError, "pipelined reader: a system call failed",
      {{"call", what}, {"errno", errno}});
  std::abort();
}

}  // namespace

PipelinedReader::PipelinedReader(std::string conninfo, Options options)
    : conninfo_(std::move(conninfo)), options_(options) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) Die("eventfd");
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) Die("epoll_create1");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) Die("epoll_ctl");
  for (int i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_unique<Connection>());
    connections_.back()->index = i;
  }
  thread_ = std::thread([this] { Run(); });
}

PipelinedReader::~PipelinedReader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
  close(epoll_fd_);
  close(wake_fd_);
}

void PipelinedReader::Read(const std::string& name, const std::string& sql,
                           std::vector<std::string> params, Done done) {
  if (params.size() > kMaxParams) {
    done(absl::InvalidArgumentError(
        absl::StrCat("a read takes at most ", kMaxParams, " parameters; got ", params.size())));
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopping_ || outstanding_.load() >= options_.max_outstanding) {
      const bool stopping = stopping_;
      lock.unlock();
      done(Unavailable(stopping ? "shutting down" : "too many reads outstanding"));
      return;
    }
    const bool was_empty = queue_.empty();
    queue_.push_back({name, sql, std::move(params), std::move(done)});
    ++outstanding_;  // until Answer
    // The reader swaps the whole queue out after each wake-up, so only the first read into an
    // empty queue needs to wake it. Under the lock: the destructor closes the fd after it.
    if (was_empty) {
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));
    }
  }
}

void PipelinedReader::Run() {
  epoll_event events[16];
  for (;;) {
    int ready = epoll_wait(epoll_fd_, events, 16, MillisecondsToNextTimeout());
    if (ready < 0) {
      if (errno != EINTR) Die("epoll_wait");
      ready = 0;
    }
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        continue;
      }
      Connection& connection = *connections_[events[i].data.u64];
      if (connection.pg == nullptr) continue;  // failed earlier in this round
      if ((events[i].events & EPOLLOUT) != 0) {
        Flush(connection);  // may read answers into libpq's buffer, as in Dispatch
        if (connection.pg != nullptr) ProcessResults(connection);
      }
      if (connection.pg != nullptr && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        Receive(connection);
      }
    }
    FailUnansweredConnections();
    std::deque<Request> requests;
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests.swap(queue_);
      stopping = stopping_;
    }
    if (stopping) {
      for (Request& request : requests) Answer(request.done, Unavailable("shutting down"));
      for (auto& connection : connections_) {
        Fail(*connection, Unavailable("shutting down"), /*expected=*/true);
      }
      return;
    }
    Dispatch(std::move(requests));
  }
}

// Until the oldest unanswered read reaches read_timeout; -1 (no limit) when none waits.
int PipelinedReader::MillisecondsToNextTimeout() const {
  if (options_.read_timeout == absl::InfiniteDuration()) return -1;
  Clock::time_point oldest = Clock::time_point::max();
  for (const auto& connection : connections_) {
    for (const Connection::Expected& expected : connection->expected) {
      if (expected.kind == Connection::Expected::kExecute) {
        oldest = std::min(oldest, expected.sent_at);
        break;  // sent in order: the first is the oldest
      }
    }
  }
  if (oldest == Clock::time_point::max()) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      oldest + absl::ToChronoMilliseconds(options_.read_timeout) - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, INT_MAX));
}

void PipelinedReader::FailUnansweredConnections() {
  if (options_.read_timeout == absl::InfiniteDuration()) return;
  const Clock::time_point now = Clock::now();
  const auto timeout = absl::ToChronoMilliseconds(options_.read_timeout);
  for (auto& connection : connections_) {
    auto oldest = std::find_if(
        connection->expected.begin(), connection->expected.end(),
        [](const Connection::Expected& e) { return e.kind == Connection::Expected::kExecute; });
    if (oldest != connection->expected.end() && oldest->sent_at + timeout <= now) {
      Fail(*connection, Unavailable(absl::StrCat("no answer within ",
                                                 absl::FormatDuration(options_.read_timeout))));
    }
  }
}

void PipelinedReader::Dispatch(std::deque<Request> requests) {
  if (!requests.empty()) ReplaceLostConnections();
  for (Request& request : requests) {
    Connection* connection = PickConnection();
    if (connection == nullptr) {
      Answer(request.done, Unavailable("no connection"));
    } else {
      Send(*connection, std::move(request));
    }
  }
  for (auto& connection : connections_) {
    if (connection->pg == nullptr) continue;
    Flush(*connection);
    // A send may have read answers into libpq's buffer (it reads while the socket is full), and
    // the socket will not report them again.
    if (connection->pg != nullptr) ProcessResults(*connection);
  }
}

// Once per batch of reads: each lost connection whose pause is over gets one attempt.
void PipelinedReader::ReplaceLostConnections() {
  const Clock::time_point now = Clock::now();
  for (auto& connection : connections_) {
    if (connection->pg == nullptr && connection->retry_at <= now) Connect(*connection);
  }
}

// The live connection with the least outstanding.
PipelinedReader::Connection* PipelinedReader::PickConnection() {
  Connection* best = nullptr;
  for (auto& connection : connections_) {
    if (connection->pg == nullptr) continue;
    if (best == nullptr || connection->expected.size() < best->expected.size()) {
      best = connection.get();
    }
  }
  return best;
}

// Blocks the reader's thread (and any other live connection) for at most the conninfo's
// connect_timeout; a reachable server answers in milliseconds. A non-blocking connect
// (PQconnectPoll) would spare the live connections while the database is unreachable.
bool PipelinedReader::Connect(Connection& connection) {
  const Clock::time_point started = Clock::now();
  connection.retry_at = started + absl::ToChronoMilliseconds(options_.reconnect_pause);
  PGconn* pg = PQconnectdb(conninfo_.c_str());
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = static_cast<uint64_t>(connection.index);
  if (PQstatus(pg) != CONNECTION_OK || PQsetnonblocking(pg, 1) != 0 ||
      PQenterPipelineMode(pg) != 1 ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, PQsocket(pg), &event) != 0) {
    Log(LogLevel::kWarning, "pipelined reader: cannot connect",
        {{"connection", connection.index}, {"error", PQerrorMessage(pg)}, {"errno", errno}});
    PQfinish(pg);
    return false;
  }
  PQsetNoticeProcessor(pg, LogNotice, nullptr);
  connection.pg = pg;
  connection.prepared.clear();
  connection.want_write = false;
  return true;
}

void PipelinedReader::Send(Connection& connection, Request request) {
  const int count = static_cast<int>(request.params.size());
  std::vector<const char*> values;
  values.reserve(request.params.size());
  for (const std::string& param : request.params) values.push_back(param.c_str());
  const bool prepare = connection.prepared.count(request.name) == 0;
  if ((prepare && PQsendPrepare(connection.pg, request.name.c_str(), request.sql.c_str(), count,
                                nullptr) != 1) ||
      PQsendQueryPrepared(connection.pg, request.name.c_str(), count, values.data(), nullptr,
                          nullptr, 0) != 1 ||
      PQpipelineSync(connection.pg) != 1) {
    // libpq could not queue the messages: the connection is gone. What was queued before
    // fails with it; this read fails on its own (its messages may be half queued).
    Fail(connection, Unavailable("connection lost"));
    Answer(request.done, Unavailable("connection lost"));
    return;
  }
  using Expected = Connection::Expected;
  if (prepare) {
    connection.prepared.insert(request.name);
    connection.expected.push_back({Expected::kPrepare, request.name});
  }
  connection.expected.push_back(
      {Expected::kExecute, request.name, std::move(request.done), Clock::now()});
  connection.expected.push_back({Expected::kSync});
}

void PipelinedReader::Flush(Connection& connection) {
  int left = PQflush(connection.pg);
  if (left < 0) {
    Fail(connection, Unavailable("connection lost"));
  } else {
    SetWriteInterest(connection, left == 1);  // 1: the socket is full, more to send
  }
}

void PipelinedReader::SetWriteInterest(Connection& connection, bool want_write) {
  if (connection.want_write == want_write) return;
  connection.want_write = want_write;
  epoll_event event{};
  event.events = EPOLLIN | (want_write ? EPOLLOUT : 0);
  event.data.u64 = static_cast<uint64_t>(connection.index);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, PQsocket(connection.pg), &event);
}

void PipelinedReader::Receive(Connection& connection) {
  if (PQconsumeInput(connection.pg) != 1) {
    Fail(connection, Unavailable("connection lost"));
    return;
  }
  ProcessResults(connection);
}

void PipelinedReader::ProcessResults(Connection& connection) {
  using Expected = Connection::Expected;
  while (!connection.expected.empty()) {
    // On a lost connection libpq stops being busy and makes up an error with no SQLSTATE;
    // that is UNAVAILABLE, not the read's own failure.
    if (PQstatus(connection.pg) == CONNECTION_BAD) {
      Fail(connection, Unavailable("connection lost"));
      return;
    }
    if (PQisBusy(connection.pg) != 0) break;
    PGresult* result = PQgetResult(connection.pg);
    Expected& front = connection.expected.front();
    if (front.kind == Expected::kSync) {
      // The segment's end: PGRES_PIPELINE_SYNC, with no NULL after it.
      const bool in_step = result != nullptr && PQresultStatus(result) == PGRES_PIPELINE_SYNC;
      if (result != nullptr) PQclear(result);
      connection.expected.pop_front();
      connection.segment_error = absl::OkStatus();
      if (!in_step) {
        Fail(connection, Unavailable("out of step with the server"));
        return;
      }
      continue;
    }
    if (result != nullptr) {  // the answer; a NULL follows it
      if (front.result == nullptr) {
        front.result = result;
      } else {
        PQclear(result);
      }
      continue;
    }
    Expected done = std::move(front);
    connection.expected.pop_front();
    std::shared_ptr<const pg_result> owned(done.result, [](const pg_result* r) {
      if (r != nullptr) PQclear(const_cast<pg_result*>(r));
    });
    const ExecStatusType status =
        done.result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(done.result);
    if (done.kind == Expected::kPrepare) {
      if (status != PGRES_COMMAND_OK) {
        absl::Status why =
            done.result == nullptr ? Unavailable("no answer") : StatusOfResult(done.result);
        connection.prepared.erase(done.name);
        connection.segment_error = why;
        // Reads of it already sent behind this one count on the prepare (the server answers them
        // "prepared statement does not exist"): they get its error instead.
        for (Expected& later : connection.expected) {
          if (later.kind == Expected::kPrepare && later.name == done.name) break;
          if (later.kind == Expected::kExecute && later.name == done.name) {
            later.prepare_error = why;
          }
        }
      }
      continue;
    }
    if (status == PGRES_TUPLES_OK) {
      Answer(done.done, ReadRows(std::move(owned)));
    } else if (status == PGRES_PIPELINE_ABORTED && !connection.segment_error.ok()) {
      Answer(done.done, connection.segment_error);
    } else if (done.result == nullptr) {
      Answer(done.done, Unavailable("no answer"));
    } else if (SqlStateOf(done.result) == kUndefinedStatement && !done.prepare_error.ok()) {
      Answer(done.done, done.prepare_error);
    } else {
      Answer(done.done, StatusOfResult(done.result));
    }
  }
}

void PipelinedReader::Fail(Connection& connection, const absl::Status& status, bool expected) {
  if (connection.pg == nullptr) return;
  const int owed = static_cast<int>(std::count_if(
      connection.expected.begin(), connection.expected.end(),
      [](const Connection::Expected& e) { return e.kind == Connection::Expected::kExecute; }));
  Log(expected && owed == 0 ? LogLevel::kInfo : LogLevel::kWarning,
      "pipelined reader: connection closed",
      {{"connection", connection.index},
       {"reads_failed", owed},
       {"reason", std::string(status.message())},
       {"error", PQerrorMessage(connection.pg)}});
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, PQsocket(connection.pg), nullptr);
  PQfinish(connection.pg);
  connection.pg = nullptr;
  connection.prepared.clear();
  connection.segment_error = absl::OkStatus();
  connection.retry_at = Clock::now() + absl::ToChronoMilliseconds(options_.reconnect_pause);
  std::deque<Connection::Expected> owed_reads;
  owed_reads.swap(connection.expected);
  for (Connection::Expected& expected : owed_reads) {
    if (expected.result != nullptr) PQclear(expected.result);
    if (expected.kind == Connection::Expected::kExecute) Answer(expected.done, status);
  }
}

// Every read Read accepted ends here, once. A callback that throws must not end the reader's
// thread (and with it every later read).
void PipelinedReader::Answer(Done& done, absl::StatusOr<ReadRows> outcome) {
  --outstanding_;
  try {
    done(std::move(outcome));
  } catch (const std::exception& error) {
    Log(LogLevel::kError, "pipelined reader: a read's callback threw", {{"error", error.what()}});
  } catch (...) {
    Log(LogLevel::kError, "pipelined reader: a read's callback threw", {});
  }
}

}  // namespace cf::db
