package gguf

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestCreateShardsBad: placements that do not cut the tensor list into
// non-empty runs in order are refused before any file is created.
func TestCreateShardsBad(t *testing.T) {
	dir := t.TempDir()
	infos := []format.TensorInfo{
		{Name: "a", DType: format.F32, Shape: []int64{4}},
		{Name: "b", DType: format.F32, Shape: []int64{4}},
	}
	p := func(n int) []string {
		var ps []string
		for i := range n {
			ps = append(ps, SplitPath(filepath.Join(dir, "m"), i, n))
		}
		return ps
	}
	md := func(n int) []format.Metadata { return make([]format.Metadata, n) }
	for _, c := range []struct {
		name   string
		paths  []string
		starts []int
		mds    []format.Metadata
	}{
		{"no shards", nil, nil, nil},
		{"fewer starts than paths", p(2), []int{0}, md(2)},
		{"fewer metadata lists", p(2), []int{0, 1}, md(1)},
		{"first start not 0", p(1), []int{1}, md(1)},
		{"empty shard", p(2), []int{0, 0}, md(2)},
		{"start past the end", p(2), []int{0, 2}, md(2)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := CreateShards(c.paths, c.starts, infos, c.mds, false); !errors.Is(err, format.ErrShape) {
				t.Fatalf("CreateShards = %v, want ErrShape", err)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
				t.Fatalf("files left: %v", m)
			}
		})
	}
}
