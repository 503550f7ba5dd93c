#!/usr/bin/env bash
# The checks that need a CUDA GPU, as one script to run when a GPU host is lent (docs/gpu.md keeps
# its tables), and its CPU path, which CI runs so that the script does not rot:
#   scripts/gpu-check.sh            on the GPU host, from the repository root, with .gpu/ carried
#                                   (../shared/GPU.md: .gpu/debs from ../shared/gpu/fetch-debs.sh
#                                   and a copy of device-env.sh)
#   scripts/gpu-check.sh --cpu      the same steps on this machine's build/ (CPU LibTorch)
# Steps, each printing one line or table:
#   1. build (GPU: build-gpu/ against the CUDA LibTorch of the host's Python torch, with NCCL)
#   2. the policy, rollout and trainer on the device: greedy generation on the device equals the
#      CPU's tokens; 3 GRPO steps (rollout.workers=0, in-process grading) and 3 SFT steps with
#      run.device=cuda; 2 ranks over NCCL when the host has 2 GPUs
#   3. logits parity with Hugging Face transformers on the same safetensors
#      (tests/policy/hf_transformers_parity.py when transformers is installed; else the float64
#      reference tests/policy/hf_reference.py, as ctest runs it)
#   4. speed: bench/policy_bench on the device, beside ../shared/gpu/hf_deepseek_speed.py
set -euo pipefail
cd "$(dirname "$0")/.."
mode=gpu
[[ ${1:-} == --cpu ]] && mode=cpu
quick=${GPU_CHECK_QUICK:-}
out=${GPU_CHECK_DIR:-$(mktemp -d /tmp/forge_gpu_check.XXXXXX)}
say() { printf '\n== %s\n' "$*"; }

if [[ $mode == gpu ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L
  device=cuda
  build=build-gpu
  say "1. build against the CUDA LibTorch"
  # shellcheck disable=SC1091
  source .gpu/device-env.sh .gpu/debs
  # shellcheck disable=SC2086
  cmake -S . -B "$build" $FORGE_CMAKE_ARGS -DFORGE_BUILD_TESTS=ON >/dev/null
  cmake --build "$build" -j "$(nproc)" --target forge policy_bench policy_tests
else
  device=cpu
  build=${BUILD_DIR:-build}
  say "1. build: using $build (CPU)"
  [[ -x $build/forge ]] || { echo "gpu-check: $build/forge is missing: build first" >&2; exit 1; }
fi
forge="$build/forge"
gpus=0
[[ $mode == gpu ]] && gpus=$(nvidia-smi -L | wc -l)

say "2. policy, rollout and trainer on $device"
greedy() {
  "$forge" generate --config configs/tiny.yaml --prompt "User: 7+8*3-5\nAssistant: <think>" \
    --max-new-tokens 24 --temperature 0 --seed 1 "$@"
}
cpu_text=$(greedy run.device=cpu)
dev_text=$(greedy run.device="$device")
if [[ $cpu_text == "$dev_text" ]]; then
  echo "greedy generation on $device = on cpu (24 tokens)"
else
  echo "greedy generation differs: cpu '$cpu_text' vs $device '$dev_text'"
fi
"$forge" data gen --task arithmetic --ops 1 --n 150 --seed 1 --teacher --out "$out/train.jsonl" >/dev/null
small="run.seed=3 run.device=$device data.train=$out/train.jsonl rollout.workers=0 reward.in_process=true"
small+=" trainer.batch_size=4 rollout.n=4 rollout.max_new_tokens=24 trainer.samples_per_step=0"
"$forge" sft --config configs/tiny.yaml $small sft.max_steps=3 sft.eval_every=0 run.dir="$out/sft" |
  tail -1
"$forge" run configs/tiny.yaml $small trainer.total_steps=3 run.dir="$out/grpo" | tail -1
if ((gpus >= 2)); then
  "$forge" run --nproc 2 configs/tiny.yaml $small trainer.total_steps=3 dist.backend=nccl \
    run.dir="$out/grpo2" | tail -1
fi

say "3. logits parity: every family against the float64 reference and Hugging Face transformers"
# policy_tests writes each shrunk family (tests/policy/hf_families_test.cc: DeepSeek-V2/V3 with FP8
# blocks, Qwen2, Llama 3, Qwen3, Qwen3-MoE), compares Forge's logits with the float64 reference and
# saves Forge's checkpoint and logits under $parity/<case>/; transformers then loads each folder.
# The reference needs a Python with torch: Debian's by default, else this host's python3.
parity="$out/parity"
mkdir -p "$parity"
if ! /usr/bin/python3 -I -S -c 'import sys; sys.path.append("/usr/lib/python3/dist-packages"); import torch' \
    2>/dev/null && python3 -c 'import torch' 2>/dev/null; then
  export FORGE_REFERENCE_PYTHON=python3
fi
FORGE_PARITY_DIR="$parity" "$build/tests/policy/policy_tests" \
  --gtest_filter='HfReference.*:HfFamilies.*' >"$out/families.log" 2>&1 ||
  { cat "$out/families.log"; echo "gpu-check: the float64 reference comparison failed" >&2; exit 1; }
grep -E '^(deepseek|qwen|llama)|SKIPPED|PASSED' "$out/families.log" || true
if python3 -c 'import transformers' 2>/dev/null; then
  python3 tests/policy/hf_transformers_parity.py "$parity" --device "$device" --allow-v2-yarn ||
    parity_failed=1
else
  echo "transformers is not installed here: the families are checked against the float64 reference only"
fi

say "4. speed on $device"
bench_args=()
[[ -n $quick ]] && bench_args=(--quick)
if [[ $mode == gpu ]]; then
  "$build/bench/policy_bench" --device cuda "${bench_args[@]}" || true
  python3 ../shared/gpu/hf_deepseek_speed.py || true
else
  "$build/bench/policy_bench" --threads "$(nproc)" "${bench_args[@]}"
fi
[[ -z ${GPU_CHECK_DIR:-} ]] && rm -rf "$out"
echo
if [[ -n ${parity_failed:-} ]]; then
  echo "gpu-check: done ($mode); logits differ from transformers (step 3)"
  exit 1
fi
echo "gpu-check: done ($mode)"
