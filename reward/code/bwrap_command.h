// The bubblewrap command line of one sandbox worker (reward/code/harness.py runs inside it).
//
// The sandbox: new user, pid, network (no interfaces but a down loopback), ipc, uts and cgroup
// namespaces; every capability dropped; a new session (no TIOCSTI on our terminal); the whole
// tree killed when the host process dies (--die-with-parent); an empty environment but PATH; a
// read-only root made of /usr (+ the /bin, /lib* links), /etc and `extra_ro_binds`, a fresh /proc,
// a minimal read-only /dev, and a tmpfs /tmp. The harness then gives every program run its own
// nested namespaces, tmpfs /tmp and rlimits (see harness.py).
#pragma once

#include <string>
#include <vector>

#include "reward/code/sandbox_config.h"

namespace forge::reward::code {

// argv for execve: bwrap_path, the options, "--", python_path, "-I", "-S", "-c", harness_source,
// spawn_library_hex (the harness's argv[1]). bwrap writes its --info-fd JSON (the sandbox init's
// host pid) to fd 3: spawn it with_info_fd.
std::vector<std::string> bwrap_argv(const SandboxConfig& config, const std::string& harness_source,
                                    const std::string& spawn_library_hex);

}  // namespace forge::reward::code
