#include "worker_process.h"

#include <signal.h>

#include <regex>

#include "tests/common/forge_process.h"

namespace forge::rollout::testing {

WorkerProcess::WorkerProcess() = default;

std::unique_ptr<WorkerProcess> WorkerProcess::start(const std::vector<std::string>& args,
                                                    std::string* output,
                                                    std::chrono::seconds timeout) {
  std::vector<std::string> full = {"rollout-worker"};
  full.insert(full.end(), args.begin(), args.end());
  std::unique_ptr<WorkerProcess> w(new WorkerProcess());
  w->process_ = std::make_unique<test_support::ForgeProcess>(full);
  if (w->process_->pid() <= 0) return nullptr;
  const std::string& said = w->process_->read_until("listening on", timeout);
  std::smatch m;
  const std::regex listening("listening on [^ ]*:([0-9]+)");
  if (std::regex_search(said, m, listening)) {
    w->port_ = std::stoi(m[1]);
    *output += said;
    w->reported_ = said.size();
    return w;
  }
  w->process_->wait(std::chrono::seconds(0));
  *output += w->process_->output();
  return nullptr;
}

WorkerProcess::~WorkerProcess() = default;

pid_t WorkerProcess::pid() const { return process_->pid(); }

void WorkerProcess::signal(int sig) { process_->signal(sig); }

int WorkerProcess::wait(std::string* output) {
  const int code = process_->wait(std::chrono::seconds(30));
  *output += process_->output().substr(reported_);
  reported_ = process_->output().size();
  return code;
}

int run_forge(const std::vector<std::string>& args, std::string* output) {
  test_support::ForgeProcess process(args);
  const int code = process.wait();
  *output += process.output();
  return code;
}

}  // namespace forge::rollout::testing
