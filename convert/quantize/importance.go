package quantize

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// ErrImatrixRequired is wrapped by the error for a tensor whose type needs
// importance data (IQ1_S ... IQ3_XXS, Q2_K in a Q2_K_S file) when none is
// given or the matrix has no entry for it. It wraps format.ErrNotFound.
var ErrImatrixRequired = fmt.Errorf("this quantization requires an importance matrix: %w", format.ErrNotFound)

// The metadata keys llama-quantize adds when it uses an importance matrix.
const (
	KeyImatrixFile    = "quantize.imatrix.file"
	KeyImatrixDataset = "quantize.imatrix.dataset"
	KeyImatrixEntries = "quantize.imatrix.entries_count"
	KeyImatrixChunks  = "quantize.imatrix.chunks_count"
)

// importance is the importance data llama-quantize hands to the
// quantizer: per weight name, the per-column means.
type importance map[string][]float32

// prepareImportance applies --include-weights / --exclude-weights to the
// matrix (substring matches, as llama-quantize's prepare_imatrix) and
// returns the per-column means, checked finite and not negative, and the
// metadata
// llama-quantize records. Both are nil without a matrix or when the
// filters leave no entry.
func prepareImportance(opt *Options) (importance, format.Metadata, error) {
	m := opt.Imatrix
	if m == nil {
		return nil, nil, nil
	}
	if len(opt.IncludeWeights) > 0 && len(opt.ExcludeWeights) > 0 {
		return nil, nil, fmt.Errorf("--include-weights and --exclude-weights cannot be used together: %w", format.ErrInvalidOption)
	}
	contains := func(name string, subs []string) bool {
		for _, s := range subs {
			if strings.Contains(name, s) {
				return true
			}
		}
		return false
	}
	imp := importance{}
	for i := range m.Entries {
		e := &m.Entries[i]
		if contains(e.Name, opt.ExcludeWeights) || (len(opt.IncludeWeights) > 0 && !contains(e.Name, opt.IncludeWeights)) {
			continue
		}
		imp[e.Name] = e.Importance()
	}
	if len(imp) == 0 {
		return nil, nil, nil
	}
	for _, name := range sortedKeys(imp) {
		for j, v := range imp[name] {
			if !finite(v) || v < 0 { // llama-quantize refuses non-finite values; ggml's searches need v ≥ 0
				return nil, nil, fmt.Errorf("imatrix entry %q: value %d is %v (want finite and ≥ 0): %w", name, j, v, format.ErrFormat)
			}
		}
	}
	md := format.Metadata{{Key: KeyImatrixFile, Value: truncate(opt.ImatrixFile, 127)}}
	if len(m.Datasets) > 0 {
		md = append(md, format.KV{Key: KeyImatrixDataset, Value: truncate(m.Datasets[0], 127)})
	}
	md = append(md, format.KV{Key: KeyImatrixEntries, Value: uint32(len(imp))})
	if m.Chunks > 0 {
		md = append(md, format.KV{Key: KeyImatrixChunks, Value: uint32(m.Chunks)})
	}
	return imp, md, nil
}

// lookup returns the importance of the tensor t (named origName in the
// input) as llama-quantize finds it for a tensor it quantizes to dt: by
// name; of Cols x experts values; a size mismatch is an error except for
// the token embedding, which is then quantized without weights. ok is
// false when there is no entry.
func (imp importance) lookup(t format.TensorInfo, origName string) (w []float32, ok bool, err error) {
	w, ok = imp[origName]
	if !ok {
		return nil, false, nil
	}
	cols, experts := t.Shape[len(t.Shape)-1], int64(1)
	if len(t.Shape) >= 3 {
		experts = t.Shape[len(t.Shape)-3]
	}
	if int64(len(w)) != cols*experts {
		if categoryOf(t.Name) == catTokenEmbd {
			return nil, true, nil
		}
		return nil, true, fmt.Errorf("tensor %q: imatrix has %d values, the tensor needs %d (%d columns x %d experts): %w", t.Name, len(w), cols*experts, cols, experts, format.ErrShape)
	}
	return w, true, nil
}

// truncate cuts s to at most n bytes (llama-quantize's strncpy into 128
// bytes).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func sortedKeys(m importance) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func finite(v float32) bool { return v-v == 0 }
