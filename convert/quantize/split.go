package quantize

import (
	"fmt"
	"sort"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// --keep-split, as llama-quantize does it: the tensors are processed and
// written in the input's order (split index, then file offset) rather than
// the loader's name order; output shard i holds the tensors of input shard
// i. With more than one shard, every shard carries split.no (UINT16),
// split.count (UINT16) and split.tensors.count (INT32), in that order, at
// the end of its metadata: the first shard after the model's keys, the
// others alone. The files are named as llama_split_path names them:
// OUT-0000k-of-0000n.gguf for OUT.gguf, also when there is one shard (which
// then has no split keys).

// keepSplitOrder sorts infos into the input's order and returns each
// tensor's input shard (0-based). src must be GGUF: a split set (the
// first shard opened as one model) or a single file (one shard).
func keepSplitOrder(src format.Source, infos []format.TensorInfo) (map[string]int, error) {
	type pos struct {
		shard int
		off   int64
	}
	at := make(map[string]pos, len(infos))
	switch s := src.(type) {
	case *gguf.Set:
		index := map[string]int{}
		for i, p := range s.Paths() {
			index[p] = i
		}
		for _, t := range infos {
			p, off, ok := s.Shard(t.Name)
			if !ok {
				return nil, fmt.Errorf("--keep-split: tensor %q: no shard holds it: %w", t.Name, format.ErrNotFound)
			}
			at[t.Name] = pos{index[p], off}
		}
	default:
		h, ok := src.(format.Header)
		if !ok || src.Format() != "gguf" {
			return nil, fmt.Errorf("--keep-split: a %s input has no GGUF splits to keep: %w", src.Format(), format.ErrUnsupported)
		}
		for _, t := range infos {
			off, _ := h.TensorOffset(t.Name)
			at[t.Name] = pos{0, off}
		}
	}
	sort.SliceStable(infos, func(i, j int) bool {
		a, b := at[infos[i].Name], at[infos[j].Name]
		if a.shard != b.shard {
			return a.shard < b.shard
		}
		return a.off < b.off
	})
	shard := make(map[string]int, len(at))
	for n, p := range at {
		shard[n] = p.shard
	}
	return shard, nil
}

// assignShards sets each planned tensor's output shard from its input
// shard and adds the split keys to the metadata. A shard left without
// tensors (all its blocks pruned) is refused: llama-quantize cannot write
// it either.
func (p *Plan) assignShards(shard map[string]int) error {
	p.Shards = 1
	for i := range p.Tensors {
		s := shard[p.Tensors[i].In.Name]
		p.Tensors[i].Shard = s
		p.Shards = max(p.Shards, s+1)
	}
	seen := make([]bool, p.Shards)
	for _, t := range p.Tensors {
		seen[t.Shard] = true
	}
	for i, ok := range seen {
		if !ok && len(p.Tensors) > 0 {
			return fmt.Errorf("--keep-split: output shard %d would hold no tensor (pruned): %w", i+1, format.ErrUnsupported)
		}
	}
	if p.Shards > gguf.MaxShards {
		return fmt.Errorf("--keep-split: %d shards: %w", p.Shards, format.ErrUnsupported)
	}
	if p.Shards > 1 {
		p.Metadata = append(p.Metadata, p.splitKeys(0)...)
	}
	return nil
}

// splitKeys are shard i's split keys in llama-quantize's order and types.
func (p *Plan) splitKeys(i int) format.Metadata {
	return format.Metadata{
		{Key: gguf.KeySplitNo, Value: uint16(i)},
		{Key: gguf.KeySplitCount, Value: uint16(p.Shards)},
		{Key: gguf.KeySplitTensors, Value: int32(len(p.Tensors))},
	}
}

// ShardMetadata is the metadata of output shard i: Metadata for the first
// (split keys included when there are several), only the split keys for
// the others.
func (p *Plan) ShardMetadata(i int) format.Metadata {
	if i == 0 {
		return p.Metadata
	}
	return p.splitKeys(i)
}

// createKeepSplit starts the output shards of a --keep-split plan, named
// after out as llama-quantize names them.
func createKeepSplit(plan *Plan, out string, force bool) (*gguf.SplitWriter, error) {
	infos := make([]format.TensorInfo, len(plan.Tensors))
	starts := []int{0}
	for i, t := range plan.Tensors {
		infos[i] = t.Info()
		if i > 0 && t.Shard != plan.Tensors[i-1].Shard {
			starts = append(starts, i)
		}
	}
	prefix := gguf.OutputPrefix(out)
	paths := make([]string, plan.Shards)
	mds := make([]format.Metadata, plan.Shards)
	for i := range paths {
		paths[i] = gguf.SplitPath(prefix, i, plan.Shards)
		mds[i] = plan.ShardMetadata(i)
	}
	return gguf.CreateShards(paths, starts, infos, mds, force)
}
