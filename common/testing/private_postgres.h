// Test fixture: a PostgreSQL server of the test's own, migrated, that the test may stop and
// start (database outages). The shared server that tools/test starts must never be stopped:
// other tests use it at the same time. Costs an initdb (a few seconds).
#ifndef CF_COMMON_TESTING_PRIVATE_POSTGRES_H_
#define CF_COMMON_TESTING_PRIVATE_POSTGRES_H_

#include <string>

namespace cf::testing {

// Runs `command` (through the shell), as the postgres user when this process is root
// (PostgreSQL refuses to run as root): whether it succeeded.
bool RunAsPostgresUser(const std::string& command);

class PrivatePostgres {
 public:
  PrivatePostgres();   // initdb, start, create database "cf" and apply the migrations
  ~PrivatePostgres();  // stop and remove
  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;

  void Stop();   // fast shutdown: every connection is cut
  void Start();  // the same data, the same port

  // Over TCP on loopback, so keepalives and timeouts are those a real deployment has.
  std::string OwnerConninfo() const;
  std::string RoleConninfo(const std::string& role) const;

 private:
  // RunAsPostgresUser, dying on failure.
  void Run(const std::string& command);
  std::string dir_;
  int port_ = 0;
};

}  // namespace cf::testing

#endif  // CF_COMMON_TESTING_PRIVATE_POSTGRES_H_
