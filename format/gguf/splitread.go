package gguf

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// Set is a split GGUF model opened from its first shard: one format.Source
// over all shards' tensors, in shard order, with the first shard's metadata
// less the split keys (so that a set reads exactly as the file it was split
// from). It implements format.Source and format.Releaser, not format.Header:
// tensor offsets are per shard (see Shard).
type Set struct {
	paths  []string
	shards []*Reader
	md     format.Metadata
	infos  []format.TensorInfo
	owner  map[string]int // tensor name -> shard index
}

// OpenModel opens the GGUF file at path as a model: a plain file as a
// *Reader, the first shard of a split set (a file with split.count) as a
// *Set of all its shards, found beside it by llama.cpp's naming
// (NAME-00001-of-0000n.gguf ...). Any other shard of a set is refused, as
// llama.cpp refuses it, naming the first shard. format.Open uses it.
func OpenModel(path string) (format.Source, error) {
	r, err := Open(path)
	if err != nil {
		return nil, err // a nil *Reader must not become a non-nil Source
	}
	if _, ok := r.md.Get(KeySplitCount); !ok {
		return r, nil
	}
	s, err := openSet(path, r)
	if err != nil {
		r.Close()
		return nil, err
	}
	return s, nil
}

// OpenSet opens the split set whose first shard is path. A file without
// split keys is a set of one.
func OpenSet(path string) (*Set, error) {
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	s, err := openSet(path, r)
	if err != nil {
		r.Close()
		return nil, err
	}
	return s, nil
}

// splitInfo reads a shard's split.no and split.count.
func splitInfo(r *Reader) (no, count int, err error) {
	c, okc := r.md.Int(KeySplitCount)
	n, okn := r.md.Int(KeySplitNo)
	switch {
	case !okc && !okn:
		return 0, 1, nil
	case !okc || !okn:
		return 0, 0, fmt.Errorf("gguf: %s: has only one of %s and %s: %w", r.name, KeySplitNo, KeySplitCount, format.ErrFormat)
	case c < 1 || c > MaxShards || n < 0 || n >= c:
		return 0, 0, fmt.Errorf("gguf: %s: %s = %d of %s = %d is out of range: %w", r.name, KeySplitNo, n, KeySplitCount, c, format.ErrFormat)
	}
	return int(n), int(c), nil
}

// openSet builds a Set from its open first shard r (which it then owns on
// success).
func openSet(path string, r *Reader) (*Set, error) {
	no, count, err := splitInfo(r)
	if err != nil {
		return nil, err
	}
	prefix, named := SplitPrefix(path, no, count)
	if no != 0 {
		hint := ""
		if named {
			hint = "; open " + SplitPath(prefix, 0, count)
		}
		return nil, fmt.Errorf("gguf: %s: is shard %d of %d of a split model, which is read from its first shard%s: %w", path, no+1, count, hint, format.ErrUnsupported)
	}
	if count > 1 && !named {
		return nil, fmt.Errorf("gguf: %s: first of %d shards, but not named NAME-%05d-of-%05d.gguf, so the others cannot be found: %w", path, count, 1, count, format.ErrFormat)
	}
	s := &Set{paths: []string{path}, shards: []*Reader{r}, owner: map[string]int{}}
	for _, kv := range r.md {
		if !splitKey(kv.Key) {
			s.md = append(s.md, kv)
		}
	}
	if err := s.add(r, 0); err != nil {
		return nil, err
	}
	for i := 1; i < count; i++ {
		p := SplitPath(prefix, i, count)
		sr, err := Open(p)
		if err != nil {
			s.closeFrom(1)
			return nil, fmt.Errorf("gguf: %s: shard %d of %d: %w", path, i+1, count, err)
		}
		s.paths, s.shards = append(s.paths, p), append(s.shards, sr)
		gotNo, gotCount, err := splitInfo(sr)
		if err == nil && (gotNo != i || gotCount != count) {
			err = fmt.Errorf("gguf: %s: says it is shard %d of %d, want %d of %d: %w", p, gotNo+1, gotCount, i+1, count, format.ErrFormat)
		}
		if err == nil {
			err = s.add(sr, i)
		}
		if err != nil {
			s.closeFrom(1)
			return nil, err
		}
	}
	if want, ok := r.md.Int(KeySplitTensors); ok && want != int64(len(s.infos)) {
		s.closeFrom(1)
		return nil, fmt.Errorf("gguf: %s: %s says %d tensors but the %d shards hold %d: %w", path, KeySplitTensors, want, count, len(s.infos), format.ErrFormat)
	}
	return s, nil
}

// add appends shard i's tensors.
func (s *Set) add(r *Reader, i int) error {
	for _, t := range r.infos {
		if j, dup := s.owner[t.Name]; dup {
			return fmt.Errorf("gguf: %s: tensor %q is also in %s: %w", s.paths[i], t.Name, s.paths[j], format.ErrFormat)
		}
		s.owner[t.Name] = i
		s.infos = append(s.infos, t)
	}
	return nil
}

// closeFrom closes shards i and later (the first belongs to the caller
// until openSet succeeds).
func (s *Set) closeFrom(i int) {
	for _, r := range s.shards[i:] {
		r.Close()
	}
}

// Format returns "gguf".
func (s *Set) Format() string { return "gguf" }

// Tensors lists every tensor of every shard, in shard order.
func (s *Set) Tensors() []format.TensorInfo { return s.infos }

// Metadata returns the first shard's metadata without the split keys.
func (s *Set) Metadata() format.Metadata { return s.md }

// Version returns the first shard's GGUF version.
func (s *Set) Version() int { return s.shards[0].version }

// Alignment returns the first shard's data alignment.
func (s *Set) Alignment() int { return int(s.shards[0].alignment) }

// Paths lists the shards' files in order.
func (s *Set) Paths() []string { return s.paths }

// Shard returns the file holding the named tensor and the tensor's offset
// in it.
func (s *Set) Shard(name string) (path string, offset int64, ok bool) {
	i, ok := s.owner[name]
	if !ok {
		return "", 0, false
	}
	off, _ := s.shards[i].TensorOffset(name)
	return s.paths[i], off, true
}

// TensorData returns the named tensor's bytes from its shard's mapping.
func (s *Set) TensorData(name string) ([]byte, error) {
	i, ok := s.owner[name]
	if !ok {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", s.paths[0], name, format.ErrNotFound)
	}
	return s.shards[i].TensorData(name)
}

// Release implements format.Releaser.
func (s *Set) Release(name string) {
	if i, ok := s.owner[name]; ok {
		s.shards[i].Release(name)
	}
}

// Close closes every shard.
func (s *Set) Close() error {
	var first error
	for _, r := range s.shards {
		if err := r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

var (
	_ format.Source   = (*Set)(nil)
	_ format.Releaser = (*Set)(nil)
)
