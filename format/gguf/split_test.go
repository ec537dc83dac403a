package gguf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// splitFixtures are the sets of ../shared/fixtures/split: the file each was
// split from, its shard count, and the llama-gguf-split limit used (see the
// folder's README).
var splitFixtures = []struct {
	stem   string
	shards int
	lim    format.SplitLimits
}{
	{"llama-f32", 4, format.SplitLimits{MaxTensors: 6}},
	{"gpt2-f32", 2, format.SplitLimits{MaxBytes: 1e6}},
}

// TestSplitFixturesReadAsOneModel opens the first shard of each set made by
// llama-gguf-split and checks it reads as the file it was split from: every
// tensor's sha256 equals llama-gguf-hash's listing of the original, and the
// metadata equals the original's.
func TestSplitFixturesReadAsOneModel(t *testing.T) {
	shared := testshared.Path(t, "fixtures")
	for _, fx := range splitFixtures {
		t.Run(fx.stem, func(t *testing.T) {
			first := filepath.Join(shared, "split", SplitPath(fx.stem, 0, fx.shards))
			src, err := format.Open(first)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			set, ok := src.(*Set)
			if !ok {
				t.Fatalf("format.Open(%s) is a %T, want *gguf.Set", first, src)
			}
			if got := len(set.Paths()); got != fx.shards {
				t.Errorf("Paths() has %d shards, want %d", got, fx.shards)
			}
			want := testshared.TensorHashes(t, filepath.Join(shared, "tensor-sha256", fx.stem+".txt"))
			if len(src.Tensors()) != len(want) {
				t.Fatalf("set has %d tensors, want %d", len(src.Tensors()), len(want))
			}
			for _, ti := range src.Tensors() {
				data, err := src.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if got := hex.EncodeToString(sum[:]); got != want[ti.Name] {
					t.Errorf("tensor %q: sha256 %s, want %s", ti.Name, got, want[ti.Name])
				}
			}
			orig, err := Open(filepath.Join(shared, fx.stem+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer orig.Close()
			if !reflect.DeepEqual(src.Metadata(), orig.Metadata()) {
				t.Errorf("set metadata differs from the unsplit file's")
			}
			if !reflect.DeepEqual(src.Tensors(), orig.Tensors()) {
				t.Errorf("set tensor infos differ from the unsplit file's")
			}
		})
	}
}

// TestSplitWriterMatchesLlamaGGUFSplit splits each original fixture with
// the limit llama-gguf-split was given and compares every shard byte for
// byte with the one llama-gguf-split wrote.
func TestSplitWriterMatchesLlamaGGUFSplit(t *testing.T) {
	shared := testshared.Path(t, "fixtures")
	for _, fx := range splitFixtures {
		t.Run(fx.stem, func(t *testing.T) {
			src, err := Open(filepath.Join(shared, fx.stem+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			out := filepath.Join(t.TempDir(), fx.stem+".gguf")
			sink, err := format.Create("gguf", out, src.Tensors(), src.Metadata(), format.CreateOptions{Split: fx.lim})
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range src.Tensors() {
				data, err := src.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				if err := sink.WriteTensor(ti.Name, data); err != nil {
					t.Fatal(err)
				}
			}
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			paths := sink.(*SplitWriter).Paths()
			if len(paths) != fx.shards {
				t.Fatalf("wrote %d shards, want %d", len(paths), fx.shards)
			}
			for i, p := range paths {
				if want := filepath.Join(filepath.Dir(out), SplitPath(fx.stem, i, fx.shards)); p != want {
					t.Errorf("shard %d is %s, want %s", i, p, want)
				}
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join(shared, "split", filepath.Base(p)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes differ from llama-gguf-split's %d bytes", filepath.Base(p), len(got), len(want))
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != fx.shards {
				t.Errorf("output folder holds %d entries, want the %d shards only", len(entries), fx.shards)
			}
		})
	}
}

// TestSplitOpenErrors: a set opened from another shard, with a shard
// missing, or with a first shard renamed, is refused with the right
// sentinel, never read as a partial model.
func TestSplitOpenErrors(t *testing.T) {
	shared := testshared.Path(t, "fixtures/split")
	dir := t.TempDir()
	link := func(from, to string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(shared, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link("llama-f32-00001-of-00004.gguf", "m-00001-of-00004.gguf")
	link("llama-f32-00002-of-00004.gguf", "m-00002-of-00004.gguf")
	link("llama-f32-00004-of-00004.gguf", "m-00003-of-00004.gguf") // wrong shard
	link("llama-f32-00001-of-00004.gguf", "renamed.gguf")
	link("gpt2-f32-00001-of-00002.gguf", "g-00001-of-00002.gguf") // its second shard is absent
	tests := []struct {
		file string
		want error
	}{
		{"m-00002-of-00004.gguf", format.ErrUnsupported},
		{"m-00001-of-00004.gguf", format.ErrFormat},
		{"renamed.gguf", format.ErrFormat},
		{"g-00001-of-00002.gguf", format.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			src, err := format.Open(filepath.Join(dir, tc.file))
			if err == nil {
				src.Close()
				t.Fatalf("format.Open(%s) succeeded, want an error wrapping %v", tc.file, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("format.Open(%s) = %v, want an error wrapping %v", tc.file, err, tc.want)
			}
		})
	}
}

func TestParseSplitSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1M", 1000000, false},
		{"500K", 500000, false},
		{"2G", 2000000000, false},
		{"128M", 128000000, false},
		{"", 0, true},
		{"12", 0, true},
		{"0M", 0, true},
		{"-1G", 0, true},
		{"1.5G", 0, true},
		{"1T", 0, true},
		{"M", 0, true},
		{"99999999999999G", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseSplitSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSplitSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, format.ErrInvalidOption) {
			t.Errorf("ParseSplitSize(%q) error %v does not wrap ErrInvalidOption", tc.in, err)
		}
	}
}

// TestPlanSplit checks the grouping rules on hand-computed cases: sizes
// count each tensor padded to 32 bytes.
func TestPlanSplit(t *testing.T) {
	f32 := func(n int64) format.TensorInfo {
		return format.TensorInfo{Name: "t", DType: format.F32, Shape: []int64{n}}
	}
	// padded sizes: 40 -> 64... f32(10) is 40 bytes -> 64; f32(8) is 32 -> 32.
	infos := []format.TensorInfo{f32(8), f32(10), f32(8), f32(100), f32(8)}
	tests := []struct {
		lim  format.SplitLimits
		want []int
	}{
		{format.SplitLimits{MaxTensors: 2}, []int{0, 2, 4}},
		{format.SplitLimits{MaxTensors: 5}, []int{0}},
		{format.SplitLimits{MaxTensors: 1}, []int{0, 1, 2, 3, 4}},
		{format.SplitLimits{MaxBytes: 96}, []int{0, 2, 3, 4}},    // 32+64 | 32 | 416 alone | 32
		{format.SplitLimits{MaxBytes: 128}, []int{0, 3, 4}},      // 32+64+32 | 416 | 32
		{format.SplitLimits{MaxBytes: 10}, []int{0, 1, 2, 3, 4}}, // each over the limit: alone
	}
	for _, tc := range tests {
		got, err := PlanSplit(infos, tc.lim)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("PlanSplit(%+v) = %v, %v; want %v", tc.lim, got, err, tc.want)
		}
	}
	if _, err := PlanSplit(infos, format.SplitLimits{MaxBytes: 1, MaxTensors: 1}); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("PlanSplit with both limits = %v, want ErrUnsupported", err)
	}
}

// TestSplitWriterAtomic: a set with a tensor left unwritten, or aborted,
// leaves no file.
func TestSplitWriterAtomic(t *testing.T) {
	infos := []format.TensorInfo{
		{Name: "a", DType: format.F32, Shape: []int64{4}},
		{Name: "b", DType: format.F32, Shape: []int64{4}},
	}
	for _, abort := range []bool{false, true} {
		dir := t.TempDir()
		w, err := CreateSplit(filepath.Join(dir, "m.gguf"), infos, nil, format.CreateOptions{Split: format.SplitLimits{MaxTensors: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTensor("a", make([]byte, 16)); err != nil {
			t.Fatal(err)
		}
		if abort {
			w.Abort()
		} else if err := w.Close(); !errors.Is(err, format.ErrNotFound) {
			t.Errorf("Close with tensor b unwritten = %v, want ErrNotFound", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("abort=%v: %d files left, want none", abort, len(entries))
		}
	}
}
