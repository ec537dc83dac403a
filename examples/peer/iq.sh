#!/bin/bash
# The IQ quantizations side by side on tmpfs, with the importance matrix on
# both sides, alternating (which tool goes first swaps every round), N rounds:
#   iq.sh LORAKIT_BIN LLAMA_BIN_DIR DIR [N]
# DIR holds gpt2-small-f32.gguf and imatrix.gguf (go run ./examples/peer DIR).
# Prints the load average per round, "tool type wall-s user-s sys-s peak-KiB"
# per run, then whether each pair of outputs is byte-identical.
LK=$1; B=$2; D=$3; N=${4:-2}
IN=$D/gpt2-small-f32.gguf; IM=$D/imatrix.gguf
TYPES=${TYPES:-IQ2_XS IQ3_S IQ4_XS}
t() { # t NAME TYPE CMD...: wall seconds and peak RSS (GNU time, KiB)
  local name=$1 q=$2; shift 2
  /usr/bin/time -o $D/.time -f "%e %U %S %M" "$@" >/dev/null 2>$D/.err || { echo "$name $q FAILED"; tail -3 $D/.err; }
  echo "$name $q $(cat $D/.time)"
}
lk() { t lorakit $1 $LK quantize --force --imatrix $IM $IN $D/lk-$1.gguf $1; }
ll() { t llama $1 $B/llama-quantize --imatrix $IM $IN $D/ll-$1.gguf $1 2; }
for r in $(seq $N); do
  echo "round $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for q in $TYPES; do
    if [ $((r % 2)) = 1 ]; then lk $q; ll $q; else ll $q; lk $q; fi
  done
done
for q in $TYPES; do
  cmp -s $D/lk-$q.gguf $D/ll-$q.gguf && echo "$q: byte-identical" || { echo "$q: files differ"; $LK diff $D/lk-$q.gguf $D/ll-$q.gguf | tail -3; }
done
