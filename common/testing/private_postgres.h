// Test fixture: a PostgreSQL server of the test's own, migrated, that the test may stop and
// start (database outages). The shared server that tools/test starts must never be stopped:
// other tests use it at the same time. Costs an initdb (a few seconds).
#ifndef CF_COMMON_TESTING_PRIVATE_POSTGRES_H_
#define CF_COMMON_TESTING_PRIVATE_POSTGRES_H_

#include <string>

namespace cf::testing {

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
  // Runs `command` as the postgres user when root: whether it succeeded, or dies on failure.
  static bool Command(const std::string& command);
  void Run(const std::string& command);
  std::string dir_;
  int port_ = 0;
};

}  // namespace cf::testing

#endif  // CF_COMMON_TESTING_PRIVATE_POSTGRES_H_
