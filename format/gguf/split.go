package gguf

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Split GGUF: a model written as several GGUF files ("shards") the way
// llama.cpp's llama-gguf-split writes them and its loader reads them. The
// first shard holds every metadata key of the model; each shard holds the
// three split keys and its own tensors, in the model's order.
const (
	// KeySplitNo is the 0-based index of a shard (UINT16).
	KeySplitNo = "split.no"
	// KeySplitCount is the number of shards of the set (UINT16).
	KeySplitCount = "split.count"
	// KeySplitTensors is the number of tensors of the whole set (INT32).
	KeySplitTensors = "split.tensors.count"
	// MaxShards is the most shards a set can have (split.count is UINT16).
	MaxShards = math.MaxUint16
)

// splitKey reports whether key is one of the three split keys.
func splitKey(key string) bool {
	return key == KeySplitNo || key == KeySplitCount || key == KeySplitTensors
}

// SplitPath returns the file name of shard no (0-based) of a set of count
// shards: prefix-%05d-of-%05d.gguf, as llama.cpp's llama_split_path.
func SplitPath(prefix string, no, count int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.gguf", prefix, no+1, count)
}

// SplitPrefix returns the prefix of path when path is named as shard no of
// count (see SplitPath), as llama.cpp's llama_split_prefix.
func SplitPrefix(path string, no, count int) (string, bool) {
	suffix := fmt.Sprintf("-%05d-of-%05d.gguf", no+1, count)
	if len(path) <= len(suffix) || !strings.HasSuffix(path, suffix) {
		return "", false
	}
	return path[:len(path)-len(suffix)], true
}

// OutputPrefix is the prefix of the shards written for the output path
// out: out without its ".gguf" extension (-o NAME.gguf writes
// NAME-00001-of-0000n.gguf ...).
func OutputPrefix(out string) string {
	return strings.TrimSuffix(out, ".gguf")
}

// ParseSplitSize parses a --split-max-size value: a positive whole number
// followed by K, M or G (decimal: 1000, 1000², 1000³ bytes, as
// llama-gguf-split counts them; it knows M and G).
func ParseSplitSize(s string) (int64, error) {
	units := map[byte]int64{'K': 1e3, 'M': 1e6, 'G': 1e9}
	if s == "" {
		return 0, fmt.Errorf("split size %q: want a number followed by K, M or G: %w", s, format.ErrInvalidOption)
	}
	unit, ok := units[s[len(s)-1]]
	if !ok {
		return 0, fmt.Errorf("split size %q: the unit must be K, M or G (e.g. 500M, 2G): %w", s, format.ErrInvalidOption)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("split size %q: want a positive whole number before the unit: %w", s, format.ErrInvalidOption)
	}
	return n * unit, nil
}

// PlanSplit groups infos, in order, into shards under lim exactly as
// llama-gguf-split does, and returns the index of each shard's first
// tensor. By size, a tensor (counted padded to 32 bytes) starts a new
// shard when it would take the current one past MaxBytes; by count, every
// MaxTensors-th tensor starts one. Only one of the limits may be set. A
// tensor larger than MaxBytes gets a shard of its own (llama-gguf-split
// refuses a first tensor that large; later ones it also puts alone).
func PlanSplit(infos []format.TensorInfo, lim format.SplitLimits) ([]int, error) {
	switch {
	case lim.MaxBytes < 0 || lim.MaxTensors < 0:
		return nil, fmt.Errorf("split limits %+v: negative: %w", lim, format.ErrInvalidOption)
	case lim.MaxBytes > 0 && lim.MaxTensors > 0:
		return nil, fmt.Errorf("split by size or by tensor count, not both: %w", format.ErrUnsupported)
	case !lim.Enabled():
		return nil, fmt.Errorf("split limits: neither a size nor a tensor count is given: %w", format.ErrInvalidOption)
	}
	starts := []int{0}
	var cur int64
	for i, t := range infos {
		n, err := t.NumBytes()
		if err != nil {
			return nil, err
		}
		n = alignUp(n, DefaultAlignment)
		var split bool
		if lim.MaxBytes > 0 {
			split = i > 0 && cur+n > lim.MaxBytes
		} else {
			split = i > 0 && i%lim.MaxTensors == 0
		}
		if split {
			starts = append(starts, i)
			cur = n
		} else {
			cur += n
		}
	}
	if len(starts) > MaxShards {
		return nil, fmt.Errorf("split into %d shards; a set holds at most %d: %w", len(starts), MaxShards, format.ErrUnsupported)
	}
	return starts, nil
}

// shardMetadata returns the metadata of shard no of count: the model's
// (without split keys) for the first, none for the others, followed by
// split.no, split.tensors.count and split.count in the order and types
// llama-gguf-split gives them.
func shardMetadata(md format.Metadata, no, count, tensors int) format.Metadata {
	var out format.Metadata
	if no == 0 {
		for _, kv := range md {
			if !splitKey(kv.Key) {
				out = append(out, kv)
			}
		}
	}
	return append(out,
		format.KV{Key: KeySplitNo, Value: uint16(no)},
		format.KV{Key: KeySplitTensors, Value: int32(tensors)},
		format.KV{Key: KeySplitCount, Value: uint16(count)})
}
