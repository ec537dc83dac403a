package glue

import (
	"errors"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// FuzzRead: any input to any task's reader parses or fails with
// ErrFormat, never panics; what parses has one example per data row.
func FuzzRead(f *testing.F) {
	f.Add("rte", "sentence1\tsentence2\tlabel\tidx\n\"a \"\"b\"\"\"\tc\t1\t0\n")
	f.Add("sst2", "sentence\tlabel\ngood\t1\n")
	f.Add("stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\ta\tb\tc\td\te\tf\tg\th\t1.5\n")
	f.Add("cola", "gj04\t1\t\tThe sailors rode.\n")
	f.Add("mrpc", "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA.\tB.\n")
	f.Fuzz(func(t *testing.T, name, text string) {
		task, err := LookupTask(name)
		if err != nil {
			return
		}
		exs, err := task.Read(strings.NewReader(text), "fuzz.tsv")
		if err != nil {
			if !errors.Is(err, format.ErrFormat) {
				t.Fatalf("Read: %v, want ErrFormat", err)
			}
			return
		}
		for _, e := range exs {
			if !task.Regression() && (e.Label < 0 || e.Label >= len(task.Labels)) {
				t.Fatalf("label %d outside %v", e.Label, task.Labels)
			}
		}
	})
}
