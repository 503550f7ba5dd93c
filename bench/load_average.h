// The machine's load average as /proc/loadavg gives it ("1.23 0.98 0.75": 1, 5 and 15 minutes),
// printed beside every bench table: throughput on a shared machine means little without it.
#pragma once

#include <fstream>
#include <string>

namespace forge::bench {

inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace forge::bench
