package safetensors

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
)

// shardWriter writes a sharded checkpoint. Every shard goes to a temporary
// file; Close commits the shards and then the index, so a failure at any
// point leaves none of them.
type shardWriter struct {
	dir        string
	createdDir bool
	force      bool
	md         format.Metadata
	infos      []format.TensorInfo
	index      map[string]int
	shardOf    []int    // infos[i] goes to shard shardOf[i]
	targets    []string // shard paths
	plans      [][]format.TensorInfo
	files      []*atomicfile.File // opened shard files, in order
	cur        *Writer            // writer of the last opened shard
	curBuf     *bufio.Writer
	next       int
	total      int64
	err        error
	closed     bool
}

// CreateSharded plans a checkpoint directory written as shards of at most
// maxShardBytes bytes of tensor data each (a larger tensor gets a shard of
// its own), filled greedily in the declared order as transformers'
// save_pretrained does, named model-0000k-of-0000n.safetensors, plus
// model.safetensors.index.json. When everything fits one shard (or
// maxShardBytes <= 0) it writes a single model.safetensors and no index.
// Each shard carries md. dir is created if missing. Outputs that exist fail
// with format.ErrExists unless opts.Force; a failed or aborted write leaves
// none of them.
func CreateSharded(dir string, infos []format.TensorInfo, md format.Metadata, maxShardBytes int64, opts format.CreateOptions) (format.Sink, error) {
	sw := &shardWriter{dir: dir, force: opts.Force, md: md, infos: append([]format.TensorInfo(nil), infos...)}
	// Validate the whole plan first (names, dtypes, metadata), as one file.
	plan, err := NewWriter(discard{}, infos, md)
	if err != nil {
		return nil, fmt.Errorf("%w (writing %s)", err, dir)
	}
	sw.index = plan.index
	var size int64
	sw.shardOf = make([]int, len(infos))
	sw.plans = [][]format.TensorInfo{nil}
	for i, t := range infos {
		n, _ := t.NumBytes() // checked by NewWriter
		last := len(sw.plans) - 1
		if maxShardBytes > 0 && len(sw.plans[last]) > 0 && size+n > maxShardBytes {
			sw.plans = append(sw.plans, nil)
			last++
			size = 0
		}
		sw.plans[last] = append(sw.plans[last], t)
		sw.shardOf[i] = last
		size += n
		sw.total += n
	}
	nShards := len(sw.plans)
	if nShards == 1 {
		sw.targets = []string{filepath.Join(dir, SingleFile)}
	} else {
		for k := range nShards {
			sw.targets = append(sw.targets, filepath.Join(dir, fmt.Sprintf("model-%05d-of-%05d.safetensors", k+1, nShards)))
		}
	}
	outputs := append([]string(nil), sw.targets...)
	if nShards > 1 {
		outputs = append(outputs, filepath.Join(dir, IndexFile))
	}
	for _, p := range outputs {
		if err := atomicfile.CheckOutput(p, opts.Force); err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
		sw.createdDir = true
	}
	return sw, nil
}

// discard is an io.Writer that drops everything.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// WriteTensor writes the next declared tensor into its shard.
func (s *shardWriter) WriteTensor(name string, data []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return fmt.Errorf("safetensors: %s: tensor %q: write after Close", s.dir, name)
	}
	if s.next >= len(s.infos) || s.infos[s.next].Name != name {
		_, declared := s.index[name]
		s.err = fmt.Errorf("safetensors: %s: %w", s.dir, orderError(name, declared, s.infos, s.next))
		return s.err
	}
	if k := s.shardOf[s.next]; k == len(s.files) {
		if s.err = s.openShard(k); s.err != nil {
			return s.err
		}
	}
	if s.err = s.cur.WriteTensor(name, data); s.err == nil {
		s.next++
	}
	return s.err
}

// openShard finishes the current shard and starts shard k.
func (s *shardWriter) openShard(k int) error {
	if err := s.finishShard(); err != nil {
		return err
	}
	f, err := atomicfile.Create(s.targets[k], s.force)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	s.files = append(s.files, f)
	s.curBuf = bufio.NewWriterSize(f, 1<<20)
	w, err := NewWriter(s.curBuf, s.plans[k], s.md)
	if err != nil {
		return err
	}
	w.name = s.targets[k]
	s.cur = w
	return nil
}

// finishShard completes the current shard's data (not yet committed).
func (s *shardWriter) finishShard() error {
	if s.cur == nil {
		return nil
	}
	if err := s.cur.Close(); err != nil {
		return err
	}
	if err := s.curBuf.Flush(); err != nil {
		return fmt.Errorf("safetensors: %s: %w", s.cur.name, err)
	}
	return nil
}

// Close finishes the last shard, writes the index and commits every file.
func (s *shardWriter) Close() error {
	if s.closed {
		return s.err
	}
	if s.err == nil && s.next < len(s.infos) {
		s.err = fmt.Errorf("safetensors: %s: tensor %q: declared but never written (%d of %d written): %w",
			s.dir, s.infos[s.next].Name, s.next, len(s.infos), format.ErrNotFound)
	}
	if s.err == nil && len(s.files) == 0 { // no tensors: an empty model.safetensors
		s.err = s.openShard(0)
	}
	if s.err == nil {
		s.err = s.finishShard()
	}
	var index *atomicfile.File
	if s.err == nil && len(s.targets) > 1 {
		index, s.err = s.writeIndex()
	}
	if s.err != nil {
		s.Abort()
		return s.err
	}
	s.closed = true
	for i, f := range s.files {
		if err := f.Commit(); err != nil {
			s.err = fmt.Errorf("safetensors: %w", err)
			for _, g := range s.files[i+1:] {
				g.Abort()
			}
			if index != nil {
				index.Abort()
			}
			s.removeCommitted(i)
			return s.err
		}
	}
	if index != nil {
		if err := index.Commit(); err != nil {
			s.err = fmt.Errorf("safetensors: %w", err)
			s.removeCommitted(len(s.files))
		}
	}
	return s.err
}

// removeCommitted removes the first n committed shards (and the directory if
// this writer made it) after a failure.
func (s *shardWriter) removeCommitted(n int) {
	for _, t := range s.targets[:n] {
		os.Remove(t)
	}
	if s.createdDir {
		os.Remove(s.dir)
	}
}

// writeIndex writes model.safetensors.index.json to a temporary file, as
// transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n"
// (identical for ASCII tensor names).
func (s *shardWriter) writeIndex() (*atomicfile.File, error) {
	target := filepath.Join(s.dir, IndexFile)
	wm := make(map[string]string, len(s.infos))
	for i, t := range s.infos {
		wm[t.Name] = filepath.Base(s.targets[s.shardOf[i]])
	}
	ix := map[string]any{
		"metadata":   map[string]json.Number{"total_size": json.Number(strconv.FormatInt(s.total, 10))},
		"weight_map": wm,
	}
	f, err := atomicfile.Create(target, s.force)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ix); err != nil {
		f.Abort()
		return nil, fmt.Errorf("safetensors: %s: %w", target, err)
	}
	return f, nil
}

// Abort discards every shard and the index. It is safe after Close.
func (s *shardWriter) Abort() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.err == nil {
		s.err = fmt.Errorf("safetensors: %s: %w", s.dir, errAborted)
	}
	for _, f := range s.files {
		f.Abort()
	}
	if s.createdDir {
		os.Remove(s.dir) // only if empty
	}
	return nil
}
