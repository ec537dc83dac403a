package merge

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// TestPlanMatchesLlamaExportLora: a Plan over an open GGUF Source, written
// into an in-memory GGUF writer, holds llama-export-lora's merge, and the
// bytes Merge writes to a file from the same base.
func TestPlanMatchesLlamaExportLora(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	basePath := filepath.Join(dir, "gpt2-f32.gguf")
	inputs := []Input{{Path: filepath.Join(dir, "gpt2-lora-r4.gguf"), Scale: 1}}
	base := openSource(t, basePath)
	p, err := NewPlan(base, inputs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sink, err := gguf.NewWriter(&buf, p.Tensors(), p.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Write(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Base != "" || rep.Output != "" || rep.Format != "gguf" || rep.Tensors != len(base.Tensors()) || len(rep.Merged) == 0 {
		t.Errorf("Write report = %+v, want gguf, %d tensors, some merged, no paths", rep, len(base.Tensors()))
	}
	got, err := gguf.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	ref := openSource(t, filepath.Join(dir, "gpt2-merged-f32.gguf"))
	for _, m := range rep.Merged {
		if d := maxAbsDiff(floats(t, got, m.Name), floats(t, ref, m.Name)); d > llamaF32Tol {
			t.Errorf("Plan.Write: %s max |ours - llama.cpp| = %g, want <= %g", m.Name, d, llamaF32Tol)
		}
	}

	out := filepath.Join(t.TempDir(), "merged.gguf")
	if _, err := Merge(context.Background(), basePath, inputs, out, Options{}); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, buf.Bytes()) {
		t.Errorf("Plan.Write wrote %d bytes that differ from Merge's %d", buf.Len(), len(file))
	}
}

// TestNewPlanRefuses: a merge without adapters, a base that is an adapter
// and a container merged tensors cannot go back into are refused with
// their sentinels, and the Source stays open for its owner.
func TestNewPlanRefuses(t *testing.T) {
	fixtures := sharedDir(t, "fixtures")
	stories := sharedDir(t, "data/models/stories260K/stories260K.bin")
	adapter := Input{Path: filepath.Join(fixtures, "gpt2-lora-r4.gguf"), Scale: 1}
	for _, c := range []struct {
		name   string
		base   string
		inputs []Input
		want   error
	}{
		{"no adapter", filepath.Join(fixtures, "gpt2-f32.gguf"), nil, format.ErrNotFound},
		{"adapter as base", filepath.Join(fixtures, "gpt2-lora-r4.gguf"), []Input{adapter}, format.ErrFormat},
		{"llama2c base", stories, []Input{adapter}, format.ErrUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := openSource(t, c.base)
			if _, err := NewPlan(src, c.inputs, Options{}); !errors.Is(err, c.want) {
				t.Fatalf("NewPlan = %v, want %v", err, c.want)
			}
			if _, err := src.TensorData(src.Tensors()[0].Name); err != nil {
				t.Errorf("the Source was closed: %v", err)
			}
		})
	}
}

// abortSink records whether it was closed or aborted.
type abortSink struct {
	writes          int
	closed, aborted bool
}

func (s *abortSink) WriteTensor(string, []byte) error { s.writes++; return nil }
func (s *abortSink) Close() error                     { s.closed = true; return nil }
func (s *abortSink) Abort() error                     { s.aborted = true; return nil }

// TestPlanWriteCancelled: a cancelled context stops Write before any
// tensor and aborts the sink.
func TestPlanWriteCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "base.safetensors")
	writeSafetensors(t, path, []tensorSpec{{"lin.weight", []int64{2, 3}, semW}})
	p, err := NewPlan(openSource(t, path), []Input{{Path: "a", Scale: 1, Adapter: semAdapter(semModule("lin", 1))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := &abortSink{}
	if _, err := p.Write(ctx, sink); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context = %v, want context.Canceled", err)
	}
	if sink.writes != 0 || sink.closed || !sink.aborted {
		t.Errorf("sink after cancellation: %+v, want no writes, aborted, not closed", *sink)
	}
}
