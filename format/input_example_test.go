package format_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
)

// ExampleReadInput reads a configuration file through a limit and makes it
// an input: no output of the process may replace it, even with force (the
// writers check IsInput).
func ExampleReadInput() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(`{"model_type": "llama"}`), 0o644)

	data, err := format.ReadInput(cfg, format.ConfigLimit)
	fmt.Println(string(data), err)

	st, _ := os.Stat(cfg)
	fmt.Println(format.IsInput(cfg, st))

	_, err = format.ReadInput(cfg, 8)
	fmt.Println(errors.Is(err, format.ErrUnsupported))
	// Output:
	// {"model_type": "llama"} <nil>
	// true
	// true
}
