package analyze

import (
	"fmt"
	"os"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/mmap"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// Base supplies the base weights of adapters' modules, found through
// package resolve as merge finds them (names, prefixes, fused modules,
// transposed layouts, llama's q/k permutation).
type Base struct {
	b       *resolve.Base
	targets map[string]baseTarget
	misses  map[string]error
}

// baseTarget is the base tensor of one analysis module: a whole tensor,
// or expert e's slice of a stacked one.
type baseTarget struct {
	t      resolve.Target
	expert int // -1: not stacked
}

// NewBase returns a Base over b. It does not take b over: close b when
// done.
func NewBase(b *resolve.Base) *Base {
	return &Base{b: b, targets: map[string]baseTarget{}, misses: map[string]error{}}
}

// Modules gives a the base's naming and layout (resolve.Base.Adapt, which
// modifies a) and returns its modules for analysis, named as the adapter
// named them before (a stacked-expert module gives one module per expert,
// "<name>[e]"), each recorded with the base tensor it updates. A
// module whose tensor the base lacks is still returned; Weight reports why
// it has no weight. name refers to the adapter in errors.
func (r *Base) Modules(a *lora.Adapter, name string) ([]Module, error) {
	names := make([]string, len(a.Modules))
	for i, m := range a.Modules {
		names[i] = m.Name
	}
	if err := r.b.Adapt(a, name); err != nil {
		return nil, err
	}
	var mods []Module
	for i, m := range a.Modules {
		t, terr := r.b.Module(m)
		for e, x := range FromAdapter(&lora.Adapter{Modules: []*lora.Module{m}}) {
			expert := -1
			x.Name = names[i]
			if m.Experts > 0 {
				x.Name, expert = fmt.Sprintf("%s[%d]", names[i], e), e
			}
			mods = append(mods, x)
			if terr == nil {
				r.targets[x.Name] = baseTarget{t, expert}
				delete(r.misses, x.Name)
			} else if _, ok := r.targets[x.Name]; !ok {
				r.misses[x.Name] = terr
			}
		}
	}
	return mods, nil
}

// Weight returns the base weight W of the module name (as Modules
// returned it) in memory, (out, in) like ΔW, transposed back where the base
// stores it (in, out). Amplify streams W with Stream instead.
func (r *Base) Weight(name string) (*mat.Dense, error) {
	w, err := r.Stream(name)
	if err != nil {
		return nil, err
	}
	return denseOf(w)
}

// Stream is a BaseFunc: the base weight W of the module name (as Modules
// returned it), (out, in) like ΔW, read from the checkpoint's bytes a band
// of rows at a time (decoded as Base.Weight decodes them: dequantized,
// widened through float32), whose mapped pages leave the resident set once
// read. Only the pages of the band being read are resident, whatever W's
// size.
func (r *Base) Stream(name string) (Weight, error) {
	tg, ok := r.targets[name]
	if !ok {
		if err := r.misses[name]; err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("analyze: module %q: not given to Base.Modules: %w", name, format.ErrNotFound)
	}
	t := tg.t.Tensor
	s := t.Shape
	stacked := len(s) == 3 && !tg.t.Transposed // experts (E, out, in)
	if len(s) != 2 && !stacked || stacked != (tg.expert >= 0) {
		return nil, fmt.Errorf("base tensor %q has shape %v, want a matrix (or a stack of experts): %w", t.Name, s, format.ErrShape)
	}
	rows, cols := int(s[len(s)-2]), int(s[len(s)-1])
	rowBytes, err := t.DType.RowBytes(int64(cols))
	if err != nil {
		return nil, fmt.Errorf("base tensor %q: %w", t.Name, err)
	}
	format.Prefetch(r.b.Src, t.Name)
	raw, err := r.b.Src.TensorData(t.Name)
	if err != nil {
		return nil, err
	}
	size := int64(rows) * rowBytes
	off := int64(max(tg.expert, 0)) * size
	if off+size > int64(len(raw)) {
		return nil, fmt.Errorf("base tensor %q: %d bytes, want %d rows of %d: %w", t.Name, len(raw), rows, rowBytes, format.ErrShape)
	}
	return &mappedWeight{name: t.Name, raw: raw[off : off+size], dtype: t.DType, rows: rows, cols: cols,
		rowBytes: int(rowBytes), transposed: tg.t.Transposed}, nil
}

// mappedWeight is a base tensor's rows (an expert's slice of a stack),
// decoded a band at a time from the checkpoint's bytes.
type mappedWeight struct {
	name       string
	raw        []byte // rows·rowBytes
	dtype      format.DType
	rows, cols int // stored
	rowBytes   int
	transposed bool
}

func (w *mappedWeight) Dims() (int, int) {
	if w.transposed {
		return w.cols, w.rows
	}
	return w.rows, w.cols
}

func (w *mappedWeight) Transposed() bool { return w.transposed }

// decodeChunk is about how many elements ReadRows decodes through one
// float32 buffer (at least a row).
const decodeChunk = 1 << 16

var (
	pageSize   = os.Getpagesize()
	decodeBufs sync.Pool // of *[]float32
)

// ReadRows decodes rows [i0, i1) and releases the mapped pages they lie
// on (a page shared with a neighbouring band included: a later read of it
// faults it back in from the page cache).
func (w *mappedWeight) ReadRows(dst []float64, i0, i1 int) error {
	lo, hi := i0*w.rowBytes, i1*w.rowBytes
	defer mmap.ReleaseMapped(w.raw[max(0, lo-pageSize):min(len(w.raw), hi+pageSize)])
	step := max(1, decodeChunk/w.cols) // rows per decode
	bp, _ := decodeBufs.Get().(*[]float32)
	if bp == nil || len(*bp) < step*w.cols {
		bp = new([]float32)
		*bp = make([]float32, max(decodeChunk, step*w.cols))
	}
	defer decodeBufs.Put(bp)
	buf := *bp
	for i := i0; i < i1; i += step {
		n := min(step, i1-i)
		f := buf[:n*w.cols]
		if err := format.ToFloat32(f, w.raw[i*w.rowBytes:(i+n)*w.rowBytes], w.dtype); err != nil {
			return fmt.Errorf("base tensor %q: %w", w.name, err)
		}
		out := dst[(i-i0)*w.cols:]
		for k, v := range f {
			out[k] = float64(v)
		}
	}
	return nil
}
