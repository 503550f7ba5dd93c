# Forge code sandbox worker. Runs inside bubblewrap as
# `/usr/bin/python3 -I -S -c <this file> <sandbox_spawn library, hex>` (both embedded into
# forge_reward by reward/CMakeLists.txt; see reward/code/sandbox_worker.h for the host side and
# reward/code/bwrap_command.cpp for the command line). The library (reward/code/sandbox_spawn.c)
# is Z's loop and P's setup in C: a process forked from this interpreter copies every page it
# writes, and C touches a handful where Python touched hundreds.
#
# Host protocol. fd 0: commands from the host, fd 1: replies, fd 2: diagnostics.
#   worker -> host  b"K"                          ready for a job (once at start, then after each job)
#   host -> worker  b"R" + u32le len + job JSON   run one job
#   worker -> host  b"J" + u32le len + result JSON
#
# Processes (all inside the worker's bwrap sandbox):
#   W  worker and judge (this loop): reads a job (program + tests), runs the tests itself, and
#      writes the result to fd 1. W never runs any program code (it compiles it for P: compiling
#      runs none of it).
#   Z  zygote: forked from W at start, before any job, and never sent a program or a test: only
#      the limits and the fds of each run. It creates one P per run with a single clone(2): new
#      user, mount, pid, ipc and uts namespaces, and W as P's parent (CLONE_PARENT), and tells W
#      P's pid. So the memory every program is forked from holds nothing of any job, this one's or
#      an earlier one's. Its loop runs in C (forge_zygote_serve), never returning to Python, and
#      first puts the interpreter's read-only code in huge pages (P reads them with no faults);
#      before it, Z warms P's Python path up on a program of its own (_warm_up) and tells W, which
#      says it is ready ("K") only then.
#   P  the program. Set up in C before any Python runs (forge_zygote_serve): maps its uid in its
#      new user namespace; pid 1 of its own pid namespace (when it dies, the kernel kills
#      everything it started, daemons included), its own /proc (it sees only its own processes),
#      fresh tmpfs on /tmp and /dev/shm, new session, no capabilities, no_new_privs, rlimits (CPU,
#      address space, processes, file size, open files, no core), no further user namespaces. It
#      then reads the program (its code, compiled by W, or its source: _compile_program) and its
#      stdin data from W on fd 3; only fds 0-4 are open: stdin (memfd or /dev/null), stdout,
#      stderr, call requests from W, call replies to W. With the program come the calls the
#      tests make first with literal arguments (prefetch_calls): P runs them in order right after
#      loading the program and streams their replies; W uses them in the same order or runs the
#      job again with live calls (Run.request).
#   After each job W SIGKILLs P (taking its pid namespace down) and reaps it (it is W's child; a
#   pidfd says when it has exited), and SIGKILLs anything else in the sandbox's pid namespace but
#   itself, Z and bwrap's init.
#
# Why the program cannot forge success. The verdict is computed in W from W's own state; the
# program's process can only send W plain data:
#   * The tests run in W, never in the program's process, so patching AssertionError, builtins,
#     sys.exit/os._exit/atexit, sys.settrace or the test functions changes nothing W executes, and
#     the tests and expected outputs are in no memory the program can read (P descends from Z).
#   * W calls the program's functions through proxies: arguments and return values cross a pipe in
#     a canonical serialisation of plain values (None, bool, int, float, complex, str, bytes, list,
#     tuple, dict, set, frozenset, range). A subclass instance (e.g. an int whose __eq__ says True)
#     crosses as its true base value; any other object becomes an opaque handle that equals only
#     itself and has no truth value. So every comparison in a test runs on W's own builtin objects.
#     Names the program defines that shadow builtins (abs, len, ...) are not given to the tests.
#   * Success is counted by W: every test unit must run and pass, and check() must return. A
#     program that exits, is killed, times out or floods its output fails the remaining units.
#     Nothing the program prints is parsed; W's result goes to the host on a pipe no program holds.
#   * P cannot signal, ptrace or read W or Z: they are outside its pid namespace, not in its
#     /proc, not in its session or process group, and W is not dumpable.
# What this cannot stop: a HumanEval test that calls a helper the prompt defines (poly,
# encode_cyclic, ...) calls the program's version of it, since the prompt is part of the program;
# and a value that a test asks the program for (len() of a returned object, a generator's items)
# is whatever the program's code says it is, exactly as in plain Python.
import ast
import builtins
import collections
import ctypes
import gc
import json
import marshal
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
import warnings

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long
_libc.pthread_self.restype = ctypes.c_void_p
# P is created by one raw clone(2) from Z, with its namespaces and with W as its parent
# (forge_zygote_serve); Python's os.fork() takes no flags. x86-64 only (SYS_gettid, TID_OFFSET).
SYS_gettid = 186
# glibc caches the thread id in its thread descriptor (struct pthread, at pthread_self()): fork()
# refreshes it in the child, a raw clone does not, so the clone asks the kernel to store it there
# (CLONE_CHILD_SETTID, as glibc's fork does). Its offset in x86-64 glibc 2.26+; the zygote checks
# it before relying on it.
TID_OFFSET = 0x2d0

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

MAX_FRAME = 64 << 20          # largest message accepted on any pipe
TESTS_CACHE_SIZE = 512        # compiled tests kept by W (Judge.build_tests)
MAX_ENCODE_DEPTH = 200        # nesting depth of a serialised value
MAX_COMPILED_BY_W = 256 << 10  # larger programs are compiled by P, under its memory limit
# Modules imported once in W so that each forked program finds them warm.
PRELOAD = ("typing", "math", "re", "collections", "itertools", "functools", "heapq", "bisect",
           "string", "random", "fractions", "decimal", "statistics", "operator", "copy",
           "hashlib", "datetime", "array", "dataclasses", "enum", "abc", "unicodedata", "textwrap")
# P's own seed for random's global generator: the C seeding from os.urandom that random.seed()
# calls, without its Python frame (~20 page copies fewer in each P). The zygote never draws a
# gauss(), so the generator's cached gauss_next is None already, as seed() would leave it.
_reseed_random = super(random.Random, random._inst).seed
# A program's names that shadow these are not given to the tests (call_server).
_BUILTIN_NAMES = frozenset(dir(builtins))


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _prctl(option, arg2=0, arg3=0):
    _check(_libc.prctl(option, arg2, arg3, 0, 0), "prctl(%d)" % option)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n):
    """`n` bytes from `fd` (most often in one read), or None at its end."""
    data = os.read(fd, min(n, 1 << 20)) if n else b""
    if len(data) == n:
        return data
    if not data:
        return None
    chunks = [data]
    n -= len(data)
    while n > 0:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


# Frames: u32le length + body. JSON between the host and W and from P to W (W trusts nothing P
# sends; marshal is not safe against crafted input). From W to P, marshal: P trusts W, and
# marshal.loads is one C call where json's decoder runs Python code that a freshly forked P would
# copy page by page.

def _read_body(fd):
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack("<I", head)
    if n > MAX_FRAME:
        raise ValueError("frame of %d bytes is too large" % n)
    return _read_exact(fd, n)


def _read_frame(fd):
    body = _read_body(fd)
    return None if body is None else json.loads(body.decode("utf-8", "surrogatepass"))


def _unencodable(obj):
    raise TypeError("%s is not JSON serializable" % type(obj).__name__)


# json.dumps(obj, separators=(",", ":")), made once: dumps with any non-default argument builds a
# JSONEncoder and a C encoder per call, Python code that P would copy page by page. No cycle
# check: every frame is a fresh tree of plain values.
_json_chunks = (json.encoder.c_make_encoder(None, _unencodable,
                                            json.encoder.encode_basestring_ascii, None, ":", ",",
                                            False, False, True)
                if json.encoder.c_make_encoder else   # a Python built without _json
                lambda obj, _: [json.dumps(obj, separators=(",", ":"))])


def _frame(obj):
    body = "".join(_json_chunks(obj, 0)).encode("utf-8", "surrogatepass")
    return struct.pack("<I", len(body)) + body


def _read_order(fd):
    """P: the next frame from W (the program, then the calls)."""
    body = _read_body(fd)
    return None if body is None else marshal.loads(body)


def _order(obj):
    """W: a frame for P (_read_order)."""
    body = marshal.dumps(obj)
    return struct.pack("<I", len(body)) + body


def _short(text, n=300):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Canonical serialisation of plain values (both directions). Only base-type slots are used to read
# a value, so a subclass cannot lie about its contents; everything else is an opaque handle.

class Unencodable(Exception):
    pass


def encode(x, handle_of, depth=0):
    if depth > MAX_ENCODE_DEPTH:
        raise Unencodable("value nested too deeply")
    if x is None or x is True or x is False:
        return x
    t = type(x)
    if t is str:
        return x
    if isinstance(x, int):
        return ["i", int.__index__(x).__format__("x")] if t is int else \
            ["i", int.__int__(x).__format__("x")]
    if isinstance(x, float):
        return ["f", float.hex(float.__float__(x))]
    if isinstance(x, str):
        return str.__str__(x)
    if isinstance(x, complex):
        return ["c", float.hex(complex.real.__get__(x)), float.hex(complex.imag.__get__(x))]
    if isinstance(x, (bytes, bytearray)):
        return ["y" if isinstance(x, bytes) else "Y", bytes(memoryview(x)).hex()]
    d = depth + 1
    if isinstance(x, list):
        return ["l"] + [encode(e, handle_of, d) for e in list.__iter__(x)]
    if isinstance(x, tuple):
        return ["t"] + [encode(e, handle_of, d) for e in tuple.__iter__(x)]
    if isinstance(x, dict):
        out = ["d"]
        for k, v in dict.items(x):
            out.append(encode(k, handle_of, d))
            out.append(encode(v, handle_of, d))
        return out
    if isinstance(x, frozenset):
        return ["F"] + [encode(e, handle_of, d) for e in frozenset.__iter__(x)]
    if isinstance(x, set):
        return ["S"] + [encode(e, handle_of, d) for e in set.__iter__(x)]
    if t is range:
        return ["r", encode(x.start, None), encode(x.stop, None), encode(x.step, None)]
    if handle_of is None:
        raise Unencodable("cannot pass a %s" % t.__name__)
    return ["h", handle_of(x)]


def decode(v, handle_for):
    if v is None or type(v) is bool or type(v) is str:
        return v
    if type(v) is not list or not v or type(v[0]) is not str:
        raise ValueError("malformed value")
    tag = v[0]
    if tag == "i":
        return int(v[1], 16)
    if tag == "f":
        return float.fromhex(v[1])
    if tag == "c":
        return complex(float.fromhex(v[1]), float.fromhex(v[2]))
    if tag == "y":
        return bytes.fromhex(v[1])
    if tag == "Y":
        return bytearray.fromhex(v[1])
    if tag == "l":
        return [decode(e, handle_for) for e in v[1:]]
    if tag == "t":
        return tuple(decode(e, handle_for) for e in v[1:])
    if tag == "d":
        if len(v) % 2 != 1:
            raise ValueError("malformed dict")
        return {decode(v[i], handle_for): decode(v[i + 1], handle_for) for i in range(1, len(v), 2)}
    if tag == "S":
        return {decode(e, handle_for) for e in v[1:]}
    if tag == "F":
        return frozenset(decode(e, handle_for) for e in v[1:])
    if tag == "r":
        return range(decode(v[1], None), decode(v[2], None), decode(v[3], None))
    if tag == "h" and handle_for is not None and type(v[1]) is int:
        return handle_for(v[1])
    raise ValueError("malformed value tag %r" % (tag,))


# ---------------------------------------------------------------------------------------------
# W: the worker loop.

def _load_spawn_library():
    """reward/code/sandbox_spawn.c, built as a shared library and passed as hex in argv[1]: loaded
    from a memfd that is closed once mapped, so no process holds a way to change it."""
    fd = os.memfd_create("forge-sandbox-spawn", os.MFD_CLOEXEC)
    try:
        _write_all(fd, bytes.fromhex(sys.argv[1]))
        lib = ctypes.CDLL("/proc/self/fd/%d" % fd, use_errno=True)
    finally:
        os.close(fd)
    lib.forge_zygote_serve.argtypes = [ctypes.c_int, ctypes.c_void_p]
    lib.forge_zygote_serve.restype = ctypes.c_int
    del sys.argv[1:]
    return lib


def worker_main():
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    spawn = _load_spawn_library()
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:
            pass
    gc.collect()
    gc.freeze()
    jsock, zsock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zpid = os.fork()
    if zpid == 0:
        jsock.close()
        code = 0
        try:
            zygote_main(spawn, zsock)
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    zsock.close()
    # Test code must not read our commands or write into our replies.
    cmd_fd, res_fd = os.dup(0), os.dup(1)
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    if jsock.recv(1) != b"Z":   # the zygote has warmed up and serves runs
        raise SystemExit("forge worker: the zygote did not start")
    _write_all(res_fd, b"K")
    while True:
        cmd = os.read(cmd_fd, 1)
        if not cmd:
            return
        if cmd != b"R":
            raise SystemExit("forge worker: unknown command %r" % cmd)
        job = _read_frame(cmd_fd)
        if job is None:
            return
        judge = Judge(job, jsock, res_fd)
        try:
            judge.execute()
        except RunStopped as stop:
            judge.result(stop.status, 0, 0, stop.detail)
        except BaseException as e:
            judge.result("error", 0, 0, "judge error: %s: %s" % (type(e).__name__, e))
            traceback.print_exc()
        judge.cleanup()
        if zpid in _sweep(keep={1, os.getpid(), zpid}) or os.waitpid(zpid, os.WNOHANG)[0]:
            raise SystemExit("forge worker: the zygote died")
        _write_all(res_fd, b"K")


def _is_zombie(pid):
    try:
        with open("/proc/%s/stat" % pid, "rb") as f:
            return f.read().rpartition(b")")[2][:2] in (b" Z", b" X")
    except OSError:
        return True   # gone


def _sweep(keep):
    """SIGKILLs every process of this pid namespace (nested ones included) not in `keep`, and
    reaps what W inherits as subreaper. Normally there is nothing left to kill. Returns the pids
    reaped."""
    reaped = set()
    for _ in range(1000):
        alive = [int(p) for p in os.listdir("/proc")
                 if p.isdigit() and int(p) not in keep and not _is_zombie(p)]
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reaped.add(pid)
        if not alive:
            return reaped
        time.sleep(0.001)
    return reaped


# ---------------------------------------------------------------------------------------------
# Z and P: runs of the program.

def zygote_main(spawn, sock):
    """Z. Returns when W closes `sock`; each P it creates never returns from here."""
    self_ = _libc.pthread_self()
    if ctypes.c_int.from_address(self_ + TID_OFFSET).value != _libc.syscall(SYS_gettid):
        raise SystemExit("forge zygote: unexpected glibc thread descriptor layout")
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    # Each program's stdio and argv, set once here: the interpreter's own stdio objects (never
    # written to by the zygote) wrap fds 0-2, which are each P's own; objects made in P would cost
    # it a page copy for every object touched.
    sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__
    sys.argv = ["program"]
    _warm_up()
    sock.send(b"Z")
    served = spawn.forge_zygote_serve(sock.fileno(), self_ + TID_OFFSET)
    if served == 0:   # P, set up: fds 0-4 only, its namespaces, no privileges, its limits
        code = 1
        try:
            code = program_main()
        except BaseException:
            traceback.print_exc()
        os._exit(code)
    if served != -1:
        raise SystemExit("forge zygote: " + os.strerror(ctypes.get_errno()))


# The zygote's warm-up: a program of ours (no job's), with the calls a test would make.
_WARM_UP_PROGRAM = """
from typing import List


def below(numbers: List[float], limit: float) -> bool:
    return all(x < limit for x in numbers)


def words(text: str, n: int = 2) -> list:
    return [w for w in text.split() if len(w) >= n] * 1
"""
_WARM_UP_CALLS = [{"op": "call", "name": "below", "args": [["l", ["f", "0x1.0p+0"], ["i", "2"]],
                                                          ["i", "3"]], "kwargs": {}},
                  {"op": "call", "name": "words", "args": ["a bc def"],
                   "kwargs": {"n": ["i", "2"]}}]


_WARM_UP_STDIO_PROGRAM = """
import sys
a, b = map(int, input().split())
print(a + b)
print(*sys.stdin.read().split(), sep="\\n")
"""


def _warm_up():
    """Z, before any run: runs P's own paths (program_main: calls, then stdin/stdout) on programs
    of ours a few times. CPython writes into the code it runs (call counters, specialised
    instructions) and each P would otherwise copy those pages; afterwards the zygote's objects
    are frozen out of the collector's reach (a collection in P would write to every one of them)."""
    # What W would send: the program with its calls ahead, then one live call; a stdio run.
    calls = (_order({"program": _compile_program(_WARM_UP_PROGRAM),
                     "module_name": "__forge_program__", "calls": _WARM_UP_CALLS}) +
             _order(_WARM_UP_CALLS[0]))
    stdio = _order({"program": _compile_program(_WARM_UP_STDIO_PROGRAM), "stdin": "1 2\n3 4\n"})
    for _ in range(12):   # CPython 3.11 specialises a function after 8 calls
        _warm_up_run(calls, stdio=False)
        _warm_up_run(stdio, stdio=True)
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)   # each stdio run made its input (a memfd) the zygote's fd 0
    os.close(devnull)
    if sys.stdin.read():   # the stdio program read its input to the end: nothing is left buffered
        raise SystemExit("forge zygote: the warm-up left input behind")
    _objects.clear()
    _object_ids.clear()
    gc.collect()
    gc.freeze()


def _warm_up_run(orders, stdio):
    """One run of program_main in the zygote itself, on `orders` as W would send them."""
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    _write_all(req_w, orders)
    os.close(req_w)
    status = program_main(req_r, rep_w)
    for fd in (rep_r,) if stdio else (req_r, rep_r, rep_w):   # a stdio run closes its own
        os.close(fd)
    if status != 0:
        raise SystemExit("forge zygote: the warm-up program failed")


def _compile_program(program):
    """W: what P is sent as the program. Its code object, compiled here, where compiling copies no
    pages (P only unmarshals it); the source itself when it is large (P compiles it under its
    memory limit) or does not compile (P reports the error as it always has). Compiling runs
    none of the program's code."""
    if len(program) > MAX_COMPILED_BY_W:
        return program
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compile(program, "<program>", "exec")
    except Exception:   # SyntaxError, ValueError (a NUL byte), MemoryError, RecursionError
        return program


def _program_code(program):
    """P: the code object of what W sent (_compile_program)."""
    return program if type(program) is not str else compile(program, "<program>", "exec")


def _run_limits(limits):
    """One run's limits as forge_zygote_serve reads them (struct forge_run in sandbox_spawn.c)."""
    cpu = max(1, int(limits["cpu_seconds"] + 0.999))
    return struct.pack("<6q", limits["tmp_bytes"], cpu, limits["max_file_bytes"],
                       limits["max_open_files"], limits["max_processes"], limits["memory_bytes"])


def program_main(requests=3, replies=4):
    """P, set up by forge_zygote_serve: reads the program from W on fd 3 and runs it. Returns the
    exit status. (Other fds: the zygote's warm-up, _warm_up.)"""
    try:
        cfg = _read_order(requests)   # {"program", "module_name"?, "stdin"?} from W
        if cfg is None:
            return 125
        call = cfg.get("stdin") is None
        if not call:
            os.close(requests)
            os.close(replies)
            mfd = os.memfd_create("stdin", 0)
            _write_all(mfd, cfg["stdin"].encode("utf-8", "surrogatepass"))
            os.lseek(mfd, 0, os.SEEK_SET)
            os.dup2(mfd, 0)
            os.close(mfd)
    except BaseException:
        return 125
    _reseed_random(None)   # its own seed (from os.urandom), not the zygote's
    if call:
        try:
            call_server(cfg, requests, replies)
        except BaseException:
            return 1
        return 0
    return stdio_program(cfg)


def stdio_program(cfg):
    g = {"__name__": "__main__", "__builtins__": builtins}
    code = 0
    try:
        exec(_program_code(cfg["program"]), g)
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code & 0xFF
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 1
    return code


# P's program objects that W holds by number (handles). One program per P; the zygote's warm-up
# empties them again. Module state, not closures: each P would copy the pages of new functions.
_objects, _object_ids = {}, {}


def _handle_of(obj):
    key = id(obj)
    if key not in _object_ids:
        _object_ids[key] = len(_objects) + 1
        _objects[_object_ids[key]] = obj
    return _object_ids[key]


def _handle_for(h):
    return _objects[h]


def _send_reply(fd, obj):
    """P: one reply to W."""
    _write_all(fd, _frame(obj))


def call_server(cfg, requests, replies):
    # Serves W's calls on fds `requests` and `replies`. Runs untrusted code; W trusts nothing it
    # says beyond the plain values it decodes.
    g = {"__name__": cfg.get("module_name", "__forge_program__"), "__builtins__": builtins}
    try:
        exec(_program_code(cfg["program"]), g)
    except BaseException as e:
        _send_reply(replies, {"op": "load_error",
                              "error": _short("%s: %s" % (type(e).__name__, e))})
        sys.stdout.flush()
        return
    names = {}
    for name, value in list(g.items()):
        if name.startswith("__") or name in _BUILTIN_NAMES:
            continue
        if type(value).__name__ == "module":
            names[name] = ["module", getattr(value, "__name__", "")]
        elif callable(value):
            names[name] = ["callable"]
        else:
            try:
                names[name] = ["value", encode(value, None)]
            except Exception:
                names[name] = ["other"]
    # The calls W sent ahead (prefetch_calls) run now, in order, each reply written as soon
    # as it is ready, exactly as if W had sent them one by one: W consumes them in the same order
    # or discards the whole run. A call whose reply holds a program object ends the batch there
    # (W's later requests on that object must run before any further call).
    batch = cfg.get("calls") or []
    if not all(type(c) is dict and c.get("op") == "call" and names.get(c.get("name")) ==
               ["callable"] for c in batch):
        batch = []
    _send_reply(replies, {"op": "loaded", "names": names, "batch": bool(batch)})
    for req in batch:
        before = len(_objects)
        out = _serve_request(g, req)
        ended = len(_objects) != before
        if ended:
            out["batch_end"] = True
        _send_reply(replies, out)
        if ended:
            break
    while True:
        req = _read_order(requests)
        if req is None:
            return
        _send_reply(replies, _serve_request(g, req))


def _serve_request(g, req):
    """One request from W (a call, an attribute, an iteration step, ...): its reply object."""
    try:
        op = req["op"]
        target = g[req["name"]] if "name" in req else _objects[req["handle"]]
        if op == "call":
            if "attr" in req:
                target = getattr(target, req["attr"])
            args = [decode(a, _handle_for) for a in req["args"]]
            kwargs = {k: decode(v, _handle_for) for k, v in req["kwargs"].items()}
            result = target(*args, **kwargs)
            after = {}
            for i, a in enumerate(args):
                if isinstance(a, (list, dict, set, bytearray)):
                    after[str(i)] = encode(a, _handle_of)
            for k, a in kwargs.items():
                if isinstance(a, (list, dict, set, bytearray)):
                    after[k] = encode(a, _handle_of)
            return {"ok": encode(result, _handle_of), "after": after}
        if op == "getattr":
            value = getattr(target, req["attr"])
            if callable(value) and not isinstance(value, type):
                return {"callable": True}
            return {"ok": encode(value, _handle_of)}
        if op == "iter":
            return {"ok": ["h", _handle_of(iter(target))]}
        if op == "next":
            try:
                return {"ok": encode(next(target), _handle_of)}
            except StopIteration:
                return {"stop": True}
        if op == "len":
            return {"ok": encode(len(target), None)}
        if op == "getitem":
            return {"ok": encode(target[decode(req["key"], _handle_for)], _handle_of)}
        return {"error": "unknown op"}
    except BaseException as e:
        if isinstance(e, (SystemExit, KeyboardInterrupt)):
            raise
        return {"error": _short("%s: %s" % (type(e).__name__, e)), "type": type(e).__name__,
                "message": _short(e, 200)}


# ---------------------------------------------------------------------------------------------
# W as the judge.

_ALWAYS_EVALUATED = (ast.Assert, ast.Expr, ast.Assign, ast.Compare, ast.BinOp, ast.UnaryOp,
                     ast.Call, ast.Subscript, ast.Tuple, ast.List, ast.keyword)


def _parents(root):
    """{node: its parent} for every node under `root` (root: None), in one pass. ast.walk costs
    several times more, and W analyses every test it has not seen yet."""
    parents = {root: None}
    stack = [root]
    while stack:
        node = stack.pop()
        for name in node._fields:
            if name == "ctx":
                continue
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        parents[item] = node
                        stack.append(item)
            elif isinstance(value, ast.AST):
                parents[value] = node
                stack.append(value)
    return parents


def prefetch_calls(statements, program_name):
    """The program calls that the test `statements` make first, known before they run: a prefix
    of statements of which each calls the program at most once, with literal arguments, in a
    position that is always evaluated, and calls nothing else but builtins. `program_name(name)`
    is the program function a test name stands for, or None. Returns the calls as W's requests
    ({"op": "call", "name", "args", "kwargs"}), in order. The program runs them ahead, in one
    batch; if the tests then ask for anything else first, the run is discarded and the job runs
    again with live calls (Run.request), so this only has to be right for speed."""
    calls = []
    for stmt in statements:
        parents = _parents(stmt)
        refs = [n for n in parents if isinstance(n, ast.Name) and program_name(n.id)]
        other = [n for n in parents if isinstance(n, ast.Call) and not (
            isinstance(n.func, ast.Name) and (program_name(n.func.id) or
                                              hasattr(builtins, n.func.id)))]
        if not refs and not other:
            if isinstance(stmt, (ast.Assert, ast.Expr, ast.Assign, ast.Import, ast.ImportFrom,
                                 ast.Pass)):
                continue
            break
        if other or len(refs) != 1 or not isinstance(stmt, (ast.Assert, ast.Expr, ast.Assign)):
            break
        call = parents.get(refs[0])
        if not isinstance(call, ast.Call) or call.func is not refs[0]:
            break
        node, ok = call, True
        while node is not stmt and ok:
            up = parents[node]
            ok = isinstance(up, _ALWAYS_EVALUATED) and not (
                isinstance(up, ast.Assert) and node is up.msg) and not (
                isinstance(up, ast.Compare) and node in up.comparators[1:])
            node = up
        if not ok:
            break
        try:
            args = [encode(ast.literal_eval(a), None) for a in call.args]
            kwargs = {k.arg: encode(ast.literal_eval(k.value), None) for k in call.keywords}
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, Unencodable):
            break
        if any(isinstance(a, ast.Starred) for a in call.args) or None in kwargs:
            break
        calls.append({"op": "call", "args": args, "kwargs": kwargs,
                      "name": program_name(refs[0].id)})
    return calls


TESTS_CACHE = collections.OrderedDict()


class RunStopped(BaseException):
    """The run cannot continue (timeout, output limit, program gone). Not an Exception, so test
    code's `except Exception` cannot swallow it."""

    def __init__(self, status, detail):
        BaseException.__init__(self, detail)
        self.status = status
        self.detail = detail


class Diverged(BaseException):
    """The tests asked the program for something other than the next call it ran ahead
    (prefetch_calls): the run is discarded and the job runs again without calls ahead."""


class ProgramError(Exception):
    """A call into the program raised, or returned something W cannot use."""


_REMOTE_ERRORS = {}


def _remote_error(msg):
    """The exception W raises for one the program raised: a builtin exception type keeps its type
    (a test may expect ValueError), as a subclass that is also a ProgramError."""
    name, text = msg.get("type"), msg.get("message")
    base = getattr(builtins, name, None) if type(name) is str else None
    # StopIteration would silently end the test's map()/iterator instead of failing it.
    if not (isinstance(base, type) and issubclass(base, Exception)) or type(text) is not str or \
            issubclass(base, (StopIteration, StopAsyncIteration)):
        return ProgramError(_short(msg.get("error"), 200))
    if name not in _REMOTE_ERRORS:
        try:
            _REMOTE_ERRORS[name] = type(name, (base, ProgramError), {})
        except TypeError:   # incompatible layout (e.g. OSError subclasses)
            return ProgramError(_short(msg.get("error"), 200))
    return _REMOTE_ERRORS[name](text)


class Run:
    """One run of the program in its own namespaces: W's ends of its pipes."""

    def __init__(self, judge, program, stdin=None, calls=()):
        self.judge = judge
        self.expected = collections.deque(calls)   # calls the program runs ahead, in order
        self.diverged = None
        lim = judge.limits
        run_limits = _run_limits(lim)
        self.max_output = lim["max_output_bytes"]
        call = stdin is None
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ready_r, ready_w = os.pipe()
        status_r, status_w = os.pipe()
        call_r, call_w = os.pipe()
        resp_r, resp_w = os.pipe()
        devnull = os.open("/dev/null", os.O_RDONLY)
        child_fds = [devnull, out_w, err_w, call_r, resp_w, ready_w, status_w]
        socket.send_fds(judge.zsock, [run_limits], child_fds)
        for fd in child_fds:
            os.close(fd)
        self.call_w = call_w
        self.pending = None
        self.start = time.monotonic()
        self.deadline = min(self.start + lim["wall_seconds"], judge.job_deadline)
        self.sel = selectors.DefaultSelector()
        self.bufs = {}
        pipes = [("out", out_r), ("err", err_r), ("ready", ready_r), ("pidline", status_r)]
        if call:
            pipes.append(("resp", resp_r))
        else:
            os.close(resp_r)
        os.set_blocking(call_w, False)
        for name, fd in pipes:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ, name)
            self.bufs[name] = bytearray()
        self.open = set(self.bufs)
        self.open.add("status")   # until P is reaped (its pidfd, once the pid is known)
        self.pidfd = None
        self.exit_status = None
        self.program_pid = None
        self.stopped = None
        # The program and its input go straight to P: the zygote never sees them.
        first = {"program": program}
        if call:
            first["module_name"] = "__forge_program__"
            if calls:
                first["calls"] = list(calls)
        else:
            first["stdin"] = stdin
        self.pending = memoryview(_order(first))
        self.sel.register(call_w, selectors.EVENT_WRITE, "call")
        judge.runs.append(self)

    def kill(self):
        """SIGKILLs P (its pid namespace goes with it) and reaps it."""
        if self.program_pid is None and "status" in self.open:
            # The zygote reports P's pid first thing; it may still be in the pipe.
            self.deadline = time.monotonic() + 2.0
            self.stopped = None
            try:
                self._pump(lambda: self.program_pid is not None or "status" not in self.open)
            except RunStopped:
                pass
        if self.program_pid is not None and "status" in self.open:   # else reaped already
            try:
                os.kill(self.program_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.deadline = time.monotonic() + 2.0
        self.stopped = None
        try:
            self._pump(lambda: "status" not in self.open)
        except RunStopped:
            pass

    def close(self):
        if self.sel is None:
            return
        for key in list(self.sel.get_map().values()):
            if key.data != "call":
                os.close(key.fd)
        self.sel.close()
        self.sel = None
        os.close(self.call_w)

    def _stop(self, status, detail):
        self.stopped = RunStopped(status, detail)
        raise self.stopped

    def _pump(self, until):
        """Moves data between W and the program's pipes until until() holds. Raises RunStopped on
        timeout or output flood; returns False when until() can no longer become true."""
        while not until():
            if self.stopped:
                raise self.stopped
            if not self.open:
                return False
            left = self.deadline - time.monotonic()
            if left <= 0:
                why = "time limit (%gs wall)" % self.judge.limits["wall_seconds"]
                if self.judge.job_deadline <= self.deadline:
                    why = "job deadline"
                self._stop("timeout", why)
            for key, _ in self.sel.select(left):
                name, fd = key.data, key.fd
                if name == "status":   # P's pidfd: it exited; reap it (it is our child)
                    self.sel.unregister(fd)
                    os.close(fd)
                    self.pidfd = None
                    try:
                        _, st = os.waitpid(self.program_pid, 0)
                        self.exit_status = ("signal %d" % os.WTERMSIG(st)) \
                            if os.WIFSIGNALED(st) else ("exit %d" % os.WEXITSTATUS(st))
                    except ChildProcessError:   # reaped already (by a sweep): status unknown
                        self.exit_status = "gone"
                    self.open.discard("status")
                    continue
                if name == "call":
                    try:
                        n = os.write(fd, self.pending)
                        self.pending = self.pending[n:]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        self.pending = self.pending[:0]
                    if not self.pending:
                        self.sel.unregister(fd)
                        self.pending = None
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.sel.unregister(fd)
                    os.close(fd)
                    self.open.discard(name)
                    if name == "pidline" and self.program_pid is None:   # the zygote failed
                        self.exit_status = bytes(self.bufs["pidline"]).decode(errors="replace")
                        self.open.discard("status")
                    continue
                buf = self.bufs[name]
                buf += chunk
                if name == "pidline" and self.program_pid is None and b"\n" in buf:
                    line, _, rest = bytes(buf).partition(b"\n")
                    if line.startswith(b"pid "):
                        self.program_pid = int(line[4:])
                        buf[:] = rest
                        self.pidfd = os.pidfd_open(self.program_pid)
                        self.sel.register(self.pidfd, selectors.EVENT_READ, "status")
                limit = self.max_output if name in ("out", "err") else MAX_FRAME
                if len(buf) > limit:
                    self._stop("output_limit", "%s exceeded %d bytes" % (
                        {"out": "stdout", "err": "stderr"}.get(name, name), limit))
        return True

    def wait_ready(self):
        self._pump(lambda: "ready" not in self.open)
        msg = bytes(self.bufs["ready"]).decode(errors="replace")
        if msg != "ok":
            if not msg:
                try:
                    self._pump(lambda: self.exit_status is not None)
                except RunStopped:
                    pass
                msg = self.exit_status or "the sandbox did not start"
            self._stop("sandbox_error", "sandbox setup failed: " + msg)

    def wait_exit(self):
        """stdio runs: waits until the program exits and its pipes close."""
        self._pump(lambda: self.exit_status is not None)
        # P was pid 1 of its namespace: everything holding its pipes is gone or going.
        self.deadline = min(self.deadline, time.monotonic() + 1.0)
        try:
            self._pump(lambda: "out" not in self.open and "err" not in self.open)
        except RunStopped as e:
            if e.status != "timeout":
                raise
            self.stopped = None

    def exited_detail(self):
        s = self.exit_status or ""
        if s.startswith("signal "):
            sig = int(s.split()[1])
            names = {signal.SIGXCPU: "CPU time limit", signal.SIGKILL: "killed",
                     signal.SIGSEGV: "segmentation fault", signal.SIGXFSZ: "file size limit"}
            return "program died: " + names.get(sig, "signal %d" % sig)
        if s.startswith("exit "):
            return "program exited with status %s" % s.split()[1]
        return "program exited"

    def _frame_len(self):
        buf = self.bufs["resp"]
        return struct.unpack("<I", bytes(buf[:4]))[0] if len(buf) >= 4 else None

    def recv(self):
        """Next reply frame from the program's call server."""
        buf = self.bufs["resp"]

        def have_frame():
            n = self._frame_len()
            return n is not None and (n > MAX_FRAME or len(buf) >= 4 + n)

        self._pump(lambda: have_frame() or "resp" not in self.open)
        if not have_frame():
            # The reply pipe closed: the program exited (os._exit, sys.exit, killed, ...).
            self.deadline = min(self.deadline, time.monotonic() + 1.0)
            try:
                self._pump(lambda: self.exit_status is not None)
            except RunStopped:
                self.stopped = None
            self._stop("crashed", self.exited_detail())
        n = self._frame_len()
        if n > MAX_FRAME:
            self._stop("crashed", "oversized reply from the program")
        body = bytes(buf[4:4 + n])
        del buf[:4 + n]
        try:
            msg = json.loads(body.decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError):
            raise ProgramError("malformed reply from the program")
        if type(msg) is not dict:
            raise ProgramError("malformed reply from the program")
        return msg

    def request(self, obj):
        if self.stopped:
            raise self.stopped
        if self.diverged:
            raise self.diverged
        if self.expected:
            if obj != self.expected.popleft():
                self.diverged = Diverged()
                raise self.diverged
            self.judge.ahead_used += 1
            return self._reply()   # the program ran this call ahead; its reply is in order
        data = _order(obj)
        if self.pending:
            self.pending = memoryview(bytes(self.pending) + data)
        else:
            # Most requests fit the pipe at once: write directly, poll only for what is left.
            try:
                data = data[os.write(self.call_w, data):]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                data = b""
            if not data:
                return self._reply()
            self.pending = memoryview(data)
            self.sel.register(self.call_w, selectors.EVENT_WRITE, "call")
        self._pump(lambda: not self.pending or "resp" not in self.open)
        if self.pending:
            self.sel.unregister(self.call_w)
            self.pending = None
        return self._reply()

    def _reply(self):
        msg = self.recv()
        if msg.get("batch_end"):
            self.expected.clear()
        if "error" in msg:
            raise _remote_error(msg)
        return msg


class Handle:
    """A program object W cannot copy. Equal only to itself; no truth value."""
    __slots__ = ("_run", "_id")

    def __init__(self, run, hid):
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_id", hid)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError("the program returned an object that is not a plain value")

    def __repr__(self):
        return "<program object>"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        msg = self._run.judge.request({"op": "getattr", "handle": self._id, "attr": name})
        if msg.get("callable"):
            return RemoteCallable(self._run.judge, {"handle": self._id, "attr": name})
        return self._run.judge.decode_reply(msg)

    def __call__(self, *args, **kwargs):
        return RemoteCallable(self._run.judge, {"handle": self._id})(*args, **kwargs)

    def __iter__(self):
        msg = self._run.judge.request({"op": "iter", "handle": self._id})
        it = self._run.judge.decode_reply(msg)
        while True:
            m = self._run.judge.request({"op": "next", "handle": it._id})
            if m.get("stop"):
                return
            yield self._run.judge.decode_reply(m)

    def __len__(self):
        # TypeError, not ProgramError: list(handle) asks len() first and must fall back to iter().
        try:
            n = self._run.judge.decode_reply(
                self._run.judge.request({"op": "len", "handle": self._id}))
        except ProgramError as e:
            raise TypeError(str(e))
        if type(n) is not int:
            raise TypeError("len() of a program object is not an int")
        return n

    def __getitem__(self, key):
        judge = self._run.judge
        return judge.decode_reply(judge.request(
            {"op": "getitem", "handle": self._id, "key": judge.encode_arg(key)}))


class RemoteCallable:
    """A function, class or method of the program, called from W's tests."""

    def __init__(self, judge, target, name=None):
        self._judge = judge
        self._target = target
        self.__name__ = name or target.get("name") or target.get("attr") or "candidate"

    def __call__(self, *args, **kwargs):
        judge = self._judge
        req = {"op": "call", "args": [judge.encode_arg(a) for a in args],
               "kwargs": {str(k): judge.encode_arg(v) for k, v in kwargs.items()}}
        req.update(self._target)
        msg = judge.request(req)
        result = judge.decode_reply(msg)
        after = msg.get("after")
        if type(after) is dict:   # mutations of list/dict/set arguments, as the program left them
            for key, enc in after.items():
                arg = kwargs.get(key) if not key.isdigit() else (
                    args[int(key)] if int(key) < len(args) else None)
                judge.write_back(arg, enc)
        return result

    def __repr__(self):
        return "<program function %s>" % self.__name__


class Judge:
    def __init__(self, job, zsock, res_fd):
        self.job = job
        self.zsock = zsock
        self.res_fd = res_fd
        self.runs = []
        self.limits = job["limits"]
        self.job_deadline = time.monotonic() + float(job.get("job_seconds", 1e9))
        self.run = None
        self.handles = {}
        self.sent = False
        self.single_unit = False
        self.calls_ahead = []   # prefetch_calls() of the tests
        self.ahead_used = 0     # of those, the replies the tests consumed
        self.rerun = False      # the tests diverged from the calls ahead: ran again, live
        self.compiled = None    # the program as P is sent it (program())

    # --- plumbing to the zygote and the program ---
    def program(self):
        """The program as each P of this job is sent it (_compile_program), made once."""
        if self.compiled is None:
            self.compiled = _compile_program(self.job["program"])
        return self.compiled

    def cleanup(self):
        for run in self.runs:
            run.kill()
            run.close()
        self.runs = []

    def request(self, obj):
        return self.run.request(obj)

    def handle_for(self, hid):
        if hid not in self.handles:
            self.handles[hid] = Handle(self.run, hid)
        return self.handles[hid]

    def handle_of(self, obj):
        if type(obj) is Handle and obj._run is self.run:
            return obj._id
        raise Unencodable("cannot pass a %s to the program" % type(obj).__name__)

    def encode_arg(self, x):
        try:
            return encode(x, self.handle_of)
        except Unencodable as e:
            raise ProgramError(str(e))
        except RecursionError:
            raise ProgramError("argument nested too deeply")

    def decode_reply(self, msg):
        if "ok" not in msg:
            raise ProgramError("malformed reply from the program")
        try:
            return decode(msg["ok"], self.handle_for)
        except Exception as e:   # ValueError, TypeError (unhashable key), MemoryError, ...
            raise ProgramError("unusable value from the program: %s" % _short(e, 80))

    def write_back(self, arg, enc):
        try:
            if type(arg) is list:
                arg[:] = decode(enc, self.handle_for)
            elif type(arg) in (dict, set):
                new = decode(enc, self.handle_for)
                if type(new) is type(arg):
                    arg.clear()
                    arg.update(new)
            elif type(arg) is bytearray:
                arg[:] = decode(enc, self.handle_for)
        except Exception:
            raise ProgramError("unusable value from the program")

    # --- the job ---
    def result(self, status, passed, total, detail):
        if self.sent:
            return
        self.sent = True
        out = {"status": status, "passed": passed, "total": total, "detail": _short(detail, 400),
               "calls_ahead": self.ahead_used, "rerun": self.rerun}
        _write_all(self.res_fd, b"J" + _frame(out))

    def execute(self):
        kind = self.job.get("kind")
        if kind == "stdio":
            return self.run_stdio()
        setup, units = self.build_tests(kind)
        if setup is None:
            return
        try:
            return self.run_calls(kind, setup, units, self.calls_ahead)
        except Diverged:
            self.cleanup()
            self.handles = {}
            self.rerun, self.ahead_used = True, 0
            return self.run_calls(kind, setup, units, ())

    def build_tests(self, kind):
        """Compiles the tests; returns (setup code or "", list of unit code objects). The compiled
        tests of a job are kept (TESTS_CACHE, keyed by their text): the samples of one prompt share
        them. Code objects are immutable and every job runs them in fresh globals, so nothing of
        one job reaches another through the cache; programs are never compiled here."""
        if kind == "humaneval":
            key = (kind, self.job["test"], self.job["entry_point"])
        else:
            key = (kind, self.job.get("setup") or "", tuple(self.job["asserts"]))
        hit = TESTS_CACHE.get(key)
        if hit is not None:
            TESTS_CACHE.move_to_end(key)
            setup, units, self.single_unit, self.calls_ahead = hit
            return setup, units
        setup, units = self._compile_tests(kind)
        if setup is not None:
            TESTS_CACHE[key] = (setup, units, self.single_unit, self.calls_ahead)
            if len(TESTS_CACHE) > TESTS_CACHE_SIZE:
                TESTS_CACHE.popitem(last=False)
        return setup, units

    def _compile_tests(self, kind):
        try:
            if kind == "humaneval":
                tree = ast.parse(self.job["test"], "<test>")
                check = [n for n in tree.body
                         if isinstance(n, ast.FunctionDef) and n.name == "check"]
                if not check:
                    self.result("bad_test", 0, 0, "tests.test defines no check(candidate)")
                    return None, None
                fn = check[-1]
                param = fn.args.args[0].arg if fn.args.args else None
                entry = self.job["entry_point"]
                self.calls_ahead = prefetch_calls(
                    fn.body, lambda name: entry if name == param else None)
                body, n = [], 0
                for stmt in fn.body:
                    if any(isinstance(x, ast.Assert) for x in ast.walk(stmt)):
                        body.append(self._unit(stmt, n))
                        n += 1
                    else:
                        body.append(stmt)
                if n == 0:   # no assert at top level: the whole call is the one unit
                    n = 1
                    self.single_unit = True
                else:
                    self.single_unit = False
                fn.body = body   # the new nodes carry their statement's location (_unit)
                return compile(tree, "<test>", "exec"), list(range(n))
            asserts = [ast.parse(a, "<assert %d>" % (i + 1))
                       for i, a in enumerate(self.job["asserts"])]
            units = [compile(tree, "<assert %d>" % (i + 1), "exec")
                     for i, tree in enumerate(asserts)]
            setup = ast.parse(self.job.get("setup") or "", "<setup>")
            # Names the setup binds are the tests' own, not the program's.
            own = set()
            for node in ast.walk(setup):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    own.add(node.id)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    own.add(node.name)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    own.update((a.asname or a.name).split(".")[0] for a in node.names)
            statements = [st for tree in asserts for st in tree.body]
            self.calls_ahead = prefetch_calls(
                statements, lambda name: None if name in own or hasattr(builtins, name) else name)
            return compile(setup, "<setup>", "exec"), units
        except SyntaxError as e:
            self.result("bad_test", 0, 0, "tests do not compile: %s" % _short(e, 200))
            return None, None

    @staticmethod
    def _unit(stmt, idx):
        # Only the new nodes need a location (compile() wants one on every node): the statement's.
        at = {"lineno": stmt.lineno, "col_offset": stmt.col_offset,
              "end_lineno": stmt.end_lineno, "end_col_offset": stmt.end_col_offset}

        def name(text):
            return ast.Name(text, ast.Load(), **at)

        def call(fn, args):
            return ast.Expr(ast.Call(name(fn), args, [], **at), **at)

        passed = call("__forge_unit_passed", [ast.Constant(idx, **at)])
        failed = call("__forge_unit_failed", [ast.Constant(idx, **at), name("__forge_error")])
        handler = ast.ExceptHandler(name("__forge_Exception"), "__forge_error", [failed], **at)
        return ast.Try([stmt], [handler], [passed], [], **at)

    def run_calls(self, kind, setup, units, calls):
        """Runs the tests against one run of the program. Raises Diverged when the tests did not
        consume exactly the calls the program ran ahead (`calls`), whatever they concluded."""
        total = len(units)
        outcome = {}            # unit index -> None (passed) or failure text
        check_error = None      # check() itself raised outside any unit
        self.run = run = Run(self, self.program(), calls=calls)
        try:
            run.wait_ready()
            try:
                hello = run.recv()
            except ProgramError:   # a program that broke its own process's harness code
                hello = {}
            if not hello.get("batch"):
                run.expected.clear()
            if hello.get("op") == "load_error":
                return self.result("load_error", 0, total, "program raised while loading: %s" %
                                   hello.get("error"))
            if hello.get("op") != "loaded" or type(hello.get("names")) is not dict:
                return self.result("crashed", 0, total, "program did not load")
            g = {"__name__": "__forge_test__", "__builtins__": builtins}
            for name, desc in hello["names"].items():
                if type(name) is not str or not name.isidentifier() or hasattr(builtins, name) \
                        or type(desc) is not list or not desc:
                    continue
                if desc[0] == "callable":
                    g[name] = RemoteCallable(self, {"name": name}, name)
                elif desc[0] == "module" and len(desc) > 1 and type(desc[1]) is str \
                        and desc[1] in getattr(sys, "stdlib_module_names", ()):
                    try:
                        g[name] = __import__(desc[1])
                    except Exception:
                        pass
                elif desc[0] == "value" and len(desc) > 1:
                    try:
                        g[name] = decode(desc[1], None)
                    except Exception:
                        pass

            def unit_passed(i):
                outcome[i] = None

            def unit_failed(i, err):
                if isinstance(err, AssertionError):
                    text = "AssertionError" + (": %s" % err if str(err) else "")
                else:
                    text = "%s: %s" % (type(err).__name__, err)
                outcome[i] = text

            g["__forge_unit_passed"] = unit_passed
            g["__forge_unit_failed"] = unit_failed
            g["__forge_Exception"] = Exception
            try:
                exec(setup, g)
            except Exception as e:
                if kind == "humaneval":
                    return self.result("bad_test", 0, total, "test code raised: %s: %s" % (
                        type(e).__name__, e))
                return self.result("bad_test", 0, total, "tests.setup raised: %s: %s" % (
                    type(e).__name__, e))
            if kind == "humaneval":
                entry = self.job["entry_point"]
                check = g.get("check")
                candidate = g.get(entry)
                if not isinstance(candidate, RemoteCallable):
                    return self.result("failed", 0, total,
                                       "the program defines no function %s" % entry)
                try:
                    check(candidate)
                    if self.single_unit:
                        outcome[0] = None
                except Exception as e:
                    check_error = "check() raised %s: %s" % (type(e).__name__, e)
            else:
                for i, code in enumerate(units):
                    try:
                        exec(code, g)
                        unit_passed(i)
                    except Exception as e:
                        unit_failed(i, e)
        except RunStopped as stop:
            passed = sum(1 for i in range(total) if i in outcome and outcome[i] is None)
            return self.result(stop.status, passed, total, stop.detail)
        if run.diverged or run.expected:   # calls ran ahead that the tests skipped or reordered
            raise Diverged()
        passed = sum(1 for i in range(total) if i in outcome and outcome[i] is None)
        failures = [i for i in range(total) if outcome.get(i, "not run") is not None]
        if not failures and check_error is None:
            return self.result("passed", passed, total, "all tests passed")
        if check_error is not None and (not failures or failures[0] not in outcome):
            return self.result("failed", passed, total, check_error)
        first = failures[0]
        return self.result("failed", passed, total, "test %d: %s" % (
            first + 1, outcome.get(first) or "not run"))

    def run_stdio(self):
        cases = self.job["cases"]
        total = len(cases)
        passed = 0
        first_fail = None
        for i, case in enumerate(cases):
            run = Run(self, self.program(), stdin=case["input"])
            try:
                run.wait_ready()
                run.wait_exit()
            except RunStopped as stop:
                return self.result(stop.status, passed, total, "case %d: %s" % (i + 1, stop.detail))
            finally:
                run.kill()
                run.close()
                self.runs.remove(run)
            status = run.exit_status or ""
            got = bytes(run.bufs["out"]).decode("utf-8", "replace")
            if status != "exit 0":
                err = bytes(run.bufs["err"]).decode("utf-8", "replace").strip().splitlines()
                why = run.exited_detail() + (": " + err[-1] if err else "")
            elif _normalise(got) != _normalise(case["output"]):
                why = "wrong output (got %r)" % _short(got, 60)
            else:
                passed += 1
                continue
            if first_fail is None:
                first_fail = "case %d: %s" % (i + 1, why)
        if first_fail is None:
            return self.result("passed", passed, total, "all cases passed")
        return self.result("failed", passed, total, first_fail)


def _normalise(text):
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


if __name__ == "__main__":
    worker_main()
