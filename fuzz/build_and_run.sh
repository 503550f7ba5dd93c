#!/bin/bash
# Builds the libFuzzer target for the math grader with clang (ASan + UBSan) and runs it.
#   fuzz/build_and_run.sh [SECONDS] [extra libFuzzer flags...]
# The seed corpus is made from tests/data (MATH-500 answers and solutions, GSM8K answers, and the
# peer cases); new inputs accumulate in build-fuzz/corpus, crashes in build-fuzz/artifacts.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-300}"
shift || true
build="$root/build-fuzz"
mkdir -p "$build"
cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 || {
  cat "$build/configure.log"; exit 1; }
ninja -C "$build" -j2 math_grader_fuzz
mkdir -p "$build/corpus" "$build/seeds" "$build/artifacts"
/usr/bin/python3 -I -S - "$root/tests/data" "$build/seeds" <<'PY'
import json, os, sys, hashlib
data, out = sys.argv[1], sys.argv[2]
def put(pred, gold):
    blob = (pred + "\0" + gold).encode("utf-8", "replace")[:4096]
    name = hashlib.sha1(blob).hexdigest()
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)
for line in open(os.path.join(data, "datasets/math500_test.jsonl")):
    r = json.loads(line)
    put("\\boxed{" + r["answer"] + "}", r["answer"])
    put(r["solution"][-1500:], r["answer"])
for i, line in enumerate(open(os.path.join(data, "datasets/gsm8k_test.jsonl"))):
    if i % 10 == 0:
        r = json.loads(line)
        put(r["answer"], r["answer"].rsplit("####", 1)[-1].strip())
for line in open(os.path.join(data, "peer-cases/math_equivalence.jsonl")):
    r = json.loads(line)
    put(r["prediction"], r["gold"])
PY
cd "$build"
exec ./math_grader_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$@" \
  "$build/corpus" "$build/seeds"
