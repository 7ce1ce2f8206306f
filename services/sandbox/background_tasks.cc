#include "services/sandbox/background_tasks.h"

#include "common/log/log.h"

namespace cf::sandbox {

bool BackgroundTasks::Run(Task task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return false;
  Reap();
  entries_.push_back(std::make_unique<Entry>());
  Entry* entry = entries_.back().get();
  entry->thread = std::thread([this, entry, task = std::move(task)] {
    try {
      task(cancel_);
    } catch (const std::exception& error) {
      Log(LogLevel::kError, "background task failed", {{"error", error.what()}});
    }
    entry->done = true;
  });
  return true;
}

int BackgroundTasks::running() {
  std::lock_guard<std::mutex> lock(mutex_);
  Reap();
  return static_cast<int>(entries_.size());
}

void BackgroundTasks::Reap() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void BackgroundTasks::Shutdown() {
  std::list<std::unique_ptr<Entry>> entries;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    cancel_ = true;
    entries.swap(entries_);
  }
  for (auto& entry : entries) entry->thread.join();
}

}  // namespace cf::sandbox
