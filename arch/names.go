package arch

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Match is a tensor name resolved through a family's table.
type Match struct {
	// Name is the name on the other side.
	Name string
	// Tensor is the table entry that matched.
	Tensor Tensor
	// Layer and Expert are the numbers in the name, -1 where it has none.
	Layer, Expert int
}

var (
	patternsMu sync.Mutex
	patterns   = map[string]*regexp.Regexp{}
)

// pattern turns "blk.{L}.attn_q.weight" into a regexp capturing the layer
// (and "{E}", the expert), compiled once per pattern.
func pattern(p string) *regexp.Regexp {
	patternsMu.Lock()
	defer patternsMu.Unlock()
	if re, ok := patterns[p]; ok {
		return re
	}
	q := regexp.QuoteMeta(p)
	q = strings.ReplaceAll(q, `\{L\}`, `(?P<L>\d+)`)
	q = strings.ReplaceAll(q, `\{E\}`, `(?P<E>\d+)`)
	re := regexp.MustCompile("^" + q + "$")
	patterns[p] = re
	return re
}

// number returns the named group of m as an int, -1 when absent.
func number(re *regexp.Regexp, m []string, group string) int {
	i := re.SubexpIndex(group)
	if i < 0 || m[i] == "" {
		return -1
	}
	n, err := strconv.Atoi(m[i])
	if err != nil {
		return -1
	}
	return n
}

// fill puts layer and expert numbers into a pattern.
func fill(p string, layer, expert int) string {
	p = strings.ReplaceAll(p, "{L}", strconv.Itoa(layer))
	return strings.ReplaceAll(p, "{E}", strconv.Itoa(expert))
}

// lookup finds name among the from-side patterns of the table.
func (f *Family) lookup(name string, toGGUF bool) (Match, bool) {
	for _, t := range f.Tensors {
		from, to := t.HF, t.GGUF
		if !toGGUF {
			from, to = to, from
		}
		re := pattern(from)
		m := re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		l, e := number(re, m, "L"), number(re, m, "E")
		return Match{Name: fill(to, l, max(e, 0)), Tensor: t, Layer: l, Expert: e}, true
	}
	return Match{}, false
}

// GGUF maps an HF tensor name to llama.cpp's name, after rewriting the
// family's HF prefixes. For an expert tensor that GGUF stacks, Name is the
// stacked tensor and Expert the slice this tensor fills.
func (f *Family) GGUF(hf string) (Match, bool) {
	for _, p := range f.HFPrefixes {
		if rest, ok := strings.CutPrefix(hf, p.From); ok {
			if m, ok := f.lookup(p.To+rest, true); ok {
				return m, true
			}
		}
	}
	return f.lookup(hf, true)
}

// HF maps a GGUF tensor name to its Hugging Face name. For a stacked
// expert tensor, Name is expert 0's; use ExpertName for the others.
func (f *Family) HF(gguf string) (Match, bool) {
	return f.lookup(gguf, false)
}

// ExpertName is the HF name of expert e's slice of a stacked tensor m.
func (m Match) ExpertName(e int) string {
	return fill(m.Tensor.HF, m.Layer, e)
}

// GGUFName is GGUF for callers that need only the name and transform.
func (f *Family) GGUFName(hf string) (string, Tensor, bool) {
	m, ok := f.GGUF(hf)
	return m.Name, m.Tensor, ok
}

// HFName is HF for callers that need only the name and transform.
func (f *Family) HFName(gguf string) (string, Tensor, bool) {
	m, ok := f.HF(gguf)
	return m.Name, m.Tensor, ok
}

// Skip reports whether an HF tensor is a buffer the family drops on import.
func (f *Family) Skip(hf string) bool {
	return f.HFSkip != nil && f.HFSkip.MatchString(hf)
}

// LayerOf returns the layer number in a GGUF name like blk.7.attn_q.weight.
func LayerOf(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return 0, false
	}
	i := strings.IndexByte(rest, '.')
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:i])
	return n, err == nil
}

// Generated names the tensors llama.cpp's converter computes from
// config.json rather than reading them from the checkpoint.
var Generated = map[string]bool{
	"rope_freqs.weight":         true,
	"rope_factors_long.weight":  true,
	"rope_factors_short.weight": true,
}

// SortKey orders GGUF tensors as llama.cpp's converter writes them:
// generated tensors first, then by HF name (gguf-py reads safetensors keys
// sorted), a stacked expert tensor where its layer's last expert comes, its
// table order breaking ties. nExperts is the expert count (0 without).
func (f *Family) SortKey(gguf string, nExperts int) (group int, key string, idx int) {
	if Generated[gguf] {
		return 0, gguf, 0
	}
	m, ok := f.HF(gguf)
	if !ok {
		return 2, gguf, 0
	}
	for i, t := range f.Tensors {
		if t.GGUF == m.Tensor.GGUF {
			idx = i
			break
		}
	}
	if m.Tensor.Stacked() {
		// Stacked when the last HF tensor of the layer's experts arrives
		// in name order: the largest name over the layer's experts, where
		// "experts.9." sorts after "experts.63.".
		e := lastInNameOrder(nExperts)
		last := ""
		for _, t := range f.Tensors {
			if t.Stacked() {
				last = max(last, fill(t.HF, m.Layer, e))
			}
		}
		return 1, last, idx
	}
	return 1, m.Name, idx
}

// lastInNameOrder returns the expert number among 0..n-1 whose name
// ("<e>." inside a tensor name) sorts last as a string.
func lastInNameOrder(n int) int {
	best, bestKey := 0, ""
	for e := range n {
		if k := strconv.Itoa(e) + "."; k > bestKey {
			best, bestKey = e, k
		}
	}
	return best
}

// KeepF32 reports whether llama.cpp's converter writes a tensor as F32
// whatever the output type: 1-D tensors (norms, biases, generated
// factors), norm weights, and MoE routers (ffn_gate_inp).
func KeepF32(gguf string, shape []int64) bool {
	return len(shape) <= 1 || strings.HasSuffix(gguf, "_norm.weight") || strings.HasSuffix(gguf, "ffn_gate_inp.weight")
}
