package quantize

import (
	"github.com/lorakit/lorakit/format"
)

// hparams are the model hyperparameters llama-quantize's mixture rules
// read, from the GGUF metadata ({arch}.block_count and so on).
type hparams struct {
	arch     string
	nLayer   int // block_count; counted from blk.N names when absent
	nHead    int
	nHeadKV  int
	nExpert  int
	is70B    bool // llama.cpp's LLM_TYPE_70B: 80-layer llama with grouped KV heads
	isFalcon bool
}

// readHParams reads the hyperparameters of md; names fills in the layer
// count of a file without {arch}.block_count (a safetensors checkpoint).
func readHParams(md format.Metadata, names []string) hparams {
	arch, _ := md.String("general.architecture")
	h := hparams{arch: arch, isFalcon: arch == "falcon"}
	h.nLayer = firstInt(md, arch+".block_count")
	if h.nLayer == 0 {
		for _, n := range names {
			if l, ok := layerOf(n); ok && l >= h.nLayer {
				h.nLayer = l + 1
			}
		}
	}
	h.nHead = firstInt(md, arch+".attention.head_count")
	h.nHeadKV = h.nHead
	if _, ok := md.Get(arch + ".attention.head_count_kv"); ok {
		h.nHeadKV = firstInt(md, arch+".attention.head_count_kv")
	}
	h.nExpert = firstInt(md, arch+".expert_count")
	h.is70B = arch == "llama" && h.nLayer == 80 && h.nHead != h.nHeadKV
	return h
}

// nGQA is hparams.n_gqa() of layer 0: query heads per KV head (0 without
// KV heads).
func (h hparams) nGQA() int {
	if h.nHeadKV == 0 {
		return 0
	}
	return h.nHead / h.nHeadKV
}

// firstInt returns the integer under key, or the first element of an
// integer array (per-layer head counts), or 0.
func firstInt(md format.Metadata, key string) int {
	if n, ok := md.Int(key); ok {
		return int(n)
	}
	v, _ := md.Get(key)
	switch a := v.(type) {
	case []uint32:
		if len(a) > 0 {
			return int(a[0])
		}
	case []int32:
		if len(a) > 0 {
			return int(a[0])
		}
	case []uint64:
		if len(a) > 0 {
			return int(a[0])
		}
	case []int64:
		if len(a) > 0 {
			return int(a[0])
		}
	}
	return 0
}
