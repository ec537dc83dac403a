#!/bin/bash
# Side by side on tmpfs, same inputs, alternating, N rounds:
#   run.sh LORAKIT_BIN LLAMA_BIN_DIR DIR [N]
# DIR holds gpt2-small-f32.gguf and lora-qkv-r8.gguf (go run ./examples/peer DIR).
# With LKB=another lorakit binary, runs it too (before/after). QS="Q4_K_M"
# (say) limits the quantization types; MERGE=0 skips the merge.
# Prints "tool step wall-s user-s sys-s peak-KiB" per run, then the output comparisons.
LK=$1; B=$2; D=$3; N=${4:-3}
IN=$D/gpt2-small-f32.gguf; LORA=$D/lora-qkv-r8.gguf
t() { # t NAME STEP CMD...: wall seconds and peak RSS (GNU time, KiB)
  local name=$1 step=$2; shift 2
  /usr/bin/time -o $D/.time -f "%e %U %S %M" "$@" >/dev/null 2>$D/.err || { echo "$name $step FAILED"; tail -3 $D/.err; }
  echo "$name $step $(cat $D/.time)"
}
for r in $(seq $N); do
  t cat read-input sh -c "cat $IN > /dev/null"
  for q in ${QS:-Q8_0 F16 Q4_K_M}; do
    t lorakit $q $LK quantize --force $IN $D/lk-$q.gguf $q
    [ -n "$LKB" ] && t lorakit-before $q $LKB quantize --force $IN $D/lk-$q.gguf $q
    t llama $q $B/llama-quantize $IN $D/ll-$q.gguf $q 2
    sz=$(stat -c %s $D/lk-$q.gguf)
    t dd write-$q sh -c "head -c $sz /dev/zero > $D/.w; rm $D/.w"
  done
  [ "${MERGE:-1}" = 0 ] && continue
  t lorakit merge $LK merge --force $IN --adapter $LORA -o $D/lk-merged.gguf
  [ -n "$LKB" ] && t lorakit-before merge $LKB merge --force $IN --adapter $LORA -o $D/lk-merged.gguf
  t llama merge $B/llama-export-lora -m $IN --lora $LORA -o $D/ll-merged.gguf -t 2
done
for q in ${QS:-Q8_0 F16 Q4_K_M}; do
  cmp -s $D/lk-$q.gguf $D/ll-$q.gguf && echo "$q: byte-identical" || { echo "$q: files differ"; $LK diff $D/lk-$q.gguf $D/ll-$q.gguf | tail -3; }
done
[ "${MERGE:-1}" = 0 ] && exit 0
$LK diff --atol 1e-6 $D/lk-merged.gguf $D/ll-merged.gguf | tail -3; echo "merge diff exit $?"
