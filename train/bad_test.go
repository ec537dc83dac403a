package train

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/train/data"
)

func TestNewBadInput(t *testing.T) {
	m0, tok := loadStories(t, model.Options{})
	tr, _ := e2eExamples(t, tok, 256, 8, 1)
	V := m0.Config.Vocab
	for _, c := range []struct {
		name  string
		edit  func(*Config)
		train []data.Example
		want  error
	}{
		{"rank larger than the layer", func(c *Config) { c.Rank, c.Targets = 33, []string{"v"} }, tr, format.ErrShape},
		{"rank 0", func(c *Config) { c.Rank = 0 }, tr, format.ErrInvalidOption},
		{"unknown target", func(c *Config) { c.Targets = []string{"zz"} }, tr, format.ErrNotFound},
		{"dropout 1", func(c *Config) { c.Dropout = 1 }, tr, format.ErrInvalidOption},
		{"no steps or epochs", func(c *Config) { c.Steps, c.Epochs = 0, 0 }, tr, format.ErrInvalidOption},
		{"unknown schedule", func(c *Config) { c.Schedule = "step" }, tr, format.ErrInvalidOption},
		{"full on a LoRA model", func(c *Config) { c.Full = true }, tr, format.ErrUnsupported},
		{"empty data", nil, nil, format.ErrNotFound},
		{"token out of range", nil, []data.Example{{Tokens: []int{1, V}, Prompt: 1, Line: 3}}, format.ErrFormat},
		{"longer than the context", nil, []data.Example{{Tokens: make([]int, m0.Config.Context+2), Prompt: 1, Line: 4}}, format.ErrShape},
		{"no completion token", nil, []data.Example{{Tokens: []int{1, 2, 3}, Prompt: 3, Line: 5}}, format.ErrFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := loadStories(t, model.Options{})
			cfg := tinyConfig()
			if c.edit != nil {
				c.edit(&cfg)
			}
			_, err := New(m, cfg, c.train, nil)
			if !errors.Is(err, c.want) {
				t.Errorf("New(%s) = %v, want %v", c.name, err, c.want)
			}
		})
	}
}

func TestResumeBadCheckpoint(t *testing.T) {
	m, tok := loadStories(t, model.Options{})
	tr, _ := e2eExamples(t, tok, 256, 16, 1)
	cfg := tinyConfig()
	cfg.Steps = 2
	tn, err := New(m, cfg, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tn.Dir = dir
	if err := tn.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	fresh := func(cfg Config) *Trainer {
		m, _ := loadStories(t, model.Options{})
		tn, err := New(m, cfg, tr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	t.Run("no checkpoint", func(t *testing.T) {
		if err := fresh(cfg).Resume(t.TempDir()); !errors.Is(err, format.ErrNotFound) {
			t.Errorf("Resume(empty dir) = %v, want ErrNotFound", err)
		}
	})
	t.Run("other configuration", func(t *testing.T) {
		other := cfg
		other.Rank = 8
		if err := fresh(other).Resume(dir); !errors.Is(err, format.ErrFormat) {
			t.Errorf("Resume(rank 8 into a rank-4 checkpoint) = %v, want ErrFormat", err)
		}
	})
	t.Run("corrupt state", func(t *testing.T) {
		bad := t.TempDir()
		os.MkdirAll(filepath.Join(bad, CheckpointDir), 0o755)
		os.WriteFile(filepath.Join(bad, CheckpointDir, stateFile), []byte("{not json"), 0o644)
		if err := fresh(cfg).Resume(bad); !errors.Is(err, format.ErrFormat) {
			t.Errorf("Resume(corrupt state.json) = %v, want ErrFormat", err)
		}
	})
	t.Run("dropout state", func(t *testing.T) {
		p := filepath.Join(dir, CheckpointDir, stateFile)
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(p, orig, 0o644)
		for _, c := range []struct {
			name string
			edit func(*State)
			want error
		}{
			{"missing", func(s *State) { s.Dropout = nil }, format.ErrUnsupported},
			{"truncated", func(s *State) { s.Dropout = s.Dropout[:len(s.Dropout)-3] }, format.ErrFormat},
		} {
			var s State
			if err := json.Unmarshal(orig, &s); err != nil {
				t.Fatal(err)
			}
			c.edit(&s)
			b, _ := json.Marshal(s)
			os.WriteFile(p, b, 0o644)
			if err := fresh(cfg).Resume(dir); !errors.Is(err, c.want) {
				t.Errorf("Resume(%s dropout state) = %v, want %v", c.name, err, c.want)
			}
		}
	})
	t.Run("stored configuration out of range", func(t *testing.T) {
		// A checkpoint is a file: a bad stored setting makes it malformed
		// (ErrFormat), and the message says which setting (ErrInvalidOption).
		p := filepath.Join(dir, CheckpointDir, stateFile)
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(p, orig, 0o644)
		var s State
		if err := json.Unmarshal(orig, &s); err != nil {
			t.Fatal(err)
		}
		s.Config.LR = -1
		b, _ := json.Marshal(s)
		os.WriteFile(p, b, 0o644)
		err = fresh(cfg).Resume(dir)
		if !errors.Is(err, format.ErrFormat) || !errors.Is(err, format.ErrInvalidOption) {
			t.Errorf("Resume(learning rate -1 in state.json) = %v, want ErrFormat and ErrInvalidOption", err)
		}
	})
	t.Run("truncated trainable", func(t *testing.T) {
		p := filepath.Join(dir, CheckpointDir, trainableFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)/2], 0o644)
		if err := fresh(cfg).Resume(dir); !errors.Is(err, format.ErrFormat) {
			t.Errorf("Resume(truncated trainable.safetensors) = %v, want ErrFormat", err)
		}
	})
}

func TestWriteModelRefusesLoRA(t *testing.T) {
	m, _ := loadStories(t, model.Options{})
	if err := m.AddLoRA(model.LoRAConfig{Targets: []string{"q"}, Rank: 2, Alpha: 2}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FinalModelGGUF)
	if err := WriteModel(t.Context(), m, nil, path); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("WriteModel(model with LoRA layers) = %v, want %v", err, format.ErrUnsupported)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteModel refused but left %s: %v", path, err)
	}
}
