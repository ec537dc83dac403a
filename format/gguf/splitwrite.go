package gguf

import (
	"fmt"
	"os"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
)

// SplitWriter streams a model into a split GGUF set, byte for byte as
// llama-gguf-split would split the single file holding the same tensors
// and metadata. Shards are written under temporary names and all renamed
// into place by Close; Abort, or any failure, leaves none. It implements
// format.Sink: tensors are written in the declared order.
type SplitWriter struct {
	paths  []string
	files  []*atomicfile.File
	ws     []*Writer
	starts []int // index of each shard's first tensor
	infos  []format.TensorInfo
	next   int
	err    error
	closed bool
}

// CreateSplit starts writing infos and md as a split set named after path
// (see OutputPrefix and SplitPath) under opts.Split (see PlanSplit). An
// existing shard file is replaced only with opts.Force, never an input.
func CreateSplit(path string, infos []format.TensorInfo, md format.Metadata, opts format.CreateOptions) (*SplitWriter, error) {
	if a, ok := md.Int(KeyAlignment); ok && a != DefaultAlignment {
		return nil, fmt.Errorf("gguf: %s: llama-gguf-split pads tensors to %d bytes, so a model with %s = %d cannot be split: %w", path, DefaultAlignment, KeyAlignment, a, format.ErrUnsupported)
	}
	if len(infos) > math32 {
		return nil, fmt.Errorf("gguf: %s: %d tensors do not fit %s: %w", path, len(infos), KeySplitTensors, format.ErrUnsupported)
	}
	starts, err := PlanSplit(infos, opts.Split)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	prefix := OutputPrefix(path)
	paths := make([]string, len(starts))
	mds := make([]format.Metadata, len(starts))
	for i := range starts {
		paths[i] = SplitPath(prefix, i, len(starts))
		mds[i] = shardMetadata(md, i, len(starts), len(infos))
	}
	return CreateShards(paths, starts, infos, mds, opts.Force)
}

// CreateShards starts writing infos as a set of GGUF files: file i holds
// the tensors from starts[i] up to the next start, in order, with metadata
// mds[i] as given (split keys included; see CreateSplit for
// llama-gguf-split's). starts[0] is 0 and starts increase. An existing
// file is replaced only with force, never an input; all files appear at
// Close or none.
func CreateShards(paths []string, starts []int, infos []format.TensorInfo, mds []format.Metadata, force bool) (*SplitWriter, error) {
	if len(paths) == 0 || len(starts) != len(paths) || len(mds) != len(paths) || starts[0] != 0 {
		return nil, fmt.Errorf("gguf: %d shard paths, %d starts, %d metadata lists: %w", len(paths), len(starts), len(mds), format.ErrShape)
	}
	for i := 1; i < len(starts); i++ {
		if starts[i] <= starts[i-1] || starts[i] >= len(infos) {
			return nil, fmt.Errorf("gguf: %s: shard %d starts at tensor %d of %d: %w", paths[i], i, starts[i], len(infos), format.ErrShape)
		}
	}
	w := &SplitWriter{starts: starts, infos: append([]format.TensorInfo(nil), infos...)}
	for _, p := range paths {
		if err := atomicfile.CheckOutput(p, force); err != nil {
			return nil, fmt.Errorf("gguf: %w", err)
		}
		w.paths = append(w.paths, p)
	}
	for i, p := range w.paths {
		f, err := atomicfile.Create(p, force)
		if err != nil {
			w.Abort()
			return nil, fmt.Errorf("gguf: %w", err)
		}
		w.files = append(w.files, f)
		lo, hi := w.shardRange(i)
		sw, err := newStreamWriter(p, f, infos[lo:hi], mds[i])
		if err != nil {
			w.Abort()
			return nil, err
		}
		w.ws = append(w.ws, sw)
	}
	return w, nil
}

// math32 is the most tensors split.tensors.count (INT32) can count.
const math32 = 1<<31 - 1

// shardRange returns the tensor indices [lo, hi) of shard i.
func (w *SplitWriter) shardRange(i int) (lo, hi int) {
	hi = len(w.infos)
	if i+1 < len(w.starts) {
		hi = w.starts[i+1]
	}
	return w.starts[i], hi
}

// Paths lists the shard files the writer produces, in order.
func (w *SplitWriter) Paths() []string { return w.paths }

// WriteTensor writes the next declared tensor into its shard.
func (w *SplitWriter) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.infos) {
		w.err = fmt.Errorf("gguf: %s: tensor %q: all %d declared tensors are already written: %w", w.paths[0], name, len(w.infos), format.ErrNotFound)
		return w.err
	}
	i := len(w.starts) - 1
	for i > 0 && w.starts[i] > w.next {
		i--
	}
	if err := w.ws[i].WriteTensor(name, data); err != nil {
		w.err = err
		return err
	}
	w.next++
	return nil
}

// Close finishes every shard and renames them all into place; it fails,
// leaving no shard, if a declared tensor was not written or a write failed.
func (w *SplitWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	for _, sw := range w.ws {
		if err := sw.Close(); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.err != nil {
		w.abortFiles()
		return w.err
	}
	for i, f := range w.files {
		if err := f.Commit(); err != nil {
			w.err = fmt.Errorf("gguf: %w", err)
			for _, g := range w.files[i+1:] {
				g.Abort()
			}
			for _, p := range w.paths[:i] {
				os.Remove(p) // a set is whole or absent
			}
			return w.err
		}
	}
	return nil
}

// Abort discards every shard. It is safe to call after Close.
func (w *SplitWriter) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err == nil {
		w.err = fmt.Errorf("gguf: split output: aborted: %w", errClosed)
	}
	for _, sw := range w.ws {
		sw.Abort()
	}
	w.abortFiles()
	return nil
}

func (w *SplitWriter) abortFiles() {
	for _, f := range w.files {
		f.Abort()
	}
}

var _ format.Sink = (*SplitWriter)(nil)
