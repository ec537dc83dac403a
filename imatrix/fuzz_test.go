package imatrix

import (
	"bytes"
	"testing"
)

// FuzzReadLegacy: no input panics or allocates beyond its size; what
// parses has consistent entries.
func FuzzReadLegacy(f *testing.F) {
	f.Add(legacyFile([]legacyEntry{{"blk.0.attn_q.weight", 4, []float32{8, 12}}}, true, 9, "cal.txt"))
	f.Add(legacyFile([]legacyEntry{{"a", 0, []float32{1}}, {"b", 2, []float32{1, 2, 3}}}, false, 0, ""))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadLegacy(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for i := range m.Entries {
			if err := m.Entries[i].check(); err != nil {
				t.Fatalf("parsed entry is inconsistent: %v", err)
			}
		}
	})
}
