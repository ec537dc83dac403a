package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// splitFlags are --split-max-size and --split-max-tensors, which every
// command writing a GGUF model takes: the output is then a set of shards
// named and laid out as llama-gguf-split writes them (-o NAME.gguf gives
// NAME-00001-of-0000n.gguf ...).
type splitFlags struct {
	size    string
	tensors int
}

func (s *splitFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.size, "split-max-size", "", "write GGUF as llama-gguf-split shards of at most this much tensor data (500K, 1M, 2G: powers of 1000)")
	f.IntVar(&s.tensors, "split-max-tensors", 0, "write GGUF as llama-gguf-split shards of at most this many tensors")
}

// limits returns the split the flags ask for (none when neither is set).
func (s splitFlags) limits() (format.SplitLimits, error) {
	var lim format.SplitLimits
	if s.size != "" && s.tensors != 0 {
		return lim, usageError{fmt.Errorf("--split-max-size and --split-max-tensors: give one, not both (as llama-gguf-split)")}
	}
	if s.tensors < 0 {
		return lim, usageError{fmt.Errorf("--split-max-tensors %d: want a positive count", s.tensors)}
	}
	lim.MaxTensors = s.tensors
	if s.size != "" {
		n, err := gguf.ParseSplitSize(s.size)
		if err != nil {
			return lim, usageError{fmt.Errorf("--split-max-size: %w", err)}
		}
		lim.MaxBytes = n
	}
	return lim, nil
}
