package convert

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// fusedExperts matches the 3-D expert parameters transformers 5 keeps for
// Mixtral and Qwen3-MoE, in checkpoints saved in that layout
// (save_original_format=False, or released that way), and PEFT
// target_parameters adapters name after them: gate_up_proj
// (E, 2·I, H), each expert's gate rows first, and down_proj (E, H, I).
var fusedExperts = regexp.MustCompile(`^(.*\.)?layers\.(\d+)\.mlp\.experts\.(gate_up_proj|down_proj)$`)

// fusedRouter is transformers 5's router name in those checkpoints.
var fusedRouter = regexp.MustCompile(`^(.*\.)?layers\.(\d+)\.mlp\.gate\.weight$`)

// unfused presents a checkpoint with fused 3-D expert parameters under the
// per-expert names of the family's table (one (I, H) or (H, I) matrix per
// expert and projection, each a contiguous slice of the fused tensor, so
// nothing is copied), and its router under the family's router name.
type unfused struct {
	format.Source
	infos   []format.TensorInfo
	slices  map[string]fusedSlice // per-expert name -> where its bytes are
	renamed map[string]string     // family name -> checkpoint name
	left    map[string]int        // fused tensor -> slices not yet released
}

// fusedSlice is bytes [off, off+n) of the fused tensor from.
type fusedSlice struct {
	from   string
	off, n int64
}

// unfuseExperts wraps src when it holds fused expert parameters of family
// f; otherwise it returns src. hidden is config.json's hidden size, which
// tells the (E, 2·I, H) layout from a transposed one.
func unfuseExperts(src format.Source, f *arch.Family, hidden int, where string) (format.Source, error) {
	u := &unfused{Source: src, slices: map[string]fusedSlice{}, renamed: map[string]string{}, left: map[string]int{}}
	fused := false
	for _, t := range src.Tensors() {
		if fusedExperts.MatchString(t.Name) {
			fused = true
		}
	}
	if !fused {
		return src, nil
	}
	for _, t := range src.Tensors() {
		if m := fusedRouter.FindStringSubmatch(t.Name); m != nil {
			if r, ok := f.HF("blk." + m[2] + ".ffn_gate_inp.weight"); ok && r.Name != t.Name {
				u.renamed[r.Name] = t.Name
				u.infos = append(u.infos, format.TensorInfo{Name: r.Name, DType: t.DType, Shape: t.Shape})
				continue
			}
		}
		m := fusedExperts.FindStringSubmatch(t.Name)
		if m == nil {
			u.infos = append(u.infos, t)
			continue
		}
		layer, _ := strconv.Atoi(m[2])
		if err := u.split(t, f, layer, m[3] == "gate_up_proj", hidden); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	return u, nil
}

// split lists the per-expert slices of one fused parameter.
func (u *unfused) split(t format.TensorInfo, f *arch.Family, layer int, gateUp bool, hidden int) error {
	if len(t.Shape) != 3 || !t.DType.IsFloat() || t.Shape[0] <= 0 {
		return fmt.Errorf("tensor %q is %v %v, want a float stack of expert matrices: %w", t.Name, t.DType, t.Shape, format.ErrShape)
	}
	E, rows, cols := t.Shape[0], t.Shape[1], t.Shape[2]
	parts := []string{"ffn_down_exps"}
	if gateUp {
		parts = []string{"ffn_gate_exps", "ffn_up_exps"}
		if rows%2 != 0 || (hidden > 0 && cols != int64(hidden)) {
			return fmt.Errorf("tensor %q is %v: want (experts, 2·intermediate, hidden %d) (a transposed layout is not read): %w", t.Name, t.Shape, hidden, format.ErrShape)
		}
		rows /= 2
	} else if hidden > 0 && rows != int64(hidden) {
		return fmt.Errorf("tensor %q is %v: want (experts, hidden %d, intermediate) (a transposed layout is not read): %w", t.Name, t.Shape, hidden, format.ErrShape)
	}
	size := rows * cols * int64(t.DType.BlockBytes())
	for i, gguf := range parts {
		match, ok := f.HF(fmt.Sprintf("blk.%d.%s.weight", layer, gguf))
		if !ok {
			return fmt.Errorf("tensor %q: %s models have no stacked experts: %w", t.Name, f.Name, format.ErrUnsupported)
		}
		for e := range E {
			name := match.ExpertName(int(e))
			u.slices[name] = fusedSlice{from: t.Name, off: (e*int64(len(parts)) + int64(i)) * size, n: size}
			u.infos = append(u.infos, format.TensorInfo{Name: name, DType: t.DType, Shape: []int64{rows, cols}})
		}
	}
	u.left[t.Name] = int(E) * len(parts)
	return nil
}

// Tensors lists the checkpoint with per-expert names.
func (u *unfused) Tensors() []format.TensorInfo { return u.infos }

// TensorData returns a per-expert slice of a fused tensor, or a tensor as
// it is.
func (u *unfused) TensorData(name string) ([]byte, error) {
	if s, ok := u.slices[name]; ok {
		data, err := u.Source.TensorData(s.from)
		if err != nil {
			return nil, err
		}
		if int64(len(data)) < s.off+s.n {
			return nil, fmt.Errorf("tensor %q: %d bytes, expert slice ends at %d: %w", s.from, len(data), s.off+s.n, format.ErrFormat)
		}
		return data[s.off : s.off+s.n], nil
	}
	if from, ok := u.renamed[name]; ok {
		name = from
	}
	return u.Source.TensorData(name)
}

// Release releases a fused tensor once all its slices have been released.
func (u *unfused) Release(name string) {
	s, ok := u.slices[name]
	switch {
	case !ok:
		if from, ok := u.renamed[name]; ok {
			name = from
		}
		format.Release(u.Source, name)
	case u.left[s.from] > 0:
		u.left[s.from]--
		if u.left[s.from] == 0 {
			format.Release(u.Source, s.from)
		}
	}
}

// hiddenSize is config.json's hidden_size (0 when absent).
func hiddenSize(cfg arch.Config) int {
	v, _ := cfg.Number("hidden_size")
	return int(v)
}
