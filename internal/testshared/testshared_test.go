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
