package convert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/llama2c"
	_ "github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/testshared"
)

func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	return testshared.Path(t, rel)
}

// hashes returns the sha256 of every tensor's raw bytes, by name.
func hashes(t testing.TB, path string) map[string]string {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := map[string]string{}
	for _, ti := range src.Tensors() {
		data, err := src.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		out[ti.Name] = hex.EncodeToString(sum[:])
	}
	return out
}

func mustModel(t testing.TB, in, out string, opt ModelOptions) {
	t.Helper()
	if err := Model(context.Background(), in, out, opt); err != nil {
		t.Fatalf("Model(%s -> %s): %v", in, out, err)
	}
}

func sameHashes(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for name, h := range want {
		if got[name] != h {
			t.Errorf("%s: tensor %s changed (sha256 %.12s, want %.12s)", what, name, got[name], h)
		}
	}
}
