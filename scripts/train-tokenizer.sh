#!/usr/bin/env bash
# Regenerates core/tokenizer/data/mivla_tiny_spm.model, the SentencePiece unigram model of the `tiny`
# config, from core/tokenizer/data/instructions.txt with Debian's spm_train (package `sentencepiece`).
#
# The corpus is lower-cased (ASCII, `tr A-Z a-z`) and the model uses the `identity` normalisation rule:
# no precompiled charsmap, so the runtime tokenizer (core/tokenizer, which does not link libsentencepiece)
# reproduces the normalisation exactly by lower-casing and collapsing spaces itself.
#
# The ids follow T5: pad 0, eos 1, unk 2, no BOS. Training is single-threaded and the paths are relative
# to the repository root (spm_train records them inside the model), so the output is byte-identical on
# every run with the same sentencepiece version (0.1.97 in bookworm).
#
#   scripts/train-tokenizer.sh            # rewrite the committed model
#   scripts/train-tokenizer.sh --check    # exit 1 if the committed model differs from a fresh one
#
# After retraining, regenerate the reference ids the tests compare against:
#   core/tokenizer/testdata/make_golden.sh
set -euo pipefail

cd "$(dirname "$0")/.."
export LC_ALL=C  # byte-wise `tr` and a locale-independent spm_train
readonly DATA=core/tokenizer/data
readonly PREFIX="${DATA}/mivla_tiny_spm"
readonly VOCAB_SIZE=${MIVLA_TOKENIZER_VOCAB_SIZE:-512}

command -v spm_train >/dev/null || { echo "spm_train missing: apt-get install sentencepiece" >&2; exit 2; }

train() {  # $1: output prefix (relative to the repository root)
  # spm_train records the input path inside the model: keep it relative and fixed.
  local lower="${DATA}/instructions.lower.txt"
  tr 'A-Z' 'a-z' < "${DATA}/instructions.txt" > "${lower}"
  spm_train \
    --input="${lower}" \
    --model_prefix="$1" \
    --model_type=unigram \
    --vocab_size="${VOCAB_SIZE}" \
    --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 \
    --character_coverage=1.0 \
    --required_chars="abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()[]{}<>-_+=/*%&#@$~" \
    --normalization_rule_name=identity \
    --num_threads=1 \
    --random_seed=20250101 \
    --minloglevel=2
  rm -f "$1.vocab" "${lower}"
}

if [[ "${1:-}" == "--check" ]]; then
  cp "${PREFIX}.model" /tmp/mivla_tiny_spm.committed.$$
  trap 'mv /tmp/mivla_tiny_spm.committed.$$ "${PREFIX}.model"' EXIT
  train "${PREFIX}"
  cmp -s "${PREFIX}.model" /tmp/mivla_tiny_spm.committed.$$ \
    && echo "tokenizer model is up to date" \
    || { echo "tokenizer model differs from a fresh training run" >&2; exit 1; }
else
  train "${PREFIX}"
  echo "wrote ${PREFIX}.model ($(stat -c %s "${PREFIX}.model") bytes, vocab ${VOCAB_SIZE})"
fi
