#!/usr/bin/env bash
# The recipe's wiring, end to end: scripts/demo.sh with every stage shortened to a few steps must
# run data gen, teacher grading, SFT, eval, GRPO, eval, distill, eval, and write a summary.json with
# every key of issue 7 (accuracies in [0, 1]), the bars with their standard errors, the seconds of
# each of the 8 stages, and curves.png.
#   demo_smoke_test.sh BUILD_DIR
set -euo pipefail
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/forge_demo_smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

cd "$source_dir"
SKIP_SETUP=1 BUILD_DIR="$build_dir" DEMO_DIR="$out/demo" SFT_N=100 RL_N=50 HELDOUT_N=8 SEED=3 TASK_ARGS="--ops 1" \
  scripts/demo.sh run.threads=1 sft.max_steps=60 sft.batch_size=16 sft.eval_every=30 \
  trainer.total_steps=2 trainer.batch_size=4 trainer.save_every=0 rollout.n=4 \
  rollout.max_new_tokens=48 eval.max_prompts=8 eval.k=2 distill.k=4 distill.max_prompts=64 \
  distill.held_out_prompts=4 > "$out/demo.log" 2>&1 || { cat "$out/demo.log"; exit 1; }

summary="$out/demo/summary.json"
test -s "$out/demo/curves.png" || { echo "no curves.png"; exit 1; }
jq -e '
  def rate: type == "number" and . >= 0 and . <= 1;
  (.teacher.accuracy | rate) and (.pipeline_minutes | type == "number") and
  ([.sft, .rl, .student][] | (.greedy | rate) and (.pass1_t06 | rate) and (.pass1_t1 | rate)
     and (.format_rate | rate) and (.standard_errors.greedy | type == "number")) and
  (.bars | length == 6) and ([.bars[] | .met | type == "boolean"] | all) and
  ([.stage_seconds | to_entries[] | .value >= 0] | length == 8) ' "$summary" > /dev/null \
  || { echo "summary.json lacks a key or a rate outside [0, 1]:"; cat "$summary"; exit 1; }
test "$(wc -l < "$out/demo/rl/metrics.jsonl")" -eq 2 || { echo "GRPO did not log 2 steps"; exit 1; }
echo "demo smoke: every stage ran; $(jq -c . "$summary")"
