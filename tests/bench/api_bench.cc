// API benchmark: the read path and the gateway hop, measured in one run so the figures share a
// machine state. An async gRPC client (callback API, raw bytes through a generic stub) keeps a
// fixed number of calls in flight against, in turn:
//   - a bare echo server (the server runtime alone: no database, no executor);
//   - GetDossier direct to the catalog binary;
//   - GetDossier through the gateway binary;
//   - and `pgbench -S -M prepared` at the same concurrency, on the same PostgreSQL.
// Rounds rotate the order so drift and warm-up favour none. Prints throughput and p50/p99 per
// leg, medians over the rounds, and the ratios the targets are stated in. Run with tools/bench.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cf/catalog/v1/catalog.pb.h"
#include "cf/testing/v1/echo.pb.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"

namespace cf {
namespace {

constexpr int kConcurrency = 16;
constexpr int kChannels = 4;  // HTTP/2 connections the client spreads its calls over
constexpr int kRounds = 3;
constexpr int kSeconds = 5;

struct Figures {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int errors = 0;
  // CPU time per call in microseconds, by process ("client" is this program; "rest" is the
  // machine's remaining busy time: PostgreSQL, mostly).
  std::map<std::string, double> cpu_us;
};

// The processes whose CPU time a leg accounts for, by name.
using Processes = std::vector<std::pair<std::string, pid_t>>;

double ClockTicks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

// User plus system CPU seconds of one process, threads included.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t after_name = stat.rfind(')');  // the name may hold spaces
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / ClockTicks();
}

// Busy CPU seconds of the whole machine (every core).
double MachineBusySeconds() {
  std::ifstream file("/proc/stat");
  std::string cpu;
  double user, nice, system, idle, iowait, irq, softirq, steal;
  file >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) / ClockTicks();
}

std::map<std::string, double> CpuSample(const Processes& processes) {
  std::map<std::string, double> sample = {{"client", ProcessCpuSeconds(getpid())},
                                          {"machine", MachineBusySeconds()}};
  for (const auto& [name, pid] : processes) sample[name] = ProcessCpuSeconds(pid);
  return sample;
}

std::map<std::string, double> CpuPerCall(const std::map<std::string, double>& before,
                                         const std::map<std::string, double>& after, double calls) {
  std::map<std::string, double> per_call;
  double rest = after.at("machine") - before.at("machine");
  for (const auto& [name, seconds] : after) {
    if (name == "machine") continue;
    double used = seconds - before.at(name);
    rest -= used;
    per_call[name] = calls > 0 ? 1e6 * used / calls : 0;
  }
  per_call["rest"] = calls > 0 ? 1e6 * std::max(rest, 0.0) / calls : 0;
  return per_call;
}

double Percentile(std::vector<double>* sorted, double p) {
  if (sorted->empty()) return 0;
  return (*sorted)[std::min(sorted->size() - 1, static_cast<size_t>(p * sorted->size()))];
}

// Keeps kConcurrency calls of `method` in flight for `seconds` (after a one-second warm-up), and
// accounts the CPU time `processes` (and the machine) spent in that window.
Figures Load(const std::string& address, const std::string& method, const std::string& request,
             int seconds, const Processes& processes) {
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("cf.bench.connection", i);  // distinct arguments: a connection of its own
    stubs.push_back(std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
  }
  using Clock = std::chrono::steady_clock;
  const auto warm = Clock::now() + std::chrono::seconds(1);
  const auto end = warm + std::chrono::seconds(seconds);
  std::mutex mutex;
  std::condition_variable done;
  int running = kConcurrency;
  std::vector<double> latencies;
  int errors = 0;
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request, response;
    Clock::time_point start;
  };
  std::function<void(int)> issue = [&](int slot) {
    auto* call = new Call;
    grpc::Slice slice(request);
    call->request = grpc::ByteBuffer(&slice, 1);
    call->start = Clock::now();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stubs[slot % kChannels]->UnaryCall(
        &call->context, method, grpc::StubOptions(), &call->request, &call->response,
        [&, call, slot](grpc::Status status) {
          auto now = Clock::now();
          if (call->start >= warm && now <= end) {
            std::lock_guard<std::mutex> lock(mutex);
            latencies.push_back(
                std::chrono::duration<double, std::milli>(now - call->start).count());
            errors += status.ok() ? 0 : 1;
          }
          delete call;
          if (now < end) {
            issue(slot);
          } else {
            std::lock_guard<std::mutex> lock(mutex);
            if (--running == 0) done.notify_all();
          }
        });
  };
  for (int slot = 0; slot < kConcurrency; ++slot) issue(slot);
  // The measuring window is a span of time, not a wait for an event: sleeping to its edges is
  // what it means.
  std::this_thread::sleep_until(warm);
  const auto cpu_before = CpuSample(processes);
  std::this_thread::sleep_until(end);
  const auto cpu_after = CpuSample(processes);
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return running == 0; });
  std::sort(latencies.begin(), latencies.end());
  Figures figures;
  figures.rps = latencies.size() / static_cast<double>(seconds);
  figures.p50_ms = Percentile(&latencies, 0.50);
  figures.p99_ms = Percentile(&latencies, 0.99);
  figures.errors = errors;
  figures.cpu_us = CpuPerCall(cpu_before, cpu_after, static_cast<double>(latencies.size()));
  return figures;
}

// pgbench's select-only load with prepared statements, as many clients as gRPC calls in flight.
Figures Pgbench(const std::string& conninfo, int seconds) {
  std::string out = testing::CommandOutput(
      absl::StrCat(testing::kPostgresBin, "/pgbench -S -M prepared -n -c ", kConcurrency,
                   " -j 2 -T ", seconds, " '", conninfo, "' 2>&1"));
  Figures figures;
  std::smatch match;
  if (std::regex_search(out, match, std::regex(R"(tps = ([0-9.]+))"))) {
    figures.rps = std::stod(match[1]);
  }
  if (std::regex_search(out, match, std::regex(R"(latency average = ([0-9.]+) ms)"))) {
    figures.p50_ms = std::stod(match[1]);  // pgbench reports the mean, not percentiles
  }
  if (figures.rps == 0) std::fprintf(stderr, "pgbench said:\n%s\n", out.c_str());
  return figures;
}

int Main() {
  testing::TestDatabase database;
  std::string dossier_id;
  {
    pqxx::connection connection(database.OwnerConninfo());
    pqxx::work txn(connection);
    dossier_id = txn.exec(
                        "INSERT INTO cf_product_dossiers (slug, name, benefits, category, price) "
                        "VALUES ('bench', 'Bench Serum', ARRAY['Glow', 'Calm'], 'beauty', 19.99) "
                        "RETURNING id")[0][0]
                     .as<std::string>();
    txn.commit();
  }
  // pgbench's own tables, in a database of their own on the same server.
  testing::TestDatabase pgbench_db(/*migrated=*/false);
  testing::CommandOutput(absl::StrCat(testing::kPostgresBin, "/pgbench -i -q -s 10 '",
                                      pgbench_db.OwnerConninfo(), "' >/dev/null 2>&1"));

  const std::string echo = "127.0.0.1:" + std::to_string(testing::FreePort());
  const std::string catalog = "127.0.0.1:" + std::to_string(testing::FreePort());
  const std::string gateway = "127.0.0.1:" + std::to_string(testing::FreePort());
  testing::Subprocess echo_server({testing::RunfilePath("tests/bench/echo_server")},
                                  {{"CF_LISTEN", echo}},
                                  testing::TestTempPath("cf-api-bench-echo.log"));
  testing::Subprocess catalog_server(
      {testing::RunfilePath("services/catalog/catalog_server")},
      {{"CF_LISTEN", catalog}, {"CF_DATABASE_URL", database.RoleConninfo("cf_catalog")}},
      testing::TestTempPath("cf-api-bench-catalog.log"));
  testing::Subprocess gateway_server({testing::RunfilePath("services/gateway/gateway_server")},
                                     {{"CF_LISTEN", gateway}, {"CF_CATALOG_ADDR", catalog}},
                                     testing::TestTempPath("cf-api-bench-gateway.log"));
  for (const std::string& address : {echo, catalog, gateway}) {
    if (!testing::WaitForServing(address, std::chrono::seconds(30))) {
      std::fprintf(stderr, "%s never served\n", address.c_str());
      return 1;
    }
  }
  testing::v1::EchoRequest echo_request;
  echo_request.set_message("ping");
  catalog::v1::GetDossierRequest get;
  get.set_id(dossier_id);
  const std::string get_method = "/cf.catalog.v1.CatalogService/GetDossier";

  const std::vector<std::string> legs = {"echo", "catalog", "gateway", "pgbench"};
  std::map<std::string, std::vector<Figures>> results;
  std::printf("API benchmark: %d calls in flight over %d connections, %d s per leg, %d rounds\n",
              kConcurrency, kChannels, kSeconds, kRounds);
  std::printf("%-6s %-22s %10s %9s %9s %7s\n", "round", "leg", "calls/s", "p50 ms", "p99 ms",
              "errors");
  for (int round = 1; round <= kRounds; ++round) {
    for (size_t i = 0; i < legs.size(); ++i) {
      const std::string& leg = legs[(i + round) % legs.size()];
      Figures f;
      if (leg == "echo")
        f = Load(echo, "/cf.testing.v1.EchoService/Echo", echo_request.SerializeAsString(),
                 kSeconds, {{"echo", echo_server.pid()}});
      if (leg == "catalog")
        f = Load(catalog, get_method, get.SerializeAsString(), kSeconds,
                 {{"catalog", catalog_server.pid()}});
      if (leg == "gateway")
        f = Load(gateway, get_method, get.SerializeAsString(), kSeconds,
                 {{"catalog", catalog_server.pid()}, {"gateway", gateway_server.pid()}});
      if (leg == "pgbench") f = Pgbench(pgbench_db.OwnerConninfo(), kSeconds);
      results[leg].push_back(f);
      std::printf("%-6d %-22s %10.0f %9.2f %9.2f %7d\n", round,
                  leg == "pgbench"   ? "pgbench -S (mean ms)"
                  : leg == "echo"    ? "echo"
                  : leg == "catalog" ? "GetDossier direct"
                                     : "GetDossier via gateway",
                  f.rps, f.p50_ms, f.p99_ms, f.errors);
      std::fflush(stdout);
    }
  }
  auto median = [&](const std::string& leg, double Figures::*field) {
    std::vector<double> values;
    for (const Figures& f : results[leg]) values.push_back(f.*field);
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  std::printf("\nmedians:\n");
  for (const std::string& leg : legs) {
    std::printf("  %-8s %10.0f calls/s  p50 %.2f ms  p99 %.2f ms\n", leg.c_str(),
                median(leg, &Figures::rps), median(leg, &Figures::p50_ms),
                median(leg, &Figures::p99_ms));
  }
  std::printf(
      "\nCPU microseconds per call (medians; rest = the machine's other busy time, "
      "PostgreSQL mostly):\n");
  for (const std::string& leg : {"echo", "catalog", "gateway"}) {
    std::map<std::string, std::vector<double>> by_process;
    for (const Figures& f : results[leg]) {
      for (const auto& [name, us] : f.cpu_us) by_process[name].push_back(us);
    }
    std::string line;
    double total = 0;
    for (auto& [name, values] : by_process) {
      std::sort(values.begin(), values.end());
      double us = values[values.size() / 2];
      total += us;
      absl::StrAppend(&line, "  ", name, " ", static_cast<int>(us + 0.5));
    }
    std::printf("  %-8s total %4d:%s\n", leg.c_str(), static_cast<int>(total + 0.5), line.c_str());
  }
  std::printf("\n");
  double direct = median("catalog", &Figures::rps), via = median("gateway", &Figures::rps);
  std::printf("catalog GetDossier / pgbench -S = %.0f%% (target: at least 25%%)\n",
              100 * direct / median("pgbench", &Figures::rps));
  std::printf("gateway / direct throughput    = %.0f%% (target: at least 80%%)\n",
              100 * via / direct);
  std::printf("gateway / direct p50           = %.2fx (target: at most 1.3x)\n",
              median("gateway", &Figures::p50_ms) / median("catalog", &Figures::p50_ms));
  std::printf("catalog / echo throughput      = %.0f%%\n",
              100 * direct / median("echo", &Figures::rps));
  return 0;
}

}  // namespace
}  // namespace cf

int main() { return cf::Main(); }
