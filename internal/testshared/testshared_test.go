package testshared

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPathIsBesideTheModule(t *testing.T) {
	p := Path(t, "fixtures")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Fatalf("Path(fixtures) = %s, not a directory", p)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Dir(filepath.Dir(p)), filepath.Dir(root); got != want {
		t.Errorf("shared folder sits in %s, want beside the module in %s", got, want)
	}
}

func TestTensorHashes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.txt")
	os.WriteFile(p, []byte("sha256    aa  x.gguf:token_embd.weight\nsha256    bb  x.gguf:blk.0.attn_q.weight\nsha256    cc  x.gguf\n"), 0o644)
	got := TensorHashes(t, p)
	if len(got) != 2 || got["token_embd.weight"] != "aa" || got["blk.0.attn_q.weight"] != "bb" {
		t.Errorf("TensorHashes = %v, want the two tensor lines only", got)
	}
}
