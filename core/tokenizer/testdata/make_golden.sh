#!/usr/bin/env bash
# Regenerates core/tokenizer/testdata/spm_golden.tsv: Debian's reference ids (spm_encode, package
# `sentencepiece`) for every 4th lower-cased corpus line and for extra_sentences.txt (unknown characters,
# odd spacing, invalid UTF-8). tokenizer_test compares the C++ tokenizer against it, so the comparison
# runs where spm_encode is not installed. Rerun after scripts/train-tokenizer.sh changes the model.
# Format: one "ids<TAB>sentence" per line, ids space-separated, without EOS.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export LC_ALL=C
readonly T=core/tokenizer/testdata
{ tr 'A-Z' 'a-z' < core/tokenizer/data/instructions.txt | awk 'NR % 4 == 1'; cat "${T}/extra_sentences.txt"; } \
  > "${T}/golden_input.tmp"
spm_encode --model core/tokenizer/data/mivla_tiny_spm.model --output_format=id < "${T}/golden_input.tmp" \
  | paste - "${T}/golden_input.tmp" > "${T}/spm_golden.tsv"
rm -f "${T}/golden_input.tmp"
echo "wrote ${T}/spm_golden.tsv ($(wc -l < "${T}/spm_golden.tsv") sentences)"
