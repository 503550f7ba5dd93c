"""The baseline reward_code_bench compares `forge grade` with: samples run the way openai/human-eval's
evaluate_functional_correctness runs them (written for this bench from its documented design, not
its code). A pool of N threads; per sample, a multiprocessing Manager list for the result and a
forked multiprocessing.Process that, in a temporary directory, with I/O swallowed, a few
destructive os functions disabled and an interval timer as the time limit, execs prompt +
completion + test + check(entry_point). The parent joins it with a deadline and kills it after.

Usage: /usr/bin/python3 -I -S humaneval_style_harness.py SAMPLES.jsonl [--workers N] [--timeout S]
SAMPLES.jsonl lines: {"program": prompt + completion, "test", "entry_point"}. Prints the number of
samples that passed.
"""
import concurrent.futures
import contextlib
import io
import json
import multiprocessing
import os
import signal
import sys
import tempfile


class TimedOut(Exception):
    pass


def _on_alarm(signum, frame):
    raise TimedOut()


def _execute(sample, timeout, result):
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        # (the calls the temporary directory's clean-up needs stay)
        for name in ("kill", "system", "putenv", "fchdir", "setuid", "fork", "forkpty", "killpg",
                     "rename", "renames", "truncate"):
            setattr(os, name, None)
        program = "%s\n%s\ncheck(%s)\n" % (sample["program"], sample["test"],
                                           sample["entry_point"])
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(program, {})
            result.append("passed")
        except TimedOut:
            result.append("timed out")
        except BaseException as e:
            result.append("failed: %s" % type(e).__name__)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def check(sample, timeout):
    with multiprocessing.Manager() as manager:
        result = manager.list()
        p = multiprocessing.Process(target=_execute, args=(sample, timeout, result))
        p.start()
        p.join(timeout + 1)
        if p.is_alive():
            p.kill()
            p.join()
        return bool(result) and result[0] == "passed"


def main():
    args = sys.argv[1:]
    workers, timeout = 2, 3.0
    if "--workers" in args:
        workers = int(args[args.index("--workers") + 1])
    if "--timeout" in args:
        timeout = float(args[args.index("--timeout") + 1])
    with open(args[0]) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        passed = sum(pool.map(lambda s: check(s, timeout), samples))
    print(passed)


if __name__ == "__main__":
    main()
