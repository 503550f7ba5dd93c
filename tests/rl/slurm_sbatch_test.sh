#!/usr/bin/env bash
# examples/slurm/grpo.sbatch under a real Slurm on this machine: Debian's munged, slurmctld and
# slurmd, configured for localhost in a temporary folder (their own ports, state and sockets; no
# system configuration touched). The example is submitted with 2 tasks: two trainer ranks meet
# through the SLURM_* variables (rl/dist/rank_env.h) and finish 2 GRPO steps.
#   tests/rl/slurm_sbatch_test.sh BUILD_DIR      (as root: slurmd runs the job's steps)
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "slurm_sbatch_test: slurmd must run as root to start job steps" >&2
  exit 1
fi
for tool in munged slurmctld slurmd sbatch sinfo; do
  command -v "$tool" >/dev/null || { echo "slurm_sbatch_test: $tool missing (scripts/setup.sh)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/forge_slurm.XXXXXX)
cleanup() {
  for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -I -S -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$dir/state" "$dir/spool"
dd if=/dev/urandom of="$dir/munge.key" bs=1 count=1024 2>/dev/null
chmod 400 "$dir/munge.key"
cat >"$dir/slurm.conf" <<CONF
ClusterName=forgetest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$dir/slurm.conf
munged --force --socket="$dir/munge.sock" --key-file="$dir/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge.seed"
slurmctld -i
slurmd -N localhost
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -q idle || { echo "slurm did not come up:"; tail -5 "$dir"/*.log; exit 1; }

"$build/forge" data gen --task arithmetic --n 64 --seed 1 --out "$dir/train.jsonl" >/dev/null
cat >"$dir/run.yaml" <<YAML
run: {seed: 3, threads: 1}
model:
  config: $src/configs/models/tiny.json
  num_hidden_layers: 2
  hidden_size: 64
  intermediate_size: 96
  moe_intermediate_size: 32
data: {train: train.jsonl}
rollout: {workers: 0, n: 4, max_new_tokens: 16}
reward: {in_process: true}
trainer: {total_steps: 2, batch_size: 4, lr: 1.0e-3, micro_batch_size: 8}
dist: {timeout_s: 60}
YAML

status=0
sbatch --wait --ntasks=2 --chdir="$dir" --output="$dir/job.log" \
  --export=ALL,FORGE="$build/forge" \
  "$src/examples/slurm/grpo.sbatch" "$dir/run.yaml" run.dir="$dir/run" >/dev/null || status=$?
if ((status != 0)); then
  echo "slurm_sbatch_test: the job failed ($status):"
  cat "$dir/job.log" || true
  exit 1
fi
steps=$(wc -l <"$dir/run/metrics.jsonl")
[[ $steps -eq 2 ]] || { echo "expected 2 steps, metrics.jsonl has $steps"; cat "$dir/job.log"; exit 1; }
for rank in 0 1; do
  grep -q "rank $rank of 2 (slurm)" "$dir/run/logs/rank-$rank.log" ||
    { echo "rank $rank did not join as a Slurm task:"; cat "$dir/run/logs/rank-$rank.log"; exit 1; }
done
echo "slurm_sbatch_test: 2 Slurm tasks trained 2 steps as 2 ranks"
