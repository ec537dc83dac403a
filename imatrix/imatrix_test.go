package imatrix

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// legacyFile builds a legacy .dat file: entries of (name, ncall, values),
// then, if tail, the last chunk and the dataset name.
func legacyFile(entries []legacyEntry, tail bool, lastChunk int32, dataset string) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	w(int32(len(entries)))
	for _, e := range entries {
		w(int32(len(e.name)))
		b.WriteString(e.name)
		w(e.ncall)
		w(int32(len(e.vals)))
		w(e.vals)
	}
	if tail {
		w(lastChunk)
		w(int32(len(dataset)))
		b.WriteString(dataset)
	}
	return b.Bytes()
}

type legacyEntry struct {
	name  string
	ncall int32
	vals  []float32
}

// TestReadLegacy: the means llama-quantize's load_legacy_imatrix computes
// (values / ncall when ncall > 0, else the values), worked out by hand.
func TestReadLegacy(t *testing.T) {
	data := legacyFile([]legacyEntry{
		{"blk.1.ffn_up.weight", 4, []float32{8, 12}},
		{"blk.0.attn_q.weight", 0, []float32{5}},
	}, true, 9, "cal.txt")
	path := filepath.Join(t.TempDir(), "im.dat")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Chunks != 9 || !slices.Equal(m.Datasets, []string{"cal.txt"}) || len(m.Entries) != 2 {
		t.Fatalf("Read = %d chunks, datasets %q, %d entries; want 9, [cal.txt], 2", m.Chunks, m.Datasets, len(m.Entries))
	}
	for _, tc := range []struct {
		name string
		want []float32
	}{{"blk.0.attn_q.weight", []float32{5}}, {"blk.1.ffn_up.weight", []float32{2, 3}}} {
		e, ok := m.Entry(tc.name)
		if !ok || !slices.Equal(e.Importance(), tc.want) {
			t.Errorf("Importance(%s) = %v, want %v", tc.name, e.Importance(), tc.want)
		}
	}
	// Without the optional tail.
	m, err = ReadLegacy(bytes.NewReader(data[:len(data)-15]), int64(len(data)-15))
	if err != nil || m.Chunks != 0 || m.Datasets != nil {
		t.Errorf("ReadLegacy(no tail) = %+v, %v", m, err)
	}
}

func TestReadLegacyBad(t *testing.T) {
	good := legacyFile([]legacyEntry{{"w", 1, []float32{1, 2}}}, false, 0, "")
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint32(huge[4+4+1+4:], 1<<30) // nval
	twice := legacyFile([]legacyEntry{{"w", 1, []float32{1}}, {"w", 1, []float32{1}}}, false, 0, "")
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"no entries", legacyFile(nil, false, 0, "")},
		{"truncated", good[:len(good)-3]},
		{"huge value count", huge},
		{"name past the end", []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0}},
		{"entry twice", twice},
	} {
		if _, err := ReadLegacy(bytes.NewReader(tc.data), int64(len(tc.data))); !errors.Is(err, format.ErrFormat) {
			t.Errorf("ReadLegacy(%s) = %v, want ErrFormat", tc.name, err)
		}
	}
}

// TestImportance: sums over counts, 1 for a matrix never seen (as
// llama-quantize's load_imatrix).
func TestImportance(t *testing.T) {
	e := Entry{Name: "blk.0.ffn_down_exps.weight", Cols: 2, Sums: []float32{6, 9, 4, 4}, Counts: []float32{3, 0}}
	if got, want := e.Importance(), []float32{2, 3, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("Importance = %v, want %v", got, want)
	}
}

// writeRaw writes a GGUF file of F32 tensors and metadata.
func writeRaw(t *testing.T, path string, md format.Metadata, tensors map[string][]float32, shapes map[string][]int64, order []string) {
	t.Helper()
	var infos []format.TensorInfo
	for _, n := range order {
		infos = append(infos, format.TensorInfo{Name: n, DType: format.F32, Shape: shapes[n]})
	}
	w, err := gguf.Create(path, infos, md, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range order {
		b := make([]byte, 4*len(tensors[n]))
		for i, v := range tensors[n] {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		if err := w.WriteTensor(n, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadGGUFBad(t *testing.T) {
	keys := format.Metadata{{Key: KeyDatasets, Value: []string{"x"}}, {Key: KeyChunkCount, Value: uint32(1)}, {Key: KeyChunkSize, Value: uint32(4)}}
	sums := map[string][]float32{"w.in_sum2": {1, 2}, "w.counts": {4}, "v.in_sum2": {1, 2, 3, 4}, "v.counts": {1}}
	shapes := map[string][]int64{"w.in_sum2": {2}, "w.counts": {1}, "v.in_sum2": {2, 2}, "v.counts": {1}}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		md    format.Metadata
		order []string
	}{
		{"missing keys", keys[:2], []string{"w.in_sum2", "w.counts"}},
		{"sums without counts", keys, []string{"w.in_sum2"}},
		{"counts for 1 of 2 matrices", keys, []string{"v.in_sum2", "v.counts"}},
		{"no entries", keys, nil},
	} {
		path := filepath.Join(dir, tc.name+".gguf")
		writeRaw(t, path, tc.md, sums, shapes, tc.order)
		if _, err := Read(path); !errors.Is(err, format.ErrFormat) {
			t.Errorf("Read(%s) = %v, want ErrFormat", tc.name, err)
		}
	}
	if _, err := Read(filepath.Join(dir, "absent.gguf")); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("Read(absent) = %v, want ErrNotFound", err)
	}
}

// TestWriteRead: a matrix with a stack of experts survives Write and Read.
func TestWriteRead(t *testing.T) {
	m := &Matrix{Datasets: []string{"a.txt", "b.txt"}, Chunks: 3, ChunkSize: 8, Entries: []Entry{
		{Name: "blk.0.ffn_up_exps.weight", Cols: 2, Sums: []float32{1, 2, 3, 4, 5, 6}, Counts: []float32{8, 0, 16}},
		{Name: "blk.0.attn_q.weight", Cols: 3, Sums: []float32{1, 2, 3}, Counts: []float32{24}},
	}}
	path := filepath.Join(t.TempDir(), "im.gguf")
	if err := Write(path, m, false); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Chunks != 3 || back.ChunkSize != 8 || !slices.Equal(back.Datasets, m.Datasets) || len(back.Entries) != 2 {
		t.Fatalf("Read(Write(m)) = %+v", back)
	}
	for _, e := range m.Entries {
		g, ok := back.Entry(e.Name)
		if !ok || g.Cols != e.Cols || !slices.Equal(g.Sums, e.Sums) || !slices.Equal(g.Counts, e.Counts) {
			t.Errorf("entry %s = %+v, want %+v", e.Name, g, e)
		}
	}
}

// TestCountedRows: which positions llama-imatrix collects, by hand from
// its batching (chunks grouped Batch/Ctx to a batch, batches cut in
// physical batches of UBatch tokens; products of < 16 tokens skipped).
func TestCountedRows(t *testing.T) {
	count := func(rows [][]bool, ctx int) []int {
		var n []int
		for _, r := range rows {
			c := 0
			for i := range ctx {
				if r == nil || r[i] {
					c++
				}
			}
			n = append(n, c)
		}
		return n
	}
	for _, tc := range []struct {
		name string
		opt  Options
		n    int
		want []int
	}{
		// 12 chunks of 64 in one batch of 768 cut 512+256: all count.
		{"defaults", Options{Ctx: 64}, 12, []int{64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64}},
		// ctx 40, batch 32: batches of 32+8; the 8 are skipped.
		{"short tail batch", Options{Ctx: 40, Batch: 32}, 2, []int{32, 32}},
		// ctx 10 < 16: 3 chunks in one batch of 30 tokens, ubatch 20: 20 count, 10 not.
		{"ubatch tail", Options{Ctx: 10, Batch: 30, UBatch: 20}, 3, []int{10, 10, 0}},
		// ctx 8, batch 8: each chunk alone, 8 < 16 tokens: nothing counts.
		{"tiny batches", Options{Ctx: 8, Batch: 8}, 2, []int{0, 0}},
	} {
		if got := count(countedRows(tc.opt, tc.n), tc.opt.Ctx); !slices.Equal(got, tc.want) {
			t.Errorf("%s: counted %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCollectorExperts: rows routed to one expert of a stack go to that
// expert's sums and count (worked by hand), and the row mask for small
// batches does not apply to them, as llama-imatrix collects every
// indirect product.
func TestCollectorExperts(t *testing.T) {
	c := NewCollector()
	c.SetRows([]bool{false, false})
	c.ObserveExpert("blk.0.ffn_up_exps.weight", 1, 3, []float32{1, 2, 3, 4}, 2, 2)
	c.ObserveExpert("blk.0.ffn_up_exps.weight", 2, 3, []float32{2, 0}, 1, 2)
	c.Observe("blk.0.ffn_gate_inp.weight", []float32{1, 1, 1, 1}, 2, 2) // masked out
	c.SetRows(nil)
	m := c.Matrix(1, nil)
	e, ok := m.Entry("blk.0.ffn_up_exps.weight")
	if !ok || e.Mats() != 3 || !slices.Equal(e.Sums, []float32{0, 0, 10, 20, 4, 0}) || !slices.Equal(e.Counts, []float32{0, 2, 1}) {
		t.Fatalf("expert entry = %+v, want sums [0 0 10 20 4 0], counts [0 2 1]", e)
	}
	if got, want := e.Importance(), []float32{1, 1, 5, 10, 4, 0}; !slices.Equal(got, want) {
		t.Errorf("Importance = %v, want %v", got, want)
	}
	if g, ok := m.Entry("blk.0.ffn_gate_inp.weight"); !ok || g.Counts[0] != 0 || !slices.Equal(g.Sums, []float32{0, 0}) {
		t.Errorf("masked dense entry = %+v, want count 0", g)
	}
	if m.Chunks != 2 {
		t.Errorf("Chunks = %d, want 2 (largest count 2 / chunk size 1)", m.Chunks)
	}
}
