#include "common/db/pipelined_reader.h"

#include <postgresql/libpq-fe.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

// One connection and, in order, what the server owes it: each read is sent as its own pipeline
// segment (prepare when new, execute, sync), so an error fails that read alone.
struct PipelinedReader::Connection {
  struct Expected {
    enum Kind { kPrepare, kExecute, kSync } kind;
    std::string name;            // kPrepare: the statement
    Done done;                   // kExecute: the caller
    PGresult* result = nullptr;  // the answer so far (a NULL from libpq ends it)
  };

  int index = 0;
  PGconn* pg = nullptr;
  std::set<std::string> prepared;
  std::deque<Expected> expected;
  absl::Status segment_error;  // a failed prepare, for the execute it aborted
  bool want_write = false;
  absl::Time retry_at = absl::InfinitePast();
};

namespace {

// epoll data for the wake fd; connections use their index.
constexpr uint64_t kWakeTag = ~uint64_t{0};

absl::Status Unavailable(const std::string& why) {
  return absl::UnavailableError(
      absl::StrCat("the database is unavailable; retry later (", why, ")"));
}

absl::Status StatusOfResult(const PGresult* result) {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return StatusFromServerError(sqlstate == nullptr ? "" : sqlstate, PQresultErrorMessage(result),
                               /*connection_lost=*/false);
}

}  // namespace

PipelinedReader::PipelinedReader(std::string conninfo, Options options)
    : conninfo_(std::move(conninfo)), options_(options) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
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
  bool was_empty;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= static_cast<size_t>(options_.max_queued)) {
      const bool stopping = stopping_;
      lock.unlock();
      done(Unavailable(stopping ? "shutting down" : "too many reads queued"));
      return;
    }
    was_empty = queue_.empty();
    queue_.push_back({name, sql, std::move(params), std::move(done)});
  }
  // The reader swaps the whole queue out after each wake-up, so only the first read into an
  // empty queue needs to wake it.
  if (was_empty) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
}

void PipelinedReader::Run() {
  epoll_event events[16];
  for (;;) {
    int ready = epoll_wait(epoll_fd_, events, 16, -1);
    if (ready < 0 && errno != EINTR) {
      Log(LogLevel::kError, "pipelined reader: epoll_wait failed", {{"errno", errno}});
    }
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        continue;
      }
      Connection& connection = *connections_[events[i].data.u64];
      if (connection.pg == nullptr) continue;  // failed earlier in this round
      if ((events[i].events & EPOLLOUT) != 0) Flush(connection);
      if (connection.pg != nullptr && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        Drain(connection);
      }
    }
    std::deque<Request> requests;
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests.swap(queue_);
      stopping = stopping_;
    }
    if (stopping) {
      for (Request& request : requests) request.done(Unavailable("shutting down"));
      for (auto& connection : connections_) Fail(*connection, Unavailable("shutting down"));
      return;
    }
    Dispatch(std::move(requests));
  }
}

void PipelinedReader::Dispatch(std::deque<Request> requests) {
  for (Request& request : requests) {
    Connection* connection = PickConnection();
    if (connection == nullptr) {
      request.done(Unavailable("no connection"));
    } else {
      Send(*connection, std::move(request));
    }
  }
  for (auto& connection : connections_) {
    if (connection->pg != nullptr) Flush(*connection);
  }
}

// The live connection with the least outstanding; when none is live, one that may try again.
PipelinedReader::Connection* PipelinedReader::PickConnection() {
  Connection* best = nullptr;
  for (auto& connection : connections_) {
    if (connection->pg == nullptr) continue;
    if (best == nullptr || connection->expected.size() < best->expected.size()) {
      best = connection.get();
    }
  }
  if (best != nullptr) return best;
  const absl::Time now = absl::Now();
  for (auto& connection : connections_) {
    if (connection->retry_at <= now && Connect(*connection)) return connection.get();
  }
  return nullptr;
}

bool PipelinedReader::Connect(Connection& connection) {
  PGconn* pg = PQconnectdb(conninfo_.c_str());
  if (PQstatus(pg) != CONNECTION_OK || PQsetnonblocking(pg, 1) != 0 ||
      PQenterPipelineMode(pg) != 1) {
    Log(LogLevel::kWarning, "pipelined reader: cannot connect",
        {{"connection", connection.index}, {"error", PQerrorMessage(pg)}});
    PQfinish(pg);
    connection.retry_at = absl::Now() + options_.reconnect_pause;
    return false;
  }
  connection.pg = pg;
  connection.prepared.clear();
  connection.want_write = false;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = static_cast<uint64_t>(connection.index);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, PQsocket(pg), &event);
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
    request.done(Unavailable("connection lost"));
    return;
  }
  using Expected = Connection::Expected;
  if (prepare) {
    connection.prepared.insert(request.name);
    connection.expected.push_back({Expected::kPrepare, request.name, nullptr});
  }
  connection.expected.push_back({Expected::kExecute, "", std::move(request.done)});
  connection.expected.push_back({Expected::kSync, "", nullptr});
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

void PipelinedReader::Drain(Connection& connection) {
  using Expected = Connection::Expected;
  if (PQconsumeInput(connection.pg) != 1) {
    Fail(connection, Unavailable("connection lost"));
    return;
  }
  while (!connection.expected.empty() && PQisBusy(connection.pg) == 0) {
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
        connection.prepared.erase(done.name);
        connection.segment_error =
            done.result == nullptr ? Unavailable("no answer") : StatusOfResult(done.result);
      }
      continue;
    }
    if (status == PGRES_TUPLES_OK) {
      done.done(ReadRows(std::move(owned)));
    } else if (status == PGRES_PIPELINE_ABORTED && !connection.segment_error.ok()) {
      done.done(connection.segment_error);
    } else if (done.result == nullptr) {
      done.done(Unavailable("no answer"));
    } else {
      done.done(StatusOfResult(done.result));
    }
  }
  if (PQstatus(connection.pg) == CONNECTION_BAD) Fail(connection, Unavailable("connection lost"));
}

void PipelinedReader::Fail(Connection& connection, const absl::Status& status) {
  if (connection.pg == nullptr) return;
  Log(LogLevel::kWarning, "pipelined reader: connection closed",
      {{"connection", connection.index},
       {"reads_failed", static_cast<int>(std::count_if(
                            connection.expected.begin(), connection.expected.end(),
                            [](const Connection::Expected& e) { return e.done != nullptr; }))},
       {"reason", std::string(status.message())},
       {"error", PQerrorMessage(connection.pg)}});
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, PQsocket(connection.pg), nullptr);
  PQfinish(connection.pg);
  connection.pg = nullptr;
  connection.prepared.clear();
  connection.segment_error = absl::OkStatus();
  connection.retry_at = absl::Now() + options_.reconnect_pause;
  std::deque<Connection::Expected> owed;
  owed.swap(connection.expected);
  for (Connection::Expected& expected : owed) {
    if (expected.result != nullptr) PQclear(expected.result);
    if (expected.kind == Connection::Expected::kExecute) expected.done(status);
  }
}

}  // namespace cf::db
