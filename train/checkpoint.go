package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/lora"
)

// A checkpoint is a directory (Dir/checkpoint, replaced atomically at each
// save) that is also an adapter: PEFT's two files when the architecture
// has a Hugging Face mapping (llama, gpt2), else a llama.cpp LoRA GGUF. It
// holds what Resume needs to continue bit for bit: the trainable values
// exactly (trainable.safetensors, F32), the optimizer's moments and step
// (optimizer.safetensors), and the run's state (state.json: config, data
// position, the LoRA dropout generators' state, loss history).
const (
	CheckpointDir  = "checkpoint"
	stateFile      = "state.json"
	trainableFile  = "trainable.safetensors"
	optimizerFile  = "optimizer.safetensors"
	adapterGGUF    = "adapter.gguf"
	peftConfigFile = "adapter_config.json"
	peftModelFile  = "adapter_model.safetensors"
)

var checkpointFiles = map[string]bool{stateFile: true, trainableFile: true, optimizerFile: true, adapterGGUF: true, peftConfigFile: true, peftModelFile: true}

// SaveCheckpoint writes the run's checkpoint to Dir/checkpoint.
func (t *Trainer) SaveCheckpoint() error {
	if t.Dir == "" {
		return fmt.Errorf("train: no output directory for the checkpoint: %w", format.ErrNotFound)
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	target := filepath.Join(t.Dir, CheckpointDir)
	t.state.Dropout = t.m.DropoutState()
	if t.Inputs != nil {
		t.state.Inputs = t.Inputs
	}
	state, err := json.MarshalIndent(t.state, "", " ")
	if err != nil {
		return fmt.Errorf("train: %s: %w", target, err)
	}
	return atomicfile.WriteDir(target, true, func(name string) bool { return checkpointFiles[name] }, func(tmp string) error {
		if err := writeVector(filepath.Join(tmp, trainableFile), t.params[0].Name, t.m.Params()); err != nil {
			return fmt.Errorf("train: %s: %w", target, err)
		}
		if err := writeFileWith(filepath.Join(tmp, optimizerFile), t.opt.WriteState); err != nil {
			return fmt.Errorf("train: %s: %w", target, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, stateFile), append(state, '\n'), 0o644); err != nil {
			return fmt.Errorf("train: %s: %w", target, err)
		}
		if t.cfg.Full {
			return nil
		}
		a, peft, err := t.adapter()
		if err != nil {
			return err
		}
		if !peft {
			return lora.WriteGGUF(a, filepath.Join(tmp, adapterGGUF), lora.WriteOptions{})
		}
		sub := filepath.Join(tmp, "peft")
		if err := lora.WritePEFT(a, sub, lora.WriteOptions{}); err != nil {
			return err
		}
		for _, f := range []string{peftConfigFile, peftModelFile} {
			if err := os.Rename(filepath.Join(sub, f), filepath.Join(tmp, f)); err != nil {
				return fmt.Errorf("train: %s: %w", target, err)
			}
		}
		return os.Remove(sub)
	})
}

// writeFileWith creates path and fills it with write.
func writeFileWith(path string, write func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeVector writes x as one F32 safetensors tensor [len(x)].
func writeVector(path, name string, x []float32) error {
	return writeFileWith(path, func(w io.Writer) error {
		sw, err := safetensors.NewWriter(w, []format.TensorInfo{{Name: name, DType: format.F32, Shape: []int64{int64(len(x))}}}, nil)
		if err != nil {
			return err
		}
		buf := make([]byte, 4*len(x))
		if err := format.FromFloat32(buf, x, format.F32); err != nil {
			return err
		}
		if err := sw.WriteTensor(name, buf); err != nil {
			return err
		}
		return sw.Close()
	})
}

// readVector reads the F32 tensor name of length n from a safetensors file.
func readVector(path, name string, n int) ([]float32, error) {
	// Read, not format.Open: that would mark the checkpoint an input, which
	// the next save may not replace.
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src, err := safetensors.NewReader(bytes.NewReader(buf), int64(len(buf)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info, ok := format.TensorIndex(src.Tensors(), name)
	if !ok {
		return nil, fmt.Errorf("%s: tensor %q: %w", path, name, format.ErrNotFound)
	}
	if info.DType != format.F32 || len(info.Shape) != 1 || info.Shape[0] != int64(n) {
		return nil, fmt.Errorf("%s: tensor %q is %v %v, want F32 [%d] (a checkpoint of another configuration?): %w", path, name, info.DType, info.Shape, n, format.ErrShape)
	}
	raw, err := src.TensorData(name)
	if err != nil {
		return nil, err
	}
	x := make([]float32, n)
	if err := format.ToFloat32(x, raw, format.F32); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// ReadState reads the state of the checkpoint in dir/checkpoint.
func ReadState(dir string) (State, error) {
	path := filepath.Join(dir, CheckpointDir, stateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return State{}, fmt.Errorf("train: %s: no checkpoint to resume: %w", path, format.ErrNotFound)
		}
		return State{}, fmt.Errorf("train: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("train: %s: %v: %w", path, err, format.ErrFormat)
	}
	if s.Step < 0 || s.Micro < 0 || s.Tokens < 0 {
		return State{}, fmt.Errorf("train: %s: negative counters: %w", path, format.ErrFormat)
	}
	if err := s.Config.Validate(); err != nil {
		// A stored configuration out of range is a malformed checkpoint.
		return State{}, fmt.Errorf("train: %s: %w: %w", path, err, format.ErrFormat)
	}
	return s, nil
}

// Resume restores the checkpoint in dir/checkpoint into a Trainer made by
// New with the checkpoint's config (State.Config) on the same base and
// data: trainable values, optimizer state, data position, the LoRA
// dropout generators (so later masks match the uninterrupted run's) and
// history.
func (t *Trainer) Resume(dir string) error {
	s, err := ReadState(dir)
	if err != nil {
		return err
	}
	if t.state.Step != 0 {
		return fmt.Errorf("train: resume into a trainer that has run %d steps: %w", t.state.Step, format.ErrExists)
	}
	if !sameConfig(withoutSteps(s.Config), withoutSteps(t.cfg)) {
		return fmt.Errorf("train: %s: the checkpoint was made with another configuration: %w", dir, format.ErrFormat)
	}
	if s.Step > t.total {
		return fmt.Errorf("train: %s: the checkpoint is at step %d, beyond the %d steps asked for: %w", dir, s.Step, t.total, format.ErrFormat)
	}
	if err := checkInputs(s.Inputs, t.Inputs, dir); err != nil {
		return err
	}
	ck := filepath.Join(dir, CheckpointDir)
	vals, err := readVector(filepath.Join(ck, trainableFile), t.params[0].Name, len(t.m.Params()))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	f, err := os.Open(filepath.Join(ck, optimizerFile))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := t.opt.ReadState(f, st.Size(), f.Name()); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := t.m.SetDropoutState(s.Dropout); err != nil {
		if len(s.Dropout) == 0 {
			return fmt.Errorf("train: %s: the checkpoint has no dropout state (made by an older lorakit?): %w", dir, format.ErrUnsupported)
		}
		return fmt.Errorf("train: %s: %w", dir, err)
	}
	copy(t.m.Params(), vals)
	t.m.ZeroGrad()
	s.Config = t.cfg // the same, but for a --steps extension
	if t.Inputs != nil {
		s.Inputs = t.Inputs
	}
	t.state = s
	return nil
}

// withoutSteps is c with Steps cleared: a resumed run may be extended.
func withoutSteps(c Config) Config {
	c.Steps = 0
	return c
}

// sameConfig compares the fields that shape a run's numbers.
func sameConfig(a, b Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
