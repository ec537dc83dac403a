package convert

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// maxHFCount bounds every count config.json gives (layers, heads, widths,
// context), as model.Load bounds the GGUF keys they become: far above any
// real model, and low enough that no size computed from them overflows.
const maxHFCount = 1 << 24

// countKeys are the hyperparameters that must be positive counts.
var countKeys = []string{"context_length", "embedding_length", "feed_forward_length", "block_count",
	"attention.head_count", "attention.head_count_kv", "rope.dimension_count",
	"attention.key_length", "attention.value_length"}

// validateHF checks a Hugging Face model before it is written as GGUF, as
// model.Load checks a GGUF before running it, so that a converted file is
// one llama.cpp and lorakit can load: config.json fields that the
// architecture reads are numbers (not silently replaced by a default),
// counts are positive and bounded, heads divide evenly, floats are finite,
// and the tensors present (the index and the shards) hold every layer the
// config names, each with the same set of tensors, and no other.
func validateHF(a *arch.Family, cfg map[string]any, params format.Metadata, infos []format.TensorInfo, cfgName, dir string) error {
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", cfgName, fmt.Sprintf(msg, args...), format.ErrFormat)
	}
	for _, p := range a.Params {
		if v, ok := cfg[p.JSON]; ok && v != nil {
			if _, isNum := v.(float64); !isNum {
				return bad("%q is %s, not a number", p.JSON, clip(fmt.Sprint(v)))
			}
		}
	}
	key := func(k string) string { return a.Name + "." + k }
	for _, k := range countKeys {
		if v, ok := params.Int(key(k)); ok && (v <= 0 || v > maxHFCount) {
			return bad("%s = %d, want a count in [1, %d]", jsonField(a, k), v, maxHFCount)
		}
	}
	for _, kv := range params {
		if f, ok := kv.Value.(float32); ok && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || f < 0) {
			return bad("%s = %v, want a finite number >= 0", jsonField(a, strings.TrimPrefix(kv.Key, a.Name+".")), f)
		}
	}
	heads, hasHeads := params.Int(key("attention.head_count"))
	if kv, ok := params.Int(key("attention.head_count_kv")); ok && hasHeads && heads%kv != 0 {
		return bad("%d attention heads are not a multiple of %d key/value heads", heads, kv)
	}
	if _, hasKeyLen := params.Int(key("attention.key_length")); !hasKeyLen && hasHeads {
		if embd, ok := params.Int(key("embedding_length")); ok && embd%heads != 0 {
			return bad("embedding_length %d is not a multiple of %d heads", embd, heads)
		}
	}
	if layers, ok := params.Int(key("block_count")); ok {
		return checkLayers(infos, int(layers), cfgName, dir)
	}
	return nil
}

// jsonField names the config.json field a GGUF key comes from, with the
// key: `"n_head" (attention.head_count)`.
func jsonField(a *arch.Family, key string) string {
	for _, p := range a.Params {
		if p.Key == key {
			return fmt.Sprintf("%q (%s)", p.JSON, key)
		}
	}
	return key
}

// checkLayers requires tensors blk.0 ... blk.(layers-1), each layer with the
// same tensor names as layer 0, and no block beyond: a missing shard, an
// index listing part of the checkpoint or a config.json claiming more
// layers than stored is an error naming the first gap.
func checkLayers(infos []format.TensorInfo, layers int, cfgName, dir string) error {
	perLayer := map[int][]string{}
	for _, t := range infos {
		rest, ok := strings.CutPrefix(t.Name, "blk.")
		if !ok {
			continue
		}
		num, suffix, _ := strings.Cut(rest, ".")
		l, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		if l >= layers {
			return fmt.Errorf("%s: tensor %q is beyond the %d layers %s names: %w", dir, t.Name, layers, cfgName, format.ErrFormat)
		}
		perLayer[l] = append(perLayer[l], suffix)
	}
	want := slices.Sorted(slices.Values(perLayer[0]))
	for l := range layers {
		got := slices.Sorted(slices.Values(perLayer[l]))
		if len(got) == 0 {
			return fmt.Errorf("%s: %s names %d layers, but no tensor of layer %d is present (a shard missing from the index or the directory?): %w", dir, cfgName, layers, l, format.ErrNotFound)
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s: layer %d holds %v, layer 0 holds %v (a shard missing?): %w", dir, l, got, want, format.ErrNotFound)
		}
	}
	return nil
}
