package quantize

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestKeepSplit quantizes llama-gguf-split's four shards of llama-f32 to
// Q8_0 with KeepSplit. There is no llama-quantize --keep-split output among
// the fixtures, so each shard is checked against the facts of
// llama-quant.cpp: output shard k holds input shard k's tensors in the
// input's order; split.no, split.count (UINT16) and split.tensors.count
// (INT32) end every shard's metadata, the first shard's after the model's
// keys, the others' alone. Read back as one model, the set equals
// llama-quantize's Q8_0 of the unsplit file (llama-q8_0.gguf): the same
// metadata in the same order and every tensor byte for byte.
func TestKeepSplit(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	in := filepath.Join(fx, "split", "llama-f32-00001-of-00004.gguf")
	dir := t.TempDir()
	out := filepath.Join(dir, "llama-q8_0.gguf")
	plan, err := File(context.Background(), in, out, Options{Preset: mustPreset(t, "Q8_0"), KeepSplit: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Shards != 4 {
		t.Fatalf("plan has %d shards, want 4", plan.Shards)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists; llama-quantize --keep-split writes only the shards", out)
	}
	ref, err := gguf.Open(filepath.Join(fx, "llama-q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	total := len(ref.Tensors())
	for k := range 4 {
		inShard, err := gguf.Open(gguf.SplitPath(filepath.Join(fx, "split", "llama-f32"), k, 4))
		if err != nil {
			t.Fatal(err)
		}
		outPath := gguf.SplitPath(filepath.Join(dir, "llama-q8_0"), k, 4)
		outShard, err := gguf.Open(outPath)
		if err != nil {
			t.Fatal(err)
		}
		var wantNames, gotNames []string
		for _, ti := range inShard.Tensors() {
			wantNames = append(wantNames, ti.Name)
		}
		for _, ti := range outShard.Tensors() {
			gotNames = append(gotNames, ti.Name)
		}
		if !reflect.DeepEqual(gotNames, wantNames) {
			t.Errorf("%s holds %v, want input shard %d's %v", outPath, gotNames, k+1, wantNames)
		}
		md := outShard.Metadata()
		wantKeys := format.Metadata{
			{Key: "split.no", Value: uint16(k)},
			{Key: "split.count", Value: uint16(4)},
			{Key: "split.tensors.count", Value: int32(total)},
		}
		if k == 0 {
			wantKeys = append(ref.Metadata().Clone(), wantKeys...)
		}
		if !reflect.DeepEqual(md, wantKeys) {
			t.Errorf("%s metadata:\n got %v\nwant %v", outPath, keysOf(md), keysOf(wantKeys))
		}
		inShard.Close()
		outShard.Close()
	}
	set, err := format.Open(gguf.SplitPath(filepath.Join(dir, "llama-q8_0"), 0, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if !reflect.DeepEqual(set.Metadata(), ref.Metadata()) {
		t.Errorf("the set's metadata differs from llama-q8_0.gguf's")
	}
	if len(set.Tensors()) != total {
		t.Fatalf("the set has %d tensors, llama-q8_0.gguf %d", len(set.Tensors()), total)
	}
	for _, want := range ref.Tensors() {
		got, ok := format.TensorIndex(set.Tensors(), want.Name)
		if !ok || got.DType != want.DType || !format.SameShape(got.Shape, want.Shape) {
			t.Errorf("tensor %q: %+v in the set, %+v in llama-q8_0.gguf", want.Name, got, want)
			continue
		}
		a, err := set.TensorData(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ref.TensorData(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("tensor %q: data differs from llama-q8_0.gguf's", want.Name)
		}
	}
}

// TestKeepSplitOneFile: an unsplit GGUF input gives one shard named
// OUT-00001-of-00001.gguf without split keys (llama-quantize names the
// output with llama_split_path whenever --keep-split is given), and a
// safetensors input, which has no GGUF splits, is refused.
func TestKeepSplitOneFile(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	dir := t.TempDir()
	out := filepath.Join(dir, "gpt2-q8_0.gguf")
	if _, err := File(context.Background(), filepath.Join(fx, "gpt2-f32.gguf"), out, Options{Preset: mustPreset(t, "Q8_0"), KeepSplit: true}); err != nil {
		t.Fatal(err)
	}
	r, err := gguf.Open(filepath.Join(dir, "gpt2-q8_0-00001-of-00001.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.Metadata().Get("split.count"); ok {
		t.Errorf("a one-shard output carries split keys")
	}
	st := filepath.Join(dir, "model.safetensors")
	info := format.TensorInfo{Name: "blk.0.attn_q.weight", DType: format.F32, Shape: []int64{2, 32}}
	sink, err := format.Create("safetensors", st, []format.TensorInfo{info}, nil, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteTensor(info.Name, make([]byte, 4*64)); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = File(context.Background(), st, filepath.Join(dir, "st.gguf"), Options{Preset: mustPreset(t, "Q8_0"), KeepSplit: true})
	if !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("--keep-split on safetensors = %v, want ErrUnsupported", err)
	}
}

func keysOf(md format.Metadata) []string {
	var ks []string
	for _, kv := range md {
		ks = append(ks, kv.Key)
	}
	return ks
}
