package format

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
)

// Driver is a container format's entry in the registry: how to recognise,
// open and create its files. Sub-packages register one in their init.
type Driver struct {
	// Name is the format's name, as Source.Format returns it.
	Name string
	// Probe reports whether the file or directory at path holds this format.
	// head is the file's first bytes (at most 64; nil for a directory).
	Probe func(path string, head []byte, isDir bool) bool
	// Open opens path as a Source.
	Open func(path string) (Source, error)
	// Create starts writing path (nil if the format cannot be written).
	Create func(path string, infos []TensorInfo, md Metadata, opts CreateOptions) (Sink, error)
	// Splits reports that Create honours CreateOptions.Split.
	Splits bool
}

// CreateOptions are the format-independent options of Driver.Create.
type CreateOptions struct {
	// Force replaces an existing output (never an input of this process).
	Force bool
	// Split, when enabled, writes the output as a set of shards (GGUF:
	// llama-gguf-split's NAME-00001-of-0000n.gguf files). Formats that
	// cannot split refuse it.
	Split SplitLimits
}

// SplitLimits bound each shard of a split output. Zero values mean no
// limit; at least one must be set for a split (see Enabled).
type SplitLimits struct {
	// MaxBytes is the most tensor data per shard, each tensor counted
	// padded to the alignment (llama-gguf-split's --split-max-size).
	MaxBytes int64
	// MaxTensors is the most tensors per shard (--split-max-tensors).
	MaxTensors int
}

// Enabled reports whether s asks for a split.
func (s SplitLimits) Enabled() bool { return s.MaxBytes > 0 || s.MaxTensors > 0 }

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// RegisterFormat makes a format known to Open and Create. It panics if the
// name is registered twice (a programmer error).
func RegisterFormat(d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if _, dup := drivers[d.Name]; dup {
		panic("format: RegisterFormat called twice for " + d.Name)
	}
	drivers[d.Name] = d
}

func sortedDrivers() []Driver {
	driversMu.RLock()
	defer driversMu.RUnlock()
	out := make([]Driver, 0, len(drivers))
	for _, d := range drivers {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Detect names the registered format of the file or directory at path,
// judged by content, not by extension.
func Detect(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, notFound(err))
	}
	var head []byte
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		defer f.Close()
		buf := make([]byte, 64)
		n, err := io.ReadFull(f, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		head = buf[:n]
	}
	for _, d := range sortedDrivers() {
		if d.Probe(path, head, st.IsDir()) {
			return d.Name, nil
		}
	}
	return "", fmt.Errorf("%s: not a checkpoint lorakit recognises: %w", path, ErrUnsupported)
}

// Open detects the format of path and opens it.
func Open(path string) (Source, error) {
	name, err := Detect(path)
	if err != nil {
		return nil, err
	}
	return driver(name).Open(path)
}

// Create starts writing a checkpoint of the named format at path.
func Create(formatName, path string, infos []TensorInfo, md Metadata, opts CreateOptions) (Sink, error) {
	d := driver(formatName)
	if d.Create == nil {
		return nil, fmt.Errorf("%s: writing %q files: %w", path, formatName, ErrUnsupported)
	}
	if opts.Split.Enabled() && !d.Splits {
		return nil, fmt.Errorf("%s: %s output cannot be split into shards (only GGUF): %w", path, formatName, ErrUnsupported)
	}
	return d.Create(path, infos, md, opts)
}

func driver(name string) Driver {
	driversMu.RLock()
	defer driversMu.RUnlock()
	return drivers[name]
}

// notFound wraps a missing-file error with ErrNotFound, keeping the cause.
func notFound(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
