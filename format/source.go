package format

// Source is a readable checkpoint: it lists its tensors and metadata and
// hands out one tensor's bytes at a time. Implementations return slices of a
// memory-mapped file where they can (zero copy); those slices stay valid
// until Close and must not be modified.
type Source interface {
	// Format names the container: "safetensors", "gguf", "llama2c".
	Format() string
	// Tensors lists every tensor in file order.
	Tensors() []TensorInfo
	// Metadata returns the file's key/value metadata in file order.
	Metadata() Metadata
	// TensorData returns the raw little-endian bytes of the named tensor
	// (exactly its NumBytes), or an error wrapping ErrNotFound.
	TensorData(name string) ([]byte, error)
	// Close releases the file. Slices returned by TensorData become invalid.
	Close() error
}

// Releaser is implemented by Sources backed by a memory map. Release says
// the named tensor will not be read again soon, so its pages can leave the
// process's resident memory; slices already returned stay valid. A
// streaming pass over a model calls it after each tensor, keeping peak RSS
// bounded by a few tensors rather than the file.
type Releaser interface {
	Release(name string)
}

// Prefetcher is implemented by Sources backed by a memory map. Prefetch
// says the named tensor will be read next, so that the OS reads it from
// disk while the current one is being worked on. A streaming pass calls it
// for tensor i+1 before it works on tensor i.
type Prefetcher interface {
	Prefetch(name string)
}

// Prefetch calls src.Prefetch(name) if src is a Prefetcher.
func Prefetch(src Source, name string) {
	if p, ok := src.(Prefetcher); ok {
		p.Prefetch(name)
	}
}

// Release calls src.Release(name) if src is a Releaser.
func Release(src Source, name string) {
	if r, ok := src.(Releaser); ok {
		r.Release(name)
	}
}

// Header is implemented by Sources that know their container version and
// where each tensor sits in the file (for `lorakit inspect`).
type Header interface {
	// Version is the container version (GGUF 2 or 3; 0 where there is none).
	Version() int
	// Alignment is the data alignment in bytes (0 where there is none).
	Alignment() int
	// TensorOffset is the absolute file offset of the tensor's first byte.
	TensorOffset(name string) (int64, bool)
}

// Sink is a checkpoint being written. It is planned up front (every
// TensorInfo and the metadata are given when it is created, so the header can
// be written first) and then streamed: WriteTensor must be called once per
// tensor, in the declared order. Errors are sticky: after a failure every
// later call returns the first error. Output goes to a temporary file beside
// the target that Close fsyncs and renames into place; Abort removes it.
type Sink interface {
	// WriteTensor writes the next tensor's raw bytes. name must be the next
	// declared tensor and len(data) its NumBytes.
	WriteTensor(name string, data []byte) error
	// Close fails if a declared tensor was not written (and then leaves no
	// output); otherwise it commits the file.
	Close() error
	// Abort discards the output. It is safe to call after Close.
	Abort() error
}

// TensorIndex returns the TensorInfo named name from infos.
func TensorIndex(infos []TensorInfo, name string) (TensorInfo, bool) {
	for _, t := range infos {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}
