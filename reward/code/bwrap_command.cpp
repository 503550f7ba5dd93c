#include "reward/code/bwrap_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>

namespace forge::reward::code {
namespace {

// /bin, /lib, ... are links into /usr on merged-/usr systems: recreate the link, else bind the dir.
void add_top_level(std::vector<std::string>& argv, const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    if (n <= 0) return;
    argv.insert(argv.end(), {"--symlink", std::string(target, n), path});
  } else if (S_ISDIR(st.st_mode)) {
    argv.insert(argv.end(), {"--ro-bind", path, path});
  }
}

}  // namespace

std::vector<std::string> bwrap_argv(const SandboxConfig& config, const std::string& harness_source,
                                    const std::string& spawn_library_hex) {
  std::vector<std::string> argv = {config.bwrap_path,
                                   "--unshare-user",
                                   "--unshare-pid",
                                   "--unshare-net",
                                   "--unshare-ipc",
                                   "--unshare-uts",
                                   "--unshare-cgroup-try",
                                   "--cap-drop",
                                   "ALL",
                                   "--die-with-parent",
                                   "--info-fd",
                                   "3",
                                   "--new-session",
                                   "--clearenv",
                                   "--setenv",
                                   "PATH",
                                   "/usr/bin:/bin",
                                   "--hostname",
                                   "sandbox",
                                   "--ro-bind",
                                   "/usr",
                                   "/usr"};
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    add_top_level(argv, top);
  }
  argv.insert(argv.end(), {"--ro-bind", "/etc", "/etc"});
  for (const std::string& dir : config.extra_ro_binds) {
    argv.insert(argv.end(), {"--ro-bind", dir, dir});
  }
  argv.insert(argv.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--remount-ro",
                           "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--", config.python_path,
                           "-I", "-S", "-c", harness_source, spawn_library_hex});
  return argv;
}

}  // namespace forge::reward::code
