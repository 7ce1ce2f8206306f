// Connection settings that make a database that hangs look like one that is down: a connect
// timeout, TCP keepalives (a silent peer is noticed within about 25 s) and a statement timeout;
// and one that keeps a client that hangs from holding locks: an idle-in-transaction timeout.
#ifndef CF_COMMON_DB_CONNINFO_H_
#define CF_COMMON_DB_CONNINFO_H_

#include <string>

#include "absl/time/time.h"

namespace cf::db {

struct ConnectionLimits {
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration statement_timeout = absl::Seconds(30);
  // A client that stops mid-transaction (frozen, paused, partitioned) loses its session after
  // this, so the rows it locked (a job's lease among them) are free again for rescue.
  absl::Duration idle_in_transaction_timeout = absl::Seconds(10);
  absl::Duration keepalive_idle = absl::Seconds(10);
  absl::Duration keepalive_interval = absl::Seconds(5);
  int keepalive_count = 3;
};

// `conninfo` (key=value or a postgres:// URI) with the limits added for every key it does not
// set itself: what an operator wrote in the URL wins.
std::string WithLimits(const std::string& conninfo, const ConnectionLimits& limits);

// `conninfo` with application_name set, unless it sets one itself: what pg_stat_activity
// shows for the connection, so an operator can tell a service's connections apart.
std::string WithApplicationName(const std::string& conninfo, const std::string& name);

}  // namespace cf::db

#endif  // CF_COMMON_DB_CONNINFO_H_
