// Package units parses the sizes people type on command lines: "5GB" as
// Hugging Face transformers reads it (max_shard_size), "1M" as
// llama-gguf-split reads it (--split-max-size), "512MiB", or plain bytes.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// multipliers by unit, upper-cased. K/M/G/T and KB/MB/GB/TB are decimal
// (llama-gguf-split's M = 1000*1000, transformers' GB = 10^9); KiB/MiB/
// GiB/TiB binary; B is bytes.
var multipliers = map[string]int64{
	"": 1, "B": 1,
	"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
}

// ParseBytes reads a byte count: a non-negative integer with an optional
// unit (see multipliers; case-insensitive). As in transformers, a unit
// ending in a lower-case "b" after the prefix ("5Gb", "100mb") counts bits,
// an eighth of the bytes.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a whole number with an optional unit (5GB, 1M, 512MiB, 1000000)", clip(s))
	}
	num, unitText := t[:i], strings.TrimSpace(t[i:])
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", clip(s), err)
	}
	mult, ok := multipliers[strings.ToUpper(unitText)]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, K/KB, M/MB, G/GB, T/TB or KiB, MiB, GiB, TiB)", clip(s), clip(unitText))
	}
	bits := len(unitText) == 2 && unitText[1] == 'b'
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: more than 2^63 bytes", clip(s))
	}
	n *= mult
	if bits {
		n /= 8
	}
	return n, nil
}

// Bytes is a byte count that implements pflag.Value (and flag.Value), so a
// command-line flag takes units: f.Var((*units.Bytes)(&opts.size), ...).
type Bytes int64

// String implements pflag.Value.
func (b *Bytes) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set implements pflag.Value.
func (b *Bytes) Set(s string) error {
	n, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = Bytes(n)
	return nil
}

// Type implements pflag.Value.
func (b *Bytes) Type() string { return "size" }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
