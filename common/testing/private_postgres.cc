#include "common/testing/private_postgres.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/db/migrator.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"

namespace cf::testing {
namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "private postgres fixture: %s\n", message.c_str());
  std::abort();
}

}  // namespace

bool RunAsPostgresUser(const std::string& command) {
  std::string full =
      getuid() == 0 ? absl::StrCat("/usr/sbin/runuser -u postgres -- ", command) : command;
  return std::system(full.c_str()) == 0;
}

void PrivatePostgres::Run(const std::string& command) {
  if (!RunAsPostgresUser(command)) Die("failed: " + command);
}

PrivatePostgres::PrivatePostgres() {
  // Under /tmp: the postgres user cannot enter the test's own folders (they live under /root).
  char pattern[] = "/tmp/cf-private-pg-XXXXXX";
  if (mkdtemp(pattern) == nullptr) Die("mkdtemp failed");
  dir_ = pattern;
  if (getuid() == 0 && std::system(absl::StrCat("chown postgres:postgres ", dir_).c_str()) != 0) {
    Die("chown failed");
  }
  port_ = FreePort();
  Run(absl::StrCat(kPostgresBin, "/initdb -D ", dir_, "/data -A trust -U postgres -E UTF8 ",
                   "--locale=C.UTF-8 >", dir_, "/initdb.log 2>&1"));
  Start();
  {
    pqxx::connection admin(
        absl::StrCat("host=127.0.0.1 port=", port_, " user=postgres dbname=postgres"));
    pqxx::nontransaction txn(admin);
    txn.exec("CREATE DATABASE cf");
  }
  auto migrations = db::LoadMigrations(MigrationsDir());
  if (!migrations.ok()) Die(std::string(migrations.status().message()));
  auto report = db::ApplyMigrations(OwnerConninfo(), *migrations);
  if (!report.ok()) Die(std::string(report.status().message()));
}

PrivatePostgres::~PrivatePostgres() {
  RunAsPostgresUser(absl::StrCat(kPostgresBin, "/pg_ctl -D ", dir_,
                                 "/data -m immediate -w stop >/dev/null 2>&1"));
  std::system(absl::StrCat("rm -rf ", dir_).c_str());
}

void PrivatePostgres::Stop() {
  Run(absl::StrCat(kPostgresBin, "/pg_ctl -D ", dir_, "/data -m fast -w stop >/dev/null"));
}

void PrivatePostgres::Start() {
  Run(absl::StrCat(kPostgresBin, "/pg_ctl -D ", dir_, "/data -l ", dir_, "/postgres.log -w -t 60 ",
                   "-o \"-p ", port_, " -k ", dir_, " -c listen_addresses=127.0.0.1 ",
                   "-c fsync=off -c max_connections=100\" start >/dev/null"));
}

std::string PrivatePostgres::OwnerConninfo() const { return RoleConninfo("postgres"); }

std::string PrivatePostgres::RoleConninfo(const std::string& role) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=", role, " dbname=cf");
}

}  // namespace cf::testing
