package safetensors

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// IndexFile is the index of a sharded checkpoint, by the transformers
// convention: {"metadata": {"total_size": N}, "weight_map": {tensor: shard}}.
const IndexFile = "model.safetensors.index.json"

// SingleFile is the name of an unsharded checkpoint in a model directory.
const SingleFile = "model.safetensors"

// Sharded is a sharded checkpoint (a directory with an index and its shard
// files) read as one format.Source. Tensors are listed shard by shard (shard
// files in name order), each shard's in file order.
type Sharded struct {
	dir     string
	files   []string // shard file names, sorted
	shards  []*Reader
	tensors []format.TensorInfo
	where   map[string]int // tensor name -> shard index
}

// dirLayout says how a directory holds a checkpoint: the index file to read,
// or the single safetensors file to open. ok is false if it holds neither.
// It looks for, in order: model.safetensors.index.json; the only
// *.safetensors.index.json; model.safetensors; the only *.safetensors file.
func dirLayout(dir string) (index, single string, ok bool) {
	if isFile(filepath.Join(dir, IndexFile)) {
		return filepath.Join(dir, IndexFile), "", true
	}
	idx, _ := filepath.Glob(filepath.Join(globEscape(dir), "*.safetensors.index.json"))
	if len(idx) == 1 && isFile(idx[0]) {
		return idx[0], "", true
	}
	if isFile(filepath.Join(dir, SingleFile)) {
		return "", filepath.Join(dir, SingleFile), true
	}
	files, _ := filepath.Glob(filepath.Join(globEscape(dir), "*.safetensors"))
	if len(files) == 1 && isFile(files[0]) {
		return "", files[0], true
	}
	return "", "", false
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// globEscape escapes the glob metacharacters of a literal path.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// OpenDir opens a checkpoint directory as one Source: a sharded checkpoint
// (model.safetensors.index.json and its shards) as a *Sharded, a directory
// holding model.safetensors (or a single *.safetensors file) as a *Reader.
// The index and every shard are validated: each weight_map entry must name
// a file in dir holding that tensor, and every tensor of every shard must
// be in the weight_map.
func OpenDir(dir string) (format.Source, error) {
	index, single, ok := dirLayout(dir)
	if !ok {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("safetensors: %s: %w: %w", dir, format.ErrNotFound, err)
		}
		return nil, fmt.Errorf("safetensors: %s: no %s, %s or single .safetensors file: %w", dir, IndexFile, SingleFile, format.ErrNotFound)
	}
	if single != "" {
		return Open(single)
	}
	return openIndex(dir, index)
}

// indexJSON is the part of the index file lorakit reads.
type indexJSON struct {
	WeightMap map[string]string `json:"weight_map"`
}

func openIndex(dir, index string) (*Sharded, error) {
	fail := func(f string, args ...any) error {
		return fmt.Errorf("safetensors: %s: "+f, append([]any{index}, args...)...)
	}
	st, err := os.Stat(index)
	if err != nil {
		return nil, fail("%w", err)
	}
	if st.Size() > MaxHeaderBytes {
		return nil, fail("index of %d bytes is over the %d-byte limit: %w", st.Size(), MaxHeaderBytes, format.ErrFormat)
	}
	raw, err := format.ReadInput(index, MaxHeaderBytes)
	if err != nil {
		return nil, err
	}
	var ix indexJSON
	if err := json.Unmarshal(raw, &ix); err != nil {
		return nil, fail("invalid index JSON: %v: %w", err, format.ErrFormat)
	}
	if ix.WeightMap == nil {
		return nil, fail("no weight_map: %w", format.ErrFormat)
	}
	names := slices.Sorted(maps.Keys(ix.WeightMap))
	var files []string
	seenFile := make(map[string]bool)
	for _, name := range names {
		f := ix.WeightMap[name]
		if f == "" || f == "." || f == ".." || strings.ContainsAny(f, `/\`) || filepath.Base(f) != f {
			return nil, fail("tensor %q: shard %q is not a file name in the directory: %w", name, f, format.ErrFormat)
		}
		if !seenFile[f] {
			seenFile[f] = true
			files = append(files, f)
		}
	}
	slices.Sort(files)
	s := &Sharded{dir: dir, files: files, where: make(map[string]int, len(ix.WeightMap))}
	for i, f := range files {
		r, err := Open(filepath.Join(dir, f))
		if err != nil {
			s.Close()
			return nil, err
		}
		s.shards = append(s.shards, r)
		for _, t := range r.Tensors() {
			if want, ok := ix.WeightMap[t.Name]; !ok || want != f {
				s.Close()
				if !ok {
					return nil, fail("tensor %q of shard %s is not in the weight_map: %w", t.Name, f, format.ErrFormat)
				}
				return nil, fail("tensor %q is in shard %s, but the weight_map says %s: %w", t.Name, f, want, format.ErrFormat)
			}
			s.where[t.Name] = i
			s.tensors = append(s.tensors, t)
		}
	}
	for _, name := range names {
		if _, ok := s.where[name]; !ok {
			f := ix.WeightMap[name]
			s.Close()
			return nil, fail("tensor %q: not in its shard %s: %w", name, f, format.ErrFormat)
		}
	}
	return s, nil
}

// Format returns "safetensors".
func (s *Sharded) Format() string { return "safetensors" }

// Tensors lists every tensor, shard by shard.
func (s *Sharded) Tensors() []format.TensorInfo { return slices.Clone(s.tensors) }

// Metadata returns the first shard's __metadata__ (transformers writes the
// same into every shard).
func (s *Sharded) Metadata() format.Metadata {
	if len(s.shards) == 0 {
		return nil
	}
	return s.shards[0].Metadata()
}

// TensorData returns the named tensor's bytes from its mapped shard.
func (s *Sharded) TensorData(name string) ([]byte, error) {
	i, ok := s.where[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: %w", s.dir, name, format.ErrNotFound)
	}
	return s.shards[i].TensorData(name)
}

// Shard returns the file (a path in the directory) holding the tensor.
func (s *Sharded) Shard(name string) (string, bool) {
	i, ok := s.where[name]
	if !ok {
		return "", false
	}
	return filepath.Join(s.dir, s.files[i]), true
}

// Close closes every shard.
func (s *Sharded) Close() error {
	var first error
	for _, r := range s.shards {
		if err := r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Version returns 0.
func (s *Sharded) Version() int { return 0 }

// Alignment returns 8 (see Reader.Alignment).
func (s *Sharded) Alignment() int { return 8 }

// TensorOffset returns the offset of the tensor's first byte in its shard
// file (see Shard).
func (s *Sharded) TensorOffset(name string) (int64, bool) {
	i, ok := s.where[name]
	if !ok {
		return 0, false
	}
	return s.shards[i].TensorOffset(name)
}

var (
	_ format.Source = (*Sharded)(nil)
	_ format.Header = (*Sharded)(nil)
)
