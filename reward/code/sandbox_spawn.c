// The zygote's loop and each program process's setup, in C. Built as a small shared library that
// forge embeds (reward/CMakeLists.txt) and harness.py loads with ctypes inside the sandbox; see
// harness.py for the processes (W, Z, P) and what each one may see.
//
// Why C: a process forked from a Python interpreter copies every page it writes, and Python
// writes to every object it touches (reference counts). Done in Python, Z's loop and P's setup
// (maps, mounts, ~40 prctl calls, fds, rlimits) cost ~160 of the ~600 page faults of a HumanEval
// program run (docs/code_sandbox.md); here they run on this library's stack and touch a handful.
//
// Protocol, W -> Z on a SOCK_SEQPACKET socket (before this loop, Z's Python side has sent W one
// b"Z": warmed up): one message per run, a struct forge_run (below) with exactly 7 fds attached
// (SCM_RIGHTS): P's stdin, stdout, stderr, call requests, call replies, "ready" pipe, and Z's
// status pipe to W. Z answers on the status pipe with "pid N\n" (P's pid, as W sees it) or
// "setup clone: <error>"; P writes "ok" on its ready pipe when set up, or "setup <step>: <error>"
// and exits with status 125.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

// One run's limits, as W packs them (struct.pack("<6q", ...) in harness.py).
struct forge_run {
  int64_t tmp_bytes;       // size of each of P's tmpfs (/tmp, /dev/shm)
  int64_t cpu_seconds;     // RLIMIT_CPU soft limit (hard: one more)
  int64_t max_file_bytes;  // RLIMIT_FSIZE
  int64_t max_open_files;  // RLIMIT_NOFILE
  int64_t max_processes;   // RLIMIT_NPROC (per uid in P's own user namespace: this run only)
  int64_t memory_bytes;    // RLIMIT_AS
};

enum { kRunFds = 7, kReady = 5, kStatus = 6, kHighFds = 256 };  // fds[kReady]: P's ready pipe

// What Z knows before any run: read once, so a run does no work it could share.
struct zygote_facts {
  uid_t uid;
  gid_t gid;
  int last_cap;
};

static void write_text(int fd, const char* text) {
  size_t n = strlen(text);
  while (n > 0) {
    ssize_t w = write(fd, text, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    text += w;
    n -= (size_t)w;
  }
}

// Appends `text` (without its NUL), or the decimal digits of `v`, at `out`; returns the new end.
// Not snprintf: it would touch stdio's and the locale's pages in each freshly cloned P.
static char* put_text(char* out, const char* text) {
  while (*text) *out++ = *text++;
  return out;
}

static char* put_decimal(char* out, unsigned long long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

// "ID ID 1": `id` mapped to itself (a line of /proc/self/uid_map or gid_map).
static void id_map_line(char* out, unsigned id) {
  out = put_decimal(out, id);
  out = put_text(out, " ");
  out = put_decimal(out, id);
  *put_text(out, " 1") = '\0';
}

// P's setup failed at `step`: tells W on the ready pipe and exits. Never returns.
static void setup_failed(int ready_fd, const char* step) {
  char msg[256];
  snprintf(msg, sizeof msg, "setup %s: %s", step, strerror(errno));
  write_text(ready_fd, msg);
  _exit(125);
}

// One write(2) of `text` to `path` (what /proc's map files need). 0 or -1 with errno.
static int write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

// Closes every open fd in [first, last]: close_range(2), or on kernels before 5.9 the ones
// /proc/self/fd lists. 0 or -1 with errno.
static int close_fd_range(int first, int last) {
  if (syscall(SYS_close_range, first, last, 0) == 0) return 0;
  if (errno != ENOSYS) return -1;
  for (;;) {  // collect, then close: closing while listing would skip entries
    int found[64];
    int n = 0;
    DIR* dir = opendir("/proc/self/fd");
    if (dir == NULL) return -1;
    for (struct dirent* e = readdir(dir); e != NULL && n < 64; e = readdir(dir)) {
      long fd = strtol(e->d_name, NULL, 10);
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd >= first && fd <= last &&
          fd != dirfd(dir)) {
        found[n++] = (int)fd;
      }
    }
    closedir(dir);
    if (n == 0) return 0;
    for (int i = 0; i < n; ++i) close(found[i]);
  }
}

static int set_limit(int resource, int64_t soft, int64_t hard) {
  struct rlimit r = {(rlim_t)soft, (rlim_t)hard};
  return setrlimit(resource, &r);
}

// P, pid 1 of its new namespaces: maps its ids, mounts, drops privileges, arranges fds 0-4,
// sets the rlimits and says "ok" on the ready pipe. Exits (status 125) on any failure.
static void setup_program(const struct zygote_facts* z, const struct forge_run* run, int fds[]) {
  int ready = fds[kReady];
  char text[128];
  // Dumpable again (W's non-dumpable flag was inherited): /proc/self/uid_map needs it.
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) setup_failed(ready, "dumpable");
  if (write_file("/proc/self/setgroups", "deny") != 0) setup_failed(ready, "setgroups");
  id_map_line(text, (unsigned)z->uid);
  if (write_file("/proc/self/uid_map", text) != 0) setup_failed(ready, "uid_map");
  id_map_line(text, (unsigned)z->gid);
  if (write_file("/proc/self/gid_map", text) != 0) setup_failed(ready, "gid_map");

  const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  char* end = put_decimal(put_text(text, "size="), (unsigned long long)run->tmp_bytes);
  *put_text(end, ",nr_inodes=16384,mode=1777") = '\0';
  if (mount("tmpfs", "/tmp", "tmpfs", flags, text) != 0) setup_failed(ready, "mount /tmp");
  if (mount("tmpfs", "/dev/shm", "tmpfs", flags, text) != 0) setup_failed(ready, "mount /dev/shm");
  if (mount("proc", "/proc", "proc", flags, NULL) != 0) setup_failed(ready, "mount /proc");
  // No further user namespaces for the program (the sysctl is per user namespace). Kernels
  // without the file have no such limit to set.
  (void)write_file("/proc/sys/user/max_user_namespaces", "0");

  if (setsid() < 0) setup_failed(ready, "setsid");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) setup_failed(ready, "no_new_privs");
  for (int cap = 0; cap <= z->last_cap; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) setup_failed(ready, "capbset_drop");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) setup_failed(ready, "ambient");
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct none[2];
  memset(none, 0, sizeof none);
  if (syscall(SYS_capset, &header, none) != 0) setup_failed(ready, "capset");
  // Dumpable once more (dropping the capabilities cleared it): the program reads its own /proc.
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) setup_failed(ready, "dumpable");
  if (chdir("/tmp") != 0) setup_failed(ready, "chdir /tmp");

  // fds 0-4 are the program's (stdin, stdout, stderr, requests, replies); the ready pipe stays
  // open above them until P is set up; nothing else stays open.
  int high[kReady + 1];
  for (int i = 0; i <= kReady; ++i) {
    high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, kHighFds);
    if (high[i] < 0) setup_failed(ready, "dup");
  }
  ready = high[kReady];
  for (int i = 0; i < kReady; ++i) {
    if (dup2(high[i], i) < 0) setup_failed(ready, "dup2");
  }
  if (close_fd_range(kReady, ready - 1) != 0 || close_fd_range(ready + 1, INT32_MAX) != 0) {
    setup_failed(ready, "close_range");
  }

  if (set_limit(RLIMIT_CORE, 0, 0) != 0) setup_failed(ready, "RLIMIT_CORE");
  if (set_limit(RLIMIT_CPU, run->cpu_seconds, run->cpu_seconds + 1) != 0) {
    setup_failed(ready, "RLIMIT_CPU");
  }
  if (set_limit(RLIMIT_FSIZE, run->max_file_bytes, run->max_file_bytes) != 0) {
    setup_failed(ready, "RLIMIT_FSIZE");
  }
  if (set_limit(RLIMIT_NOFILE, run->max_open_files, run->max_open_files) != 0) {
    setup_failed(ready, "RLIMIT_NOFILE");
  }
  // RLIMIT_NPROC counts per (user namespace, uid), and this run has its own user namespace.
  if (set_limit(RLIMIT_NPROC, run->max_processes, run->max_processes) != 0) {
    setup_failed(ready, "RLIMIT_NPROC");
  }
  if (set_limit(RLIMIT_AS, run->memory_bytes, run->memory_bytes) != 0) {
    setup_failed(ready, "RLIMIT_AS");
  }
  write_text(ready, "ok");
  close(ready);
}

static void close_fds(const int* fds, int n) {
  for (int i = 0; i < n; ++i) close(fds[i]);
}

// Receives one run: its limits and its 7 fds. 1 with a run, 0 at the end of the stream, -1 with
// errno (EPROTO: a message that is not one forge_run with 7 fds).
static int receive_run(int sock, struct forge_run* run, int fds[kRunFds]) {
  union {
    char buf[CMSG_SPACE(sizeof(int) * kRunFds)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {run, sizeof *run};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return (int)n;
  int got = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int* passed = (int*)CMSG_DATA(c);
    for (int i = 0; i < count; ++i) {
      if (got < kRunFds) {
        fds[got++] = passed[i];
      } else {
        close(passed[i]);
      }
    }
  }
  if (n != (ssize_t)sizeof *run || got != kRunFds || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    close_fds(fds, got);
    errno = EPROTO;
    return -1;
  }
  return 1;
}

enum { kMaxCodeBlocks = 8 };
static const uintptr_t kHugePage = (uintptr_t)2 << 20;

// The 2 MiB-aligned blocks [lo, hi) inside runs of read-only private file mappings (one file's
// adjacent r--p and r-xp mappings are one run): up to kMaxCodeBlocks, in address order.
static int find_code_blocks(uintptr_t blocks[kMaxCodeBlocks][2]) {
  FILE* maps = fopen("/proc/self/maps", "re");
  if (!maps) return 0;
  int n = 0;
  char line[512];
  uintptr_t run_start = 0, run_end = 0;
  unsigned long run_inode = 0;
  while (n < kMaxCodeBlocks && fgets(line, sizeof line, maps)) {
    unsigned long start, end, offset, inode;
    char perms[8], dev[32];
    if (sscanf(line, "%lx-%lx %7s %lx %31s %lu", &start, &end, perms, &offset, dev, &inode) != 6)
      continue;
    if (inode == 0 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p') {  // not r-?p files
      run_inode = 0;
      continue;
    }
    if (inode != run_inode || start != run_end) run_start = start;
    run_inode = inode;
    run_end = end;
    uintptr_t lo = (run_start + kHugePage - 1) & ~(kHugePage - 1), hi = run_end & ~(kHugePage - 1);
    if (hi <= lo) continue;
    if (n > 0 && blocks[n - 1][0] == lo) {
      blocks[n - 1][1] = hi;  // the same run, grown
    } else {
      blocks[n][0] = lo;
      blocks[n++][1] = hi;
    }
  }
  fclose(maps);
  return n;
}

// Replaces [lo, lo + len) with an r-x anonymous copy in huge pages, or leaves it as it is.
static void copy_into_huge_pages(uintptr_t lo, size_t len) {
  char* raw = mmap(NULL, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                   0);
  if (raw == MAP_FAILED) return;
  char* copy = (char*)(((uintptr_t)raw + kHugePage - 1) & ~(kHugePage - 1));  // aligned, len bytes
  if (copy > raw) munmap(raw, (size_t)(copy - raw));
  munmap(copy + len, (size_t)(raw + kHugePage - copy));
  madvise(copy, len, MADV_HUGEPAGE);
  memcpy(copy, (const void*)lo, len);
  if (madvise(copy, len, MADV_COLLAPSE) != 0 || mprotect(copy, len, PROT_READ | PROT_EXEC) != 0 ||
      mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void*)lo) == MAP_FAILED) {
    munmap(copy, len);
  }
}

// Z, once: each 2 MiB-aligned block of read-only code and data that a file maps here (in
// practice the interpreter's, python3.11 being one executable, and the largest libraries')
// becomes an anonymous copy in huge pages. A forked process reads its parent's huge pages with
// no fault of its own, where each 4 KiB file page costs it a fault (16 pages at a time) and a
// first touch: ~35-40 faults and 10-15% of a HumanEval program run on this project's VM
// (docs/code_sandbox.md). Each copy is one r-x mapping: within P memory protection is no boundary
// anyway (P runs any code; its namespaces and limits are the boundary). Best effort: where the
// kernel cannot collapse a copy into huge pages (before Linux 6.1, THP disabled), the file
// mapping stays.
static void map_code_in_huge_pages(void) {
  uintptr_t blocks[kMaxCodeBlocks][2];
  int n = find_code_blocks(blocks);
  for (int i = 0; i < n; i++) copy_into_huge_pages(blocks[i][0], blocks[i][1] - blocks[i][0]);
}

// Z's loop. Serves runs from `sock` until W closes it, creating one P per run with a single
// clone(2): new user, mount, pid, IPC and UTS namespaces, W as its parent (CLONE_PARENT). The
// kernel stores P's thread id at `tid_field` (glibc's cached tid, which a raw clone would leave
// stale; harness.py checks the layout before passing it).
// Before the first run, Z maps its code in huge pages (map_code_in_huge_pages).
// Returns in Z: -1 when W closed the socket, -2 with errno on a broken message or socket.
// Returns in each P: 0, with P set up (fds 0-4 only, limits set).
int forge_zygote_serve(int sock, void* tid_field) {
  struct zygote_facts z = {getuid(), getgid(), CAP_LAST_CAP};
  char text[64];
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, text, sizeof text - 1);
    if (n > 0) {
      text[n] = '\0';
      z.last_cap = (int)strtol(text, NULL, 10);
    }
    close(fd);
  }
  map_code_in_huge_pages();
  const unsigned long flags = CLONE_PARENT | CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
                              CLONE_NEWIPC | CLONE_NEWUTS | CLONE_CHILD_SETTID | SIGCHLD;
  for (;;) {
    struct forge_run run;
    int fds[kRunFds];
    int got = receive_run(sock, &run, fds);
    if (got == 0) return -1;
    if (got < 0) return -2;
    long pid = syscall(SYS_clone, flags, NULL, NULL, tid_field, NULL);
    if (pid == 0) {
      close(sock);
      close(fds[kStatus]);
      setup_program(&z, &run, fds);
      return 0;
    }
    if (pid < 0) {
      snprintf(text, sizeof text, "setup clone: %s", strerror(errno));
    } else {
      *put_text(put_decimal(put_text(text, "pid "), (unsigned long long)pid), "\n") = '\0';
    }
    write_text(fds[kStatus], text);
    close_fds(fds, kRunFds);
  }
}
