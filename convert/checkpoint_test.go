package convert

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestContainerRoundTrips converts between GGUF and safetensors with names
// carried as they are: every tensor's bytes and shape survive both ways.
func TestContainerRoundTrips(t *testing.T) {
	cases := []struct{ in, mid, out string }{
		{"fixtures/gpt2-f32.gguf", "mid.safetensors", "out.gguf"},
		{"fixtures/gpt2-f16.gguf", "mid.safetensors", "out.gguf"},
		{"fixtures/gpt2-bf16.gguf", "mid.safetensors", "out.gguf"},
		{"fixtures/llama-f32.gguf", "mid.safetensors", "out.gguf"},
		{"data/models/lm-buddy-tiny-gpt2-random/model.safetensors", "mid.gguf", "out.safetensors"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.in), func(t *testing.T) {
			in := sharedPath(t, c.in)
			dir := t.TempDir()
			mid, out := filepath.Join(dir, c.mid), filepath.Join(dir, c.out)
			checkpointChain(t, in, mid, out)
			sameHashes(t, c.in+" -> "+c.mid+" -> "+c.out, hashes(t, out), hashes(t, in))
			a, _ := format.Open(in)
			b, _ := format.Open(out)
			defer a.Close()
			defer b.Close()
			for _, ta := range a.Tensors() {
				tb, ok := format.TensorIndex(b.Tensors(), ta.Name)
				if !ok || tb.DType != ta.DType || !format.SameShape(tb.Shape, ta.Shape) {
					t.Errorf("tensor %s: %v became %v", ta.Name, ta, tb)
				}
			}
		})
	}
}

// TestMetadataThroughSafetensors: GGUF's typed metadata (tokenizer arrays,
// u32 counts, f32 epsilons) survives a trip through safetensors'
// string-only __metadata__, with the same keys, types and values.
func TestMetadataThroughSafetensors(t *testing.T) {
	for _, stem := range []string{"gpt2-f32", "llama-f32"} {
		t.Run(stem, func(t *testing.T) {
			in := sharedPath(t, "fixtures/"+stem+".gguf")
			dir := t.TempDir()
			mid, out := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "o.gguf")
			checkpointChain(t, in, mid, out)
			a, _ := format.Open(in)
			b, _ := format.Open(out)
			defer a.Close()
			defer b.Close()
			for _, kv := range a.Metadata() {
				got, ok := b.Metadata().Get(kv.Key)
				if !ok || !reflect.DeepEqual(got, kv.Value) {
					t.Errorf("%s = %#v (present %v), want %#v", kv.Key, got, ok, kv.Value)
				}
			}
		})
	}
	if _, err := decodeTyped("u99:3"); !errors.Is(err, format.ErrFormat) {
		t.Errorf("decodeTyped(unknown type) = %v, want ErrFormat", err)
	}
	if _, err := decodeTyped("u8:300"); !errors.Is(err, format.ErrFormat) {
		t.Errorf("decodeTyped(u8 out of range) = %v, want ErrFormat", err)
	}
}

// checkpointChain converts paths[0] to paths[1], then that to paths[2] ...,
// each with Checkpoint and default options.
func checkpointChain(t *testing.T, paths ...string) {
	t.Helper()
	for i := 1; i < len(paths); i++ {
		src, err := format.Open(paths[i-1])
		if err != nil {
			t.Fatal(err)
		}
		err = Checkpoint(context.Background(), src, paths[i], Options{})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}
