package merge

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/atomicfile"
)

// writeHFDir writes a Hugging Face model directory beside the base's: every
// file of the base directory other than the weights is copied byte for
// byte, and the weights are written with the same file names, shard by
// shard, each tensor in the shard it came from; the index is rewritten
// (total_size changes with --dtype). The directory appears whole or not at
// all.
func writeHFDir(s *streamer, out string, infos []format.TensorInfo, md format.Metadata, force bool) error {
	entries, err := os.ReadDir(s.b.Path)
	if err != nil {
		return err
	}
	var shards []string // weight files, in order of their first tensor
	byShard := map[string][]format.TensorInfo{}
	single := ""
	if s.b.Shard == nil {
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".safetensors") {
				if single != "" {
					single = safetensors.SingleFile // OpenDir chose model.safetensors
					break
				}
				single = e.Name()
			}
		}
	}
	for _, t := range infos {
		file := single
		if s.b.Shard != nil {
			p, ok := s.b.Shard(t.Name)
			if !ok {
				return fmt.Errorf("%s: tensor %q has no shard: %w", s.b.Path, t.Name, format.ErrFormat)
			}
			file = filepath.Base(p)
		}
		if _, ok := byShard[file]; !ok {
			shards = append(shards, file)
		}
		byShard[file] = append(byShard[file], t)
	}
	weights := map[string]bool{safetensors.IndexFile: s.b.Shard != nil}
	for _, f := range shards {
		weights[f] = true
	}
	replaceable := func(name string) bool {
		if weights[name] {
			return true
		}
		for _, e := range entries {
			if e.Name() == name {
				return true
			}
		}
		return false
	}
	return atomicfile.WriteDir(out, force, replaceable, func(dir string) error {
		for _, e := range entries {
			if weights[e.Name()] || !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".safetensors") {
				continue
			}
			if err := copyFile(filepath.Join(s.b.Path, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
		weightMap := map[string]string{}
		var total int64
		for _, f := range shards {
			sink, err := safetensors.Create(filepath.Join(dir, f), byShard[f], md, format.CreateOptions{})
			if err != nil {
				return err
			}
			if err := s.write(sink, byShard[f]); err != nil {
				return err
			}
			for _, t := range byShard[f] {
				weightMap[t.Name] = f
				n, _ := t.NumBytes()
				total += n
			}
		}
		if s.b.Shard == nil {
			return nil
		}
		index := map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}
		raw, err := json.MarshalIndent(index, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, safetensors.IndexFile), append(raw, '\n'), 0o644)
	})
}

// copyFile copies a regular file.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
