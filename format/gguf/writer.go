package gguf

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/internal/mmap"
)

// Writer streams a GGUF file: the header is written when the Writer is
// made, then each tensor's data with WriteTensor, in the declared order.
// Errors are sticky. It implements format.Sink.
type Writer struct {
	name   string
	file   *atomicfile.File // nil for NewWriter
	bw     *bufio.Writer
	infos  []format.TensorInfo
	layout *layout
	next   int   // index of the next tensor to write
	err    error // first error; every later call returns it
	closed bool
}

// errClosed is the sticky error of a Writer after Close or Abort.
var errClosed = errors.New("writer is closed")

// Create starts a GGUF file at path holding infos and md (see the package
// documentation for the metadata types). The file is written under a
// temporary name beside path and renamed into place by Close; Abort, or a
// failed Close, leaves nothing behind. An existing path is replaced only
// with opts.Force, and never when it is an input of this process.
func Create(path string, infos []format.TensorInfo, md format.Metadata, opts format.CreateOptions) (*Writer, error) {
	if opts.Split.Enabled() {
		return nil, fmt.Errorf("gguf: %s: a split output is written by CreateSplit (or format.Create): %w", path, format.ErrUnsupported)
	}
	l, err := plan(infos, md)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	f, err := atomicfile.Create(path, opts.Force)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	w := newWriter(path, f, infos, l)
	if err := w.writeHeader(); err != nil {
		f.Abort()
		return nil, err
	}
	return w, nil
}

// NewWriter writes a GGUF file holding infos and md to dst. Close flushes
// but does not close dst.
func NewWriter(dst io.Writer, infos []format.TensorInfo, md format.Metadata) (*Writer, error) {
	name := "GGUF stream"
	if n, ok := dst.(interface{ Name() string }); ok {
		name = n.Name()
	}
	return newStreamWriter(name, dst, infos, md)
}

// newStreamWriter is NewWriter with the name errors give the output.
func newStreamWriter(name string, dst io.Writer, infos []format.TensorInfo, md format.Metadata) (*Writer, error) {
	l, err := plan(infos, md)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", name, err)
	}
	w := newWriter(name, nil, infos, l)
	w.bw = bufio.NewWriterSize(dst, l.bufferSize())
	if err := w.writeHeader(); err != nil {
		return nil, err
	}
	return w, nil
}

func newWriter(name string, f *atomicfile.File, infos []format.TensorInfo, l *layout) *Writer {
	w := &Writer{name: name, file: f, infos: append([]format.TensorInfo(nil), infos...), layout: l}
	if f != nil {
		w.bw = bufio.NewWriterSize(f, l.bufferSize())
	}
	return w
}

func (w *Writer) writeHeader() error {
	if _, err := w.bw.Write(w.layout.header); err != nil {
		return w.setErr(fmt.Errorf("gguf: %s: writing header: %w", w.name, err))
	}
	if err := w.pad(w.layout.headerPad); err != nil {
		return w.setErr(fmt.Errorf("gguf: %s: writing header: %w", w.name, err))
	}
	return nil
}

// setErr records err as the sticky error (if none is recorded) and returns
// the recorded one.
func (w *Writer) setErr(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// WriteTensor writes the data of the next declared tensor, which must be
// named name and hold exactly its NumBytes bytes, then pads it with zeros
// to the alignment.
func (w *Writer) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.infos) {
		return w.setErr(fmt.Errorf("gguf: %s: tensor %q: all %d declared tensors are already written: %w", w.name, name, len(w.infos), format.ErrNotFound))
	}
	want := w.infos[w.next]
	if name != want.Name {
		if _, ok := format.TensorIndex(w.infos, name); !ok {
			return w.setErr(fmt.Errorf("gguf: %s: tensor %q: was not declared: %w", w.name, name, format.ErrNotFound))
		}
		return w.setErr(fmt.Errorf("gguf: %s: tensor %q: written out of order, expected %q next: %w", w.name, name, want.Name, format.ErrFormat))
	}
	n := w.layout.nbytes[w.next]
	if int64(len(data)) != n {
		return w.setErr(fmt.Errorf("gguf: %s: tensor %q: %d bytes given, want %d for %v %v: %w", w.name, name, len(data), n, want.DType, want.Shape, format.ErrShape))
	}
	if _, err := mmap.WriteReleasing(w.bw, data); err != nil {
		return w.setErr(fmt.Errorf("gguf: %s: tensor %q: %w", w.name, name, err))
	}
	if err := w.pad(alignUp(n, w.layout.align) - n); err != nil {
		return w.setErr(fmt.Errorf("gguf: %s: tensor %q: %w", w.name, name, err))
	}
	w.next++
	return nil
}

var zeros [4096]byte

// pad writes n zero bytes.
func (w *Writer) pad(n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.bw.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// Close finishes the file. It fails, leaving no output, if an earlier call
// failed or a declared tensor was not written; otherwise it flushes and,
// for Create, fsyncs and renames the file into place.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && w.next < len(w.infos) {
		w.setErr(fmt.Errorf("gguf: %s: tensor %q: declared but not written (%d of %d written): %w",
			w.name, w.infos[w.next].Name, w.next, len(w.infos), format.ErrNotFound))
	}
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.setErr(fmt.Errorf("gguf: %s: %w", w.name, err))
		}
	}
	if w.file != nil {
		if w.err != nil {
			w.file.Abort()
		} else if err := w.file.Commit(); err != nil {
			w.setErr(fmt.Errorf("gguf: %w", err))
		}
	}
	err := w.err
	w.setErr(fmt.Errorf("gguf: %s: %w", w.name, errClosed))
	return err
}

// Abort discards the output: the temporary file of Create is removed. For
// NewWriter, bytes already written to dst stay there. It is safe to call
// after Close.
func (w *Writer) Abort() error {
	w.setErr(fmt.Errorf("gguf: %s: aborted: %w", w.name, errClosed))
	w.closed = true
	if w.file != nil {
		return w.file.Abort()
	}
	return nil
}

var _ format.Sink = (*Writer)(nil)
