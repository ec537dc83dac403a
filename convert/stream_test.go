package convert

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// countingSource hands out fresh buffers and counts how many it has handed
// out that the sink has not yet consumed (the sink may run on another
// goroutine: writes are behind).
type countingSource struct {
	infos       []format.TensorInfo
	mu          sync.Mutex
	outstanding int
	peak        int
}

func (c *countingSource) Format() string               { return "counting" }
func (c *countingSource) Tensors() []format.TensorInfo { return c.infos }
func (c *countingSource) Metadata() format.Metadata    { return nil }
func (c *countingSource) Close() error                 { return nil }
func (c *countingSource) TensorData(name string) ([]byte, error) {
	c.mu.Lock()
	c.outstanding++
	c.peak = max(c.peak, c.outstanding)
	c.mu.Unlock()
	t, _ := format.TensorIndex(c.infos, name)
	n, _ := t.NumBytes()
	return make([]byte, n), nil
}

// countingSink consumes tensors and tells the source.
type countingSink struct {
	src     *countingSource
	written int
}

func (s *countingSink) WriteTensor(string, []byte) error {
	s.src.mu.Lock()
	s.src.outstanding--
	s.src.mu.Unlock()
	s.written++
	return nil
}
func (s *countingSink) Close() error { return nil }
func (s *countingSink) Abort() error { return nil }

// TestStreamsOneTensorAtATime proves the conversion pipeline holds at most
// two source tensors at a time (one written behind while the next is
// prepared), whatever the number of tensors, with a cast (which allocates
// the converted copy).
func TestStreamsOneTensorAtATime(t *testing.T) {
	src := &countingSource{}
	for i := range 50 {
		src.infos = append(src.infos, format.TensorInfo{Name: fmt.Sprintf("h.%d.attn.c_attn.weight", i), DType: format.F32, Shape: []int64{64, 192}})
	}
	plan := make([]format.TensorInfo, len(src.infos))
	for i, ti := range src.infos {
		plan[i] = ti
		plan[i].DType = format.F16
	}
	sink := &countingSink{src: src}
	if err := writeTensors(context.Background(), src, plan, sink, nil); err != nil {
		t.Fatal(err)
	}
	if src.peak > 2 || sink.written != 50 {
		t.Errorf("peak outstanding tensors = %d (written %d), want at most 2", src.peak, sink.written)
	}
}
