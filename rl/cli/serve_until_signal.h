// The main loop of the serving subcommands (`forge rollout-worker`, `forge reward-server`).
// A StopSignal catches SIGINT and SIGTERM from its construction on: make it before any server
// thread exists, so none misses the signal. serve_until_signal() blocks until one arrives, then
// shuts the server down (between a "shutting down" and a "stopped" line on stdout).
#pragma once

#include <csignal>
#include <functional>
#include <iostream>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

class StopSignal {
 public:
  StopSignal() : signals_(io_, SIGINT, SIGTERM) {}

  // Blocks until SIGINT or SIGTERM; returns its name.
  std::string wait() {
    int caught = 0;
    signals_.async_wait([&](const boost::system::error_code& error, int signal_number) {
      if (!error) caught = signal_number;
    });
    io_.run();
    return caught == SIGINT ? "SIGINT" : "SIGTERM";
  }

 private:
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
};

// "forge <name>: SIGTERM, shutting down", `shutdown()`, "forge <name>: stopped"; kExitOk.
inline int serve_until_signal(StopSignal& signal, const std::string& name,
                              const std::function<void()>& shutdown) {
  std::cout << "forge " << name << ": " << signal.wait() << ", shutting down" << std::endl;
  shutdown();
  std::cout << "forge " << name << ": stopped" << std::endl;
  return kExitOk;
}

}  // namespace forge::rl::cli
