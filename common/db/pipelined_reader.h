// Single-statement reads without a thread per call. One thread sends every read over a few
// connections in libpq's pipeline mode and hands each result to a callback, so replies that
// arrive together cost one wake-up, the way pgbench drives its clients. A blocking read on an
// executor thread costs a switch to that thread, a sleep and a wake-up per call; on two cores
// that was most of GetDossier's CPU (README, "The read path").
//
// For hot reads answered straight from a gRPC reactor. Anything that needs a transaction or
// more than one statement stays on ConnectionPool.
#ifndef CF_COMMON_DB_PIPELINED_READER_H_
#define CF_COMMON_DB_PIPELINED_READER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct pg_result;  // libpq's PGresult

namespace cf::db {

// The rows a read returned. Cheap to copy: copies share the result.
class ReadRows {
 public:
  int size() const;
  bool empty() const { return size() == 0; }
  bool IsNull(int row, int column) const;
  // The value's text form ("" for NULL).
  const char* Text(int row, int column) const;

 private:
  friend class PipelinedReader;
  explicit ReadRows(std::shared_ptr<const pg_result> result) : result_(std::move(result)) {}
  std::shared_ptr<const pg_result> result_;
};

class PipelinedReader {
 public:
  struct Options {
    int connections = 1;  // one drains a 2-core machine (api_bench: 1, 2, 4 tried)
    // Reads queued or awaiting their answer; more are refused UNAVAILABLE at once.
    int max_outstanding = 10000;
    // Between attempts to replace a lost connection (made when a read needs it).
    absl::Duration reconnect_pause = absl::Milliseconds(250);
    // A read unanswered this long fails its connection, and what it owed, UNAVAILABLE. The
    // server's statement_timeout bounds a slow statement; this bounds a network that drops
    // packets silently (keepalives stay quiet while sent data is unacknowledged). 35 s: the
    // default statement_timeout (30 s) and a margin. InfiniteDuration: no limit.
    absl::Duration read_timeout = absl::Seconds(35);
  };
  using Done = std::function<void(absl::StatusOr<ReadRows>)>;

  // `conninfo` should carry the connection limits (WithLimits): a connect blocks the reader's
  // thread for at most its connect_timeout, and statement_timeout bounds every read.
  PipelinedReader(std::string conninfo, Options options);
  PipelinedReader(const PipelinedReader&) = delete;
  PipelinedReader& operator=(const PipelinedReader&) = delete;
  // Reads still queued or in flight end UNAVAILABLE; then the thread is joined. Not from a
  // read's callback (that runs on the thread being joined).
  ~PipelinedReader();

  // Runs `sql`, prepared once per connection under `name` (the same name must always mean the
  // same SQL), with text parameters. `done` runs exactly once: on the reader's thread, where it
  // must not block, or at once on the caller's thread when the read is refused
  // (max_outstanding reached, shutting down). Errors map as StatusFromServerError maps them; a
  // database that cannot be reached, or a connection lost before the answer, is UNAVAILABLE (a read
  // is safe to retry). A call's deadline is not passed in: a read waits at most read_timeout.
  void Read(const std::string& name, const std::string& sql, std::vector<std::string> params,
            Done done);

 private:
  struct Request;
  struct Connection;
  void Run();
  int MillisecondsToNextTimeout() const;
  void FailUnansweredConnections();
  void Dispatch(std::deque<Request> requests);
  void ReplaceLostConnections();
  Connection* PickConnection();
  bool Connect(Connection& connection);
  void Send(Connection& connection, Request request);
  void Flush(Connection& connection);
  void Receive(Connection& connection);
  void ProcessResults(Connection& connection);
  // Closes the connection and answers what it owed with `status`; `expected` (shutdown) logs
  // quietly.
  void Fail(Connection& connection, const absl::Status& status, bool expected = false);
  void SetWriteInterest(Connection& connection, bool want_write);
  void Answer(Done& done, absl::StatusOr<ReadRows> outcome);

  const std::string conninfo_;
  const Options options_;
  int wake_fd_ = -1;   // eventfd: a read was queued, or shutdown began
  int epoll_fd_ = -1;  // the wake fd and every live connection's socket
  std::vector<std::unique_ptr<Connection>> connections_;
  std::atomic<int> outstanding_{0};  // reads accepted and not yet answered
  std::mutex mutex_;
  std::deque<Request> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::thread thread_;
};

}  // namespace cf::db

#endif  // CF_COMMON_DB_PIPELINED_READER_H_
