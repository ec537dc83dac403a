package safetensors

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/internal/mmap"
)

// defaultPadding is the multiple the reference writer pads the header to.
const defaultPadding = 8

// Writer writes a safetensors file: planned up front from every TensorInfo
// and the metadata, then streamed tensor by tensor in the declared order.
// It implements format.Sink. Errors are sticky.
//
// The output is byte-identical to the Hugging Face reference writer's for
// the same tensors in the same order (see SortLikeReference) and the same
// metadata: compact JSON with __metadata__ first and tensors in offset
// order, strings escaped as serde_json escapes them, the header padded with
// spaces to a multiple of 8 bytes.
type Writer struct {
	name    string           // output name for errors ("" if unknown)
	w       io.Writer        // destination
	bw      *bufio.Writer    // buffer in front of file, if any
	file    *atomicfile.File // the output file (Create), or nil (NewWriter)
	infos   []format.TensorInfo
	sizes   []int64
	index   map[string]int
	json    []byte // the header JSON, unpadded
	padding int    // pad the header to a multiple of this
	started bool   // header written
	next    int    // index of the next tensor to write
	err     error  // sticky error
	closed  bool
}

// NewWriter plans a safetensors file of the given tensors (written in this
// order) and metadata, to be written to w. md must hold only string values;
// nil md writes no __metadata__, a non-nil empty md writes "__metadata__":{}
// (as the reference does for None and Some(empty)). The header is written
// before the first tensor. If w has a Name method, errors name that file.
func NewWriter(w io.Writer, infos []format.TensorInfo, md format.Metadata) (*Writer, error) {
	name := ""
	if n, ok := w.(interface{ Name() string }); ok {
		name = n.Name()
	}
	sw := &Writer{name: name, w: w, padding: defaultPadding}
	if err := sw.plan(infos, md); err != nil {
		return nil, err
	}
	return sw, nil
}

// Create plans a safetensors file at path, as NewWriter does, written
// through a temporary file beside it that Close fsyncs and renames into
// place. It fails with format.ErrExists if path exists and opts.Force is
// false, or if path is an input of this process. A failed or aborted write
// leaves no file.
func Create(path string, infos []format.TensorInfo, md format.Metadata, opts format.CreateOptions) (*Writer, error) {
	sw := &Writer{name: path, padding: defaultPadding}
	if err := sw.plan(infos, md); err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(path, opts.Force)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	sw.file = f
	sw.bw = bufio.NewWriterSize(f, 1<<20)
	sw.w = sw.bw
	return sw, nil
}

func (w *Writer) errorf(f string, args ...any) error {
	if w.name == "" {
		return fmt.Errorf("safetensors: "+f, args...)
	}
	return fmt.Errorf("safetensors: %s: "+f, append([]any{w.name}, args...)...)
}

// plan checks the tensors and metadata and builds the header JSON.
func (w *Writer) plan(infos []format.TensorInfo, md format.Metadata) error {
	w.infos = append([]format.TensorInfo(nil), infos...)
	w.sizes = make([]int64, len(infos))
	w.index = make(map[string]int, len(infos))
	js := []byte{'{'}
	if md != nil {
		var err error
		if js, err = appendMetadata(js, md); err != nil {
			return w.errorf("%w", err)
		}
	}
	var offset int64
	for i, t := range infos {
		if !utf8.ValidString(t.Name) || t.Name == metadataKey {
			return w.errorf("tensor %q: not a valid safetensors tensor name: %w", t.Name, format.ErrFormat)
		}
		if _, dup := w.index[t.Name]; dup {
			return w.errorf("tensor %q: declared twice: %w", t.Name, format.ErrFormat)
		}
		w.index[t.Name] = i
		if !t.DType.InSafetensors() {
			return w.errorf("tensor %q: safetensors cannot store %v: %w", t.Name, t.DType, format.ErrUnsupported)
		}
		n, err := t.NumBytes()
		if err != nil {
			return w.errorf("%w", err)
		}
		if offset > 1<<62-n {
			return w.errorf("tensor %q: total size overflows: %w", t.Name, format.ErrFormat)
		}
		w.sizes[i] = n
		if len(js) > 1 {
			js = append(js, ',')
		}
		js = appendString(js, t.Name)
		js = append(js, `:{"dtype":`...)
		js = appendString(js, t.DType.String())
		js = append(js, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				js = append(js, ',')
			}
			js = strconv.AppendInt(js, d, 10)
		}
		js = append(js, `],"data_offsets":[`...)
		js = strconv.AppendInt(js, offset, 10)
		js = append(js, ',')
		offset += n
		js = strconv.AppendInt(js, offset, 10)
		js = append(js, "]}"...)
		if len(js) > MaxHeaderBytes {
			return w.errorf("header exceeds the %d-byte limit: %w", MaxHeaderBytes, format.ErrFormat)
		}
	}
	w.json = append(js, '}')
	return nil
}

// appendMetadata appends the "__metadata__" member.
func appendMetadata(js []byte, md format.Metadata) ([]byte, error) {
	js = appendString(js, metadataKey)
	js = append(js, ':', '{')
	seen := make(map[string]bool, len(md))
	for i, kv := range md {
		v, ok := kv.Value.(string)
		if !ok {
			return nil, fmt.Errorf("metadata %q: safetensors metadata values are strings, not %T: %w", kv.Key, kv.Value, format.ErrUnsupported)
		}
		if !utf8.ValidString(kv.Key) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("metadata %q: invalid UTF-8: %w", kv.Key, format.ErrFormat)
		}
		if seen[kv.Key] {
			return nil, fmt.Errorf("metadata %q: key given twice: %w", kv.Key, format.ErrFormat)
		}
		seen[kv.Key] = true
		if i > 0 {
			js = append(js, ',')
		}
		js = appendString(js, kv.Key)
		js = append(js, ':')
		js = appendString(js, v)
	}
	return append(js, '}'), nil
}

// SetHeaderPadding sets the multiple, in bytes, that the header is padded
// to with spaces (default 8, as the reference writer since safetensors 0.3
// does; 1 writes no padding, as the writer of late 2022 that made the
// reference sample files did). It must be called before the first
// WriteTensor.
func (w *Writer) SetHeaderPadding(multiple int) error {
	if w.started || w.closed {
		return w.errorf("SetHeaderPadding after the header was written")
	}
	if multiple < 1 || multiple > 4096 {
		return w.errorf("header padding %d not in [1, 4096]", multiple)
	}
	w.padding = multiple
	return nil
}

// writeHeader writes the length prefix and the padded header.
func (w *Writer) writeHeader() error {
	w.started = true
	pad := (w.padding - len(w.json)%w.padding) % w.padding
	n := len(w.json) + pad
	if n > MaxHeaderBytes {
		return w.errorf("header of %d bytes exceeds the %d-byte limit: %w", n, MaxHeaderBytes, format.ErrFormat)
	}
	buf := make([]byte, 8, 8+n)
	binary.LittleEndian.PutUint64(buf, uint64(n))
	buf = append(buf, w.json...)
	for range pad {
		buf = append(buf, ' ')
	}
	if _, err := w.w.Write(buf); err != nil {
		return w.errorf("%w", err)
	}
	return nil
}

// WriteTensor writes the next declared tensor's raw little-endian bytes.
func (w *Writer) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return w.errorf("tensor %q: write after Close", name)
	}
	w.err = w.writeTensor(name, data)
	return w.err
}

func (w *Writer) writeTensor(name string, data []byte) error {
	i, declared := w.index[name]
	switch {
	case !declared || i != w.next:
		return w.errorf("%w", orderError(name, declared, w.infos, w.next))
	case int64(len(data)) != w.sizes[i]:
		return w.errorf("tensor %q: %d bytes given, %v needs %d: %w", name, len(data), w.infos[i], w.sizes[i], format.ErrShape)
	}
	if !w.started {
		if err := w.writeHeader(); err != nil {
			return err
		}
	}
	if _, err := mmap.WriteReleasing(w.w, data); err != nil {
		return w.errorf("tensor %q: %w", name, err)
	}
	w.next++
	return nil
}

// orderError explains why tensor name cannot be written when infos[next]
// is due.
func orderError(name string, declared bool, infos []format.TensorInfo, next int) error {
	if !declared {
		return fmt.Errorf("tensor %q: not declared: %w", name, format.ErrNotFound)
	}
	want := "none (all were written)"
	if next < len(infos) {
		want = strconv.Quote(infos[next].Name)
	}
	return fmt.Errorf("tensor %q: written out of order, next declared is %s: %w", name, want, format.ErrFormat)
}

// Close finishes the file. It fails, and with Create leaves no file, if a
// declared tensor was not written or any earlier call failed; otherwise a
// Create output is flushed, fsynced and renamed into place. It does not
// close the io.Writer given to NewWriter.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && w.next < len(w.infos) {
		w.err = w.errorf("tensor %q: declared but never written (%d of %d written): %w",
			w.infos[w.next].Name, w.next, len(w.infos), format.ErrNotFound)
	}
	if w.err == nil && !w.started {
		w.err = w.writeHeader()
	}
	if w.err == nil && w.bw != nil {
		if err := w.bw.Flush(); err != nil {
			w.err = w.errorf("%w", err)
		}
	}
	if w.file == nil {
		return w.err
	}
	if w.err != nil {
		w.file.Abort()
		return w.err
	}
	if err := w.file.Commit(); err != nil {
		w.err = fmt.Errorf("safetensors: %w", err)
	}
	return w.err
}

// errAborted is the sticky error of an aborted Writer.
var errAborted = errors.New("write aborted")

// Abort discards the output (a Create file is removed). It is safe to call
// after Close, when it does nothing.
func (w *Writer) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err == nil {
		w.err = w.errorf("%w", errAborted)
	}
	if w.file != nil {
		return w.file.Abort()
	}
	return nil
}

var _ format.Sink = (*Writer)(nil)
