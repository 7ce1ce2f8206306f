// How the sandbox's binaries stop: SIGTERM or SIGINT stops the server and main returns 0.
#ifndef CF_SERVICES_SANDBOX_SERVE_UNTIL_SIGNAL_H_
#define CF_SERVICES_SANDBOX_SERVE_UNTIL_SIGNAL_H_

#include <functional>

namespace cf::sandbox {

// Blocks SIGTERM and SIGINT in the calling thread and so in every thread it starts later:
// they wait for sigwait instead of killing the process. Call first thing in main.
void BlockStopSignals();

// Runs `serve` until it returns, calling `stop` (again and again, until `serve` returns) once
// SIGTERM or SIGINT arrives. Returns that signal, or 0 when `serve` returned by itself.
int ServeUntilSignal(const std::function<void()>& serve, const std::function<void()>& stop);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_SERVE_UNTIL_SIGNAL_H_
