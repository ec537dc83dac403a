package train_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/train"
)

// ExampleDigest fingerprints a run's data for its checkpoint: the sha256
// of the file's bytes (here of "abc", as sha256sum prints it).
func ExampleDigest() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "train.txt")
	os.WriteFile(p, []byte("abc"), 0o644)
	d, err := train.Digest(p)
	fmt.Println(d, err)
	// Output: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad <nil>
}
