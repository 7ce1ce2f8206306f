// Crash test: while a few hundred jobs run, the generation process is killed with SIGKILL at
// least 50 times, each time while its jobs are generating, and restarted. Every tenth round the
// worker is instead frozen (SIGSTOP) past its lease while a second worker takes its jobs over,
// then thawed, so stale completions really are attempted; every other freeze, the frozen jobs
// are also failed and retried (Retry resets attempts: the fencing token must not repeat).
// Afterwards every job is completed or failed (most completed), none is stuck, none exceeded
// its attempts, every completed row's file is on disk at the recorded size, and the per-attempt
// log kept outside the database shows that no completion was accepted from a worker that had
// lost its lease.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/db/pool.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/generation/job_store.h"

namespace cf {
namespace {

constexpr int kDossiers = 6;
constexpr int kImagesPerDossier = 40;  // 240 images
constexpr int kVideos = 12;
constexpr int kKills = 50;
constexpr int kMaxAttempts = 8;

// A /proc file of a process, or "" when it is gone. Plain open/read: a process may exit
// between readdir and read, and that must read as "gone", never throw.
std::string ProcFile(const char* pid, const char* file) {
  std::string path = std::string("/proc/") + pid + "/" + file;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string cmdline;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) cmdline.append(buffer, n);
  close(fd);
  return cmdline;
}

// Whether a process is dying: a zombie, SIGKILL pending (what PR_SET_PDEATHSIG sends when the
// worker dies), or exiting (PF_EXITING in /proc/<pid>/stat's flags). On a busy machine a killed
// process may not have run since, but it can never render another frame.
bool Dying(const char* pid) {
  std::string status = ProcFile(pid, "status");
  if (status.empty()) return true;  // gone
  auto field = [&](const std::string& name) {
    size_t at = status.find("\n" + name + ":");
    if (at == std::string::npos) return std::string();
    size_t start = status.find_first_not_of(" \t", at + name.size() + 2);
    return status.substr(start, status.find('\n', start) - start);
  };
  std::string state = field("State");
  if (!state.empty() && (state[0] == 'Z' || state[0] == 'X')) return true;
  for (const char* mask : {"SigPnd", "ShdPnd"}) {
    unsigned long long bits = std::strtoull(field(mask).c_str(), nullptr, 16);
    if (bits & (1ULL << (SIGKILL - 1))) return true;
  }
  // stat: "pid (comm) state ppid pgrp session tty tpgid flags ..."; comm may hold spaces.
  std::string stat = ProcFile(pid, "stat");
  size_t after_comm = stat.rfind(')');
  if (after_comm == std::string::npos) return true;
  std::istringstream fields(stat.substr(after_comm + 2));
  std::string skip;
  unsigned long flags = 0;
  for (int i = 0; i < 6; ++i) fields >> skip;  // state .. tpgid
  fields >> flags;
  constexpr unsigned long kExiting = 0x4;  // PF_EXITING
  return (flags & kExiting) != 0;
}

// The pids of ffmpeg processes whose command line mentions `folder` and that are not dying.
std::set<std::string> LiveFfmpegs(const std::string& folder) {
  std::set<std::string> pids;
  DIR* proc = opendir("/proc");
  while (dirent* entry = proc ? readdir(proc) : nullptr) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string cmdline = ProcFile(entry->d_name, "cmdline");
    if (cmdline.rfind("/usr/bin/ffmpeg", 0) == 0 && cmdline.find(folder) != std::string::npos &&
        !Dying(entry->d_name)) {
      pids.insert(entry->d_name);
    }
  }
  if (proc) closedir(proc);
  return pids;
}

// ffmpeg processes rendering into `folder` that outlive their worker. Right after a worker was
// killed and reaped, every ffmpeg it started is dead or dying (PR_SET_PDEATHSIG is sent before
// the worker can be reaped); one seen neither within a second is an orphan. (Without
// PR_SET_PDEATHSIG, renders of a few hundred ms and more are caught here by the dozen.)
int FfmpegsWritingTo(const std::string& folder) {
  std::set<std::string> live = LiveFfmpegs(folder);
  if (live.empty()) return 0;
  testing::WaitUntil(
      [&] {
        for (auto it = live.begin(); it != live.end();) {
          it = Dying(it->c_str()) ? live.erase(it) : std::next(it);
        }
        return live.empty();
      },
      std::chrono::seconds(1));
  return static_cast<int>(live.size());
}

class CrashTest : public ::testing::Test {
 protected:
  pqxx::result Owner(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }

  int Count(const std::string& where) {
    return Owner("SELECT (SELECT count(*) FROM cf_generated_images WHERE " + where +
                 ") + (SELECT count(*) FROM cf_generated_videos WHERE " + where + ")")[0][0]
        .as<int>();
  }

  // Jobs, as the API would queue them (the snapshot is what workers read).
  void QueueJobs() {
    for (int d = 0; d < kDossiers; ++d) {
      std::string dossier =
          Owner("INSERT INTO cf_product_dossiers (slug, name) VALUES ('crash-" + std::to_string(d) +
                "', 'Crash " + std::to_string(d) + "') RETURNING id")[0][0]
              .as<std::string>();
      Owner(
          "INSERT INTO cf_generated_images (dossier_id, type, prompt, model, aspect_ratio, "
          "max_attempts, dossier_snapshot) SELECT '" +
          dossier +
          "', (ARRAY['before','after','product','lifestyle'])[1 + i % 4], 'crash prompt', "
          "'local-ffmpeg-image', '1:1', " +
          std::to_string(kMaxAttempts) + ", jsonb_build_object('name', 'Crash Product " +
          std::to_string(d) + "') FROM generate_series(1, " + std::to_string(kImagesPerDossier) +
          ") AS i");
    }
  }

  // Videos need completed source images: they are queued once a few images are done.
  // Returns how many were really queued.
  int QueueVideos() {
    return Owner(
               "INSERT INTO cf_generated_videos (dossier_id, source_image_id, type, prompt, model, "
               "duration, aspect_ratio, max_attempts, dossier_snapshot) SELECT dossier_id, id, "
               "'demo', 'crash video', 'local-ffmpeg-video', 1, '1:1', " +
               std::to_string(kMaxAttempts) +
               ", dossier_snapshot FROM cf_generated_images WHERE status = 'completed' LIMIT " +
               std::to_string(kVideos) + " RETURNING 1")
        .size();
  }

  // The images `worker` runs now, with the tokens of its leases.
  std::map<std::string, std::string> ImagesHeldBy(const std::string& worker) {
    std::map<std::string, std::string> held;
    for (const auto& row : Owner("SELECT id::text, lease_token::text FROM cf_generated_images "
                                 "WHERE job_state = 'running' AND lease_owner = '" +
                                 worker + "'")) {
      held[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    return held;
  }

  // The jobs' rows and who waits on what, for a failure message.
  std::string Describe(const std::map<std::string, std::string>& held) {
    std::string text;
    for (const auto& [id, token] : held) {
      auto row = Owner(
          "SELECT lease_token, job_state, status, COALESCE(lease_owner, '-'), "
          "COALESCE((lease_expires_at - NOW())::text, '-'), attempts "
          "FROM cf_generated_images WHERE id = '" +
          id + "'")[0];
      text += id + " held with token " + token + ": now token " + row[0].c_str() + " " +
              row[1].c_str() + "/" + row[2].c_str() + " owner " + row[3].c_str() + " lease left " +
              row[4].c_str() + " attempts " + row[5].c_str() + "\n";
    }
    for (const auto& row : Owner("SELECT pid, usename, state, wait_event_type, "
                                 "COALESCE(wait_event, ''), left(query, 120) FROM "
                                 "pg_stat_activity WHERE datname = current_database()")) {
      text += std::string("backend ") + row[0].c_str() + " " + row[1].c_str() + " " +
              row[2].c_str() + " " + row[3].c_str() + " " + row[4].c_str() + ": " + row[5].c_str() +
              "\n";
    }
    for (const auto& row : Owner("SELECT id, (next_attempt_at - NOW())::text FROM "
                                 "cf_generated_images WHERE job_state = 'queued' LIMIT 5")) {
      text += std::string("queued ") + row[0].c_str() + " due in " + row[1].c_str() + "\n";
    }
    std::ifstream log(testing::TestTempPath("generation.log"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    for (size_t i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); ++i) {
      text += lines[i].substr(0, 300) + "\n";
    }
    return text;
  }

  // Whether every job in `held` has left that lease: given back to the queue (rescued,
  // retried), claimed again (a new token) or finished. (When a rival runs it again depends on
  // its place in the queue.)
  bool TakenOver(const std::map<std::string, std::string>& held) {
    for (const auto& [id, token] : held) {
      auto row = Owner("SELECT lease_token::text, job_state FROM cf_generated_images WHERE id = '" +
                       id + "'")[0];
      if (row[0].as<std::string>() == token && row[1].as<std::string>() == "running") {
        return false;
      }
    }
    return true;
  }

  bool LogHasLostLeaseOf(const std::string& worker) {
    std::ifstream log(attempt_log_);
    std::string line;
    while (std::getline(log, line)) {
      if ((line.find(" lost ") != std::string::npos ||
           line.find(" complete-rejected ") != std::string::npos) &&
          line.size() >= worker.size() &&
          line.compare(line.size() - worker.size(), worker.size(), worker) == 0) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<cf::testing::Subprocess> StartWorker(int generation) {
    std::map<std::string, std::string> env = {
        {"CF_DATABASE_URL", database_.RoleConninfo("cf_generation")},
        {"CF_CATALOG_ADDR", "127.0.0.1:1"},  // workers never call the catalog
        {"CF_LISTEN", "127.0.0.1:" + std::to_string(cf::testing::FreePort())},
        {"CF_MEDIA_DIR", testing::TestTempPath("media")},
        {"CF_WORKER_ID", "crash-" + std::to_string(generation)},
        {"CF_ATTEMPT_LOG", attempt_log_},
        {"CF_IMAGE_WORKERS", "3"},
        {"CF_VIDEO_WORKERS", "1"},
        {"CF_JOB_LEASE_S", "2"},
        {"CF_JOB_RESCUE_S", "1"},
        {"CF_JOB_POLL_MS", "100"},
        {"CF_JOB_BACKOFF_MS", "100"},
        {"CF_JOB_MAX_ATTEMPTS", std::to_string(kMaxAttempts)},
        {"CF_DB_POOL_SIZE", "6"},
        // A worker frozen inside a transaction must not keep its jobs' rows locked past its
        // 2 s lease: the server ends such a session after a second.
        {"CF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "1000"}};
    return std::make_unique<cf::testing::Subprocess>(
        std::vector<std::string>{cf::testing::RunfilePath("services/generation/generation_server")},
        env, testing::TestTempPath("generation.log"));
  }

  cf::testing::TestDatabase database_;
  std::string attempt_log_ = testing::TestTempPath("attempts.log");
};

TEST_F(CrashTest, SigkillLosesNoJobAndAcceptsNoStaleCompletion) {
  QueueJobs();
  std::mt19937 random(20261125);
  int kills = 0;
  int orphans = 0;
  int freezes = 0;
  int videos = -1;  // not queued yet
  db::ConnectionPool api_pool(database_.RoleConninfo("cf_generation"), 1);
  generation::JobStore api(&api_pool);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(6);
  for (int generation = 0; kills < kKills && std::chrono::steady_clock::now() < give_up;
       ++generation) {
    auto worker = StartWorker(generation);
    std::string me = "crash-" + std::to_string(generation);
    // Kill only while this worker holds generating jobs.
    bool holding = false;
    for (int i = 0; i < 200 && !holding; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      holding = Owner(
                    "SELECT count(*) FROM cf_generated_images WHERE status = 'generating' "
                    "AND lease_owner = '" +
                    me + "'")[0][0]
                    .as<int>() > 0;
    }
    if (!holding) {
      worker->Signal(SIGKILL);
      worker->Wait(std::chrono::seconds(10));
      if (Count("status IN ('pending', 'generating')") == 0) break;
      continue;
    }
    if (generation % 10 == 5) {
      // Freeze past the lease; a second worker takes the jobs over; then thaw.
      worker->Signal(SIGSTOP);
      std::map<std::string, std::string> held = ImagesHeldBy(me);
      if (++freezes % 2 == 0) {
        // As an operator would: the frozen jobs fail, then are retried (attempts back to 0).
        for (const auto& [id, token] : held) {
          Owner(
              "UPDATE cf_generated_images SET job_state = 'failed', status = 'failed', "
              "lease_owner = NULL, lease_expires_at = NULL WHERE id = '" +
              id + "'");
          ASSERT_TRUE(api.Retry(generation::JobKind::kImage, id).ok());
        }
      }
      auto rival = StartWorker(10000 + generation);
      // Until every job the frozen worker held has left its lease (the rival's rescuer gives
      // them back after the 2 s lease).
      EXPECT_TRUE(testing::WaitUntil([&] { return TakenOver(held); }, std::chrono::seconds(60)))
          << Describe(held);
      worker->Signal(SIGCONT);
      // The thawed worker finds its leases gone (logged as lost, or a refused completion).
      testing::WaitUntil([&] { return LogHasLostLeaseOf(me); }, std::chrono::seconds(20));
      rival->Signal(SIGKILL);
      ASSERT_NE(rival->Wait(std::chrono::seconds(10)), -1);
      ++kills;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 400));
    }
    worker->Signal(SIGKILL);
    ASSERT_NE(worker->Wait(std::chrono::seconds(10)), -1);
    ++kills;
    // No worker runs now, so any ffmpeg left alive and not dying is an orphan of the killed
    // one (a render takes a few hundred ms, so without PR_SET_PDEATHSIG some would be here).
    orphans += FfmpegsWritingTo(testing::TestTempPath("media"));
    if (videos < 0 && Count("status = 'completed'") >= kVideos) videos = QueueVideos();
  }
  ASSERT_GE(kills, kKills) << "could not kill the worker mid-job often enough";

  // A last worker runs undisturbed until nothing is left to do.
  auto last = StartWorker(1000);
  if (videos < 0) {  // a slow machine: the videos wait for their source images
    ASSERT_TRUE(testing::WaitUntil([&] { return Count("status = 'completed'") >= kVideos; },
                                   std::chrono::seconds(240)));
    videos = QueueVideos();
  }
  ASSERT_EQ(videos, kVideos);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  while (Count("status IN ('pending', 'generating')") > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  last->Signal(SIGTERM);
  int exit_status = last->Wait(std::chrono::seconds(30));
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0) << exit_status;

  // ffmpeg died with every killed worker: none is left rendering into this test's media folder.
  EXPECT_EQ(orphans, 0) << "ffmpeg processes outlived their killed worker";
  EXPECT_EQ(FfmpegsWritingTo(testing::TestTempPath("media")), 0) << "an ffmpeg outlived its worker";

  const int total = kDossiers * kImagesPerDossier + videos;
  EXPECT_EQ(Count("true"), total);
  EXPECT_EQ(Count("status IN ('pending', 'generating')"), 0) << "jobs were left unfinished";
  int completed = Count("status = 'completed'");
  int failed = Count("status = 'failed'");
  EXPECT_EQ(completed + failed, total);
  EXPECT_GE(completed, total * 9 / 10);
  EXPECT_EQ(Count("attempts > max_attempts"), 0);
  EXPECT_EQ(Owner("SELECT count(*) FROM cf_generated_images WHERE status = 'completed' AND "
                  "image_url IS NULL")[0][0]
                .as<int>(),
            0);
  EXPECT_EQ(Owner("SELECT count(*) FROM cf_generated_videos WHERE status = 'completed' AND "
                  "video_url IS NULL")[0][0]
                .as<int>(),
            0);

  // Every completed row points at its own attempt's file, on disk at the size it recorded.
  int checked_files = 0;
  for (const char* query :
       {"SELECT id::text, COALESCE(image_url, ''), (metadata->>'fileSize')::bigint, lease_token "
        "FROM cf_generated_images WHERE status = 'completed'",
        "SELECT id::text, COALESCE(video_url, ''), (metadata->>'fileSize')::bigint, lease_token "
        "FROM cf_generated_videos WHERE status = 'completed'"}) {
    for (const auto& row : Owner(query)) {
      std::string url = row[1].as<std::string>();
      ASSERT_EQ(url.rfind("file://", 0), 0u) << url;
      struct stat info;
      ASSERT_EQ(stat(url.substr(7).c_str(), &info), 0) << url << " is missing";
      EXPECT_EQ(info.st_size, row[2].as<int64_t>()) << url;
      std::string own_name = row[0].as<std::string>() + "-" + row[3].as<std::string>() + ".";
      EXPECT_NE(url.find(own_name), std::string::npos) << url << " is not the last attempt's";
      ++checked_files;
    }
  }
  EXPECT_EQ(checked_files, completed);

  // The attempt log: "<ms> <event> <kind> <id> <token> <attempt> <worker>".
  std::ifstream log(attempt_log_);
  std::string line;
  std::map<std::string, std::vector<int64_t>> accepted;  // job -> tokens whose completion counted
  std::map<std::string, std::set<int64_t>> tried;        // job -> tokens that tried to complete
  std::map<std::string, int64_t> last_claim;             // job -> highest token claimed
  int lines = 0;
  int lost_leases = 0;  // attempts that found their lease taken (rejected or cancelled)
  while (std::getline(log, line)) {
    std::istringstream fields(line);
    std::string ms, event, kind, id, worker;
    int64_t token = 0;
    int attempt = 0;
    if (!(fields >> ms >> event >> kind >> id >> token >> attempt >> worker)) continue;  // torn
    ++lines;
    if (event == "claim") last_claim[id] = std::max(last_claim[id], token);
    if (event == "complete-accepted") accepted[id].push_back(token);
    if (event == "complete-try") tried[id].insert(token);
    if (event == "complete-rejected" || event == "lost") ++lost_leases;
  }
  EXPECT_GT(lines, total);
  std::map<std::string, int64_t> final_tokens;
  int killed_after_commit = 0;
  for (const char* table : {"cf_generated_images", "cf_generated_videos"}) {
    for (const auto& row :
         Owner(std::string("SELECT id::text, lease_token, status FROM ") + table)) {
      final_tokens[row[0].as<std::string>()] = row[1].as<int64_t>();
      if (row[2].as<std::string>() == "completed") {
        // The completing attempt is the row's last one. (Its "accepted" line may be missing
        // when a kill landed between the commit and the log write; its "try" line is not.)
        const std::string id = row[0].as<std::string>();
        EXPECT_EQ(tried[id].count(row[1].as<int64_t>()), 1u)
            << id << " completed, but its last attempt never tried to complete";
        if (accepted.count(id) == 0) ++killed_after_commit;
      }
    }
  }
  for (const auto& [id, tokens] : accepted) {
    ASSERT_EQ(tokens.size(), 1u) << id << " had " << tokens.size() << " completions accepted";
    // The accepted completion came from the newest claim: no worker claimed it after.
    EXPECT_EQ(tokens[0], final_tokens[id]) << id;
    EXPECT_EQ(tokens[0], last_claim[id]) << id;
  }
  int stale_tries = 0;  // completions a worker attempted after losing its lease (all refused)
  for (const auto& [id, tokens] : tried) {
    for (int64_t token : tokens) stale_tries += token != final_tokens[id];
  }
  // The freezes must have produced workers that lost leases, or the fencing went untested.
  EXPECT_GT(lost_leases, 0);
  std::printf(
      "kills=%d freezes=%d completed=%d failed=%d files_checked=%d attempt_log_lines=%d "
      "stale_completion_tries=%d lost_leases=%d killed_between_commit_and_log=%d\n",
      kills, freezes, completed, failed, checked_files, lines, stale_tries, lost_leases,
      killed_after_commit);
}

}  // namespace
}  // namespace cf
