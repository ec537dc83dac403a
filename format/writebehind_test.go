package format

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// recordSink records the tensors written to it, failing at failAt.
type recordSink struct {
	names  []string
	sizes  []int
	failAt int
}

var errSinkFull = errors.New("sink full")

func (s *recordSink) WriteTensor(name string, data []byte) error {
	if len(s.names) == s.failAt {
		return errSinkFull
	}
	s.names = append(s.names, name)
	s.sizes = append(s.sizes, len(data))
	return nil
}
func (s *recordSink) Close() error { return nil }
func (s *recordSink) Abort() error { return nil }

func TestWriteBehind(t *testing.T) {
	for _, c := range []struct {
		name    string
		sizes   []int
		failAt  int
		wantErr bool
	}{
		{"small", []int{10, 20, 30, 40}, -1, false},
		{"large between small", []int{10, WriteBehindMax + 1, 30}, -1, false},
		{"error is sticky", []int{10, 20, 30, 40}, 1, true},
		{"error of a large one", []int{10, WriteBehindMax + 1, 30}, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &recordSink{failAt: c.failAt}
			w := NewWriteBehind(sink)
			var done []string
			var err error
			for i, n := range c.sizes {
				name := fmt.Sprint("t", i)
				if err = w.Write(name, make([]byte, n), func() { done = append(done, name) }); err != nil {
					break
				}
			}
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if c.wantErr {
				if !errors.Is(err, errSinkFull) {
					t.Fatalf("error %v, want %v", err, errSinkFull)
				}
				if len(sink.names) != c.failAt {
					t.Errorf("wrote %v after the failure at %d", sink.names, c.failAt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range c.sizes {
				want = append(want, fmt.Sprint("t", i))
			}
			if !slices.Equal(sink.names, want) || !slices.Equal(sink.sizes, c.sizes) {
				t.Errorf("wrote %v %v, want %v %v", sink.names, sink.sizes, want, c.sizes)
			}
			if !slices.Equal(done, want) {
				t.Errorf("done ran for %v, want %v", done, want)
			}
		})
	}
}
