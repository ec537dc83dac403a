package lora

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/internal/transpose"
)

// TestReadGGUFFixtures checks A and B against llama-gguf-hash's hashes of
// the raw tensor bytes: lora_a (ne [in, r]) is A (r x in) row-major and
// lora_b (ne [r, out]) is B (out x r), shapes and scales as fixtures/README.md
// documents them.
func TestReadGGUFFixtures(t *testing.T) {
	tests := []struct {
		stem    string
		arch    string
		rank    int
		scale   float64
		modules map[string][2]int // name -> in, out
	}{
		{"gpt2-lora-r4", "gpt2", 4, 16.0 / 4, map[string][2]int{"attn_qkv": {96, 288}, "attn_output": {96, 96}}},
		{"llama-lora-r8", "llama", 8, 8.0 / 8, map[string][2]int{"attn_q": {256, 64}, "attn_v": {256, 32}}},
	}
	for _, tt := range tests {
		t.Run(tt.stem, func(t *testing.T) {
			a, err := ReadGGUF(filepath.Join(sharedDir(t, "fixtures"), tt.stem+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			hashes := testshared.TensorHashes(t, filepath.Join(sharedDir(t, "fixtures/tensor-sha256"), tt.stem+".txt"))
			if a.Arch != tt.arch || a.Kind != KindGGUF || a.DType != format.F32 {
				t.Errorf("Arch, Kind, DType = %q, %v, %v, want %q, gguf, F32", a.Arch, a.Kind, a.DType, tt.arch)
			}
			if name, _ := a.Metadata.String("general.name"); name != "dev-"+tt.stem {
				t.Errorf("general.name = %q, want kept", name)
			}
			if got, want := len(a.Modules), 2*len(hashes)/4; got != want || len(hashes) == 0 {
				t.Fatalf("len(Modules) = %d, want %d", got, want)
			}
			for _, m := range a.Modules {
				_, kind, _ := strings.Cut(strings.TrimPrefix(m.Name, "blk."), ".")
				io, ok := tt.modules[kind]
				if !ok {
					t.Fatalf("unexpected module %q", m.Name)
				}
				if m.Rank != tt.rank || m.In != io[0] || m.Out != io[1] || m.Scale() != tt.scale {
					t.Errorf("%s: rank %d in %d out %d scale %v, want %d %d %d %v", m.Name, m.Rank, m.In, m.Out, m.Scale(), tt.rank, io[0], io[1], tt.scale)
				}
				if got, want := sha256Hex(f32Bytes(m.A)), hashes[m.Name+".weight.lora_a"]; got != want {
					t.Errorf("%s: sha256(A) = %s, want lora_a's %s", m.Name, got, want)
				}
				if got, want := sha256Hex(f32Bytes(m.B)), hashes[m.Name+".weight.lora_b"]; got != want {
					t.Errorf("%s: sha256(B) = %s, want lora_b's %s", m.Name, got, want)
				}
			}
		})
	}
}

// TestWriteGGUFRoundTrip rewrites the fixture: the tensors come out with
// the same bytes (hashes from llama-gguf-hash) and the same adapter keys.
func TestWriteGGUFRoundTrip(t *testing.T) {
	const stem = "gpt2-lora-r4"
	a, err := ReadGGUF(filepath.Join(sharedDir(t, "fixtures"), stem+".gguf"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a.gguf")
	if err := WriteGGUF(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	md := src.Metadata()
	for key, want := range map[string]any{
		"general.architecture": "gpt2", "general.type": "adapter", "adapter.type": "lora",
		"adapter.lora.alpha": float32(16), "general.name": "dev-" + stem, "general.file_type": uint32(0),
	} {
		if got, _ := md.Get(key); got != want {
			t.Errorf("%s = %v (%T), want %v (%T)", key, got, got, want, want)
		}
	}
	hashes := testshared.TensorHashes(t, filepath.Join(sharedDir(t, "fixtures/tensor-sha256"), stem+".txt"))
	if len(src.Tensors()) != len(hashes) {
		t.Errorf("%d tensors, want %d", len(src.Tensors()), len(hashes))
	}
	for _, ti := range src.Tensors() {
		data, err := src.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := sha256Hex(data), hashes[ti.Name]; got != want {
			t.Errorf("%s: sha256 = %s, want %s", ti.Name, got, want)
		}
	}
	b, err := ReadGGUF(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range a.Modules {
		if g := b.Modules[i]; g.Name != m.Name || !slices.Equal(g.A, m.A) || !slices.Equal(g.B, m.B) || g.Scale() != m.Scale() {
			t.Errorf("module %d differs after the round trip", i)
		}
	}
}

func TestGGUFTokenEmbdFlipped(t *testing.T) {
	// token_embd: W (n_vocab 5, n_embd 3); PEFT's lora_embedding_A is (r, n_vocab),
	// llama.cpp stores lora_a as (n_vocab, r), i.e. ne [r, n_vocab].
	m := &Module{Name: "token_embd", Rank: 2, In: 5, Out: 3, Alpha: 2, Embedding: true, A: seq(10, 1), B: seq(6, -1)}
	a := &Adapter{Arch: "llama", Modules: []*Module{m}}
	out := filepath.Join(t.TempDir(), "e.gguf")
	if err := WriteGGUF(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := format.TensorIndex(src.Tensors(), "token_embd.weight.lora_a")
	if !slices.Equal(info.Shape, []int64{5, 2}) {
		t.Errorf("lora_a shape = %v, want [5 2] (ne [2 5])", info.Shape)
	}
	data, _ := src.TensorData("token_embd.weight.lora_a")
	if got, want := sha256Hex(data), sha256Hex(f32Bytes(transpose.Of(m.A, 2, 5))); got != want {
		t.Errorf("lora_a bytes are not A transposed")
	}
	src.Close()
	b, err := ReadGGUF(out)
	if err != nil {
		t.Fatal(err)
	}
	if g := b.Modules[0]; !g.Embedding || g.In != 5 || g.Out != 3 || !slices.Equal(g.A, m.A) || !slices.Equal(g.B, m.B) {
		t.Errorf("read back %+v, want %+v", g, m)
	}
}

func TestWriteGGUFRefusals(t *testing.T) {
	mod := func(name string, alpha float64) *Module {
		return &Module{Name: name, Rank: 2, In: 2, Out: 2, Alpha: alpha, A: seq(4, 1), B: seq(4, 1)}
	}
	tests := []struct {
		name    string
		adapter func() *Adapter
		want    error
	}{
		{"no architecture", func() *Adapter { return &Adapter{Modules: []*Module{mod("blk.0.attn_q", 2)}} }, format.ErrUnsupported},
		{"DoRA", func() *Adapter {
			m := mod("blk.0.attn_q", 2)
			m.Magnitude = seq(2, 1)
			return &Adapter{Arch: "llama", Modules: []*Module{m}}
		}, format.ErrUnsupported},
		{"rsLoRA", func() *Adapter {
			m := mod("blk.0.attn_q", 2)
			m.RSLoRA = true
			return &Adapter{Arch: "llama", Modules: []*Module{m}}
		}, format.ErrUnsupported},
		{"two alphas", func() *Adapter {
			return &Adapter{Arch: "llama", Modules: []*Module{mod("blk.0.attn_q", 2), mod("blk.0.attn_v", 4)}}
		}, format.ErrUnsupported},
		{"modules_to_save", func() *Adapter {
			return &Adapter{Arch: "llama", Modules: []*Module{mod("blk.0.attn_q", 2)},
				Saved: []Tensor{{Name: "output.weight", DType: format.F32, Shape: []int64{1}, Data: make([]byte, 4)}}}
		}, format.ErrUnsupported},
		{"NaN", func() *Adapter {
			m := mod("blk.0.attn_q", 2)
			m.A[1] = float32(nanF)
			return &Adapter{Arch: "llama", Modules: []*Module{m}}
		}, format.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := WriteGGUF(tt.adapter(), filepath.Join(dir, "a.gguf"), WriteOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("WriteGGUF() error = %v, want %v", err, tt.want)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("failed write left %v", names)
			}
		})
	}
}

// TestFoldScaleForGGUF folds an rsLoRA adapter with an alpha_pattern into
// one alpha: every update is unchanged and the GGUF writer then accepts it.
func TestFoldScaleForGGUF(t *testing.T) {
	a := &Adapter{Arch: "llama", Modules: []*Module{
		{Name: "blk.0.attn_q", Rank: 4, In: 2, Out: 2, Alpha: 8, RSLoRA: true, A: seq(8, 1), B: seq(8, -1)}, // s = 8/2 = 4
		{Name: "blk.0.attn_v", Rank: 2, In: 2, Out: 2, Alpha: 3, A: seq(4, 1), B: seq(4, 1)},                // s = 1.5
	}}
	var before [][]float32
	for _, m := range a.Modules {
		before = append(before, m.Delta())
	}
	if err := a.FoldScale(16); err != nil {
		t.Fatal(err)
	}
	// Hand-computed: q's B is scaled by 4/(16/4) = 1, v's by 1.5/(16/2) = 0.1875.
	if got := a.Modules[1].B[1]; got != 1.25*0.1875 {
		t.Errorf("folded v B[1] = %v, want %v", got, 1.25*0.1875)
	}
	for i, m := range a.Modules {
		if m.Alpha != 16 || m.RSLoRA {
			t.Errorf("%s: alpha %v rslora %v after fold", m.Name, m.Alpha, m.RSLoRA)
		}
		for j, v := range m.Delta() {
			if d := v - before[i][j]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s: delta[%d] = %v, want %v", m.Name, j, v, before[i][j])
				break
			}
		}
	}
	if err := WriteGGUF(a, filepath.Join(t.TempDir(), "a.gguf"), WriteOptions{DType: format.F16}); err != nil {
		t.Fatal(err)
	}
}

func TestReadGGUFBadInput(t *testing.T) {
	write := func(t *testing.T, md format.Metadata, ts ...outTensor) string {
		p := filepath.Join(t.TempDir(), "a.gguf")
		if err := writeTensors("gguf", p, ts, md, false); err != nil {
			t.Fatal(err)
		}
		return p
	}
	adapterMD := format.Metadata{{Key: keyArch, Value: "llama"}, {Key: keyType, Value: "adapter"}, {Key: keyAdapter, Value: "lora"}, {Key: keyAlpha, Value: float32(4)}}
	la := f32Tensor("blk.0.attn_q.weight.lora_a", []int64{2, 3}, seq(6, 1))
	tests := []struct {
		name string
		path func(t *testing.T) string
		want error
	}{
		{"a model, not an adapter", func(t *testing.T) string {
			return write(t, format.Metadata{{Key: keyArch, Value: "llama"}}, f32Tensor("x", []int64{2}, seq(2, 1)))
		}, format.ErrFormat},
		{"not lora", func(t *testing.T) string {
			md := adapterMD.Clone()
			md.Set(keyAdapter, "control_vector")
			return write(t, md, la)
		}, format.ErrUnsupported},
		{"alpha of the wrong type", func(t *testing.T) string {
			md := adapterMD.Clone()
			md.Set(keyAlpha, "sixteen")
			return write(t, md, la)
		}, format.ErrFormat},
		{"missing half", func(t *testing.T) string { return write(t, adapterMD, la) }, format.ErrFormat},
		{"lora_a not transposed", func(t *testing.T) string {
			return write(t, adapterMD, la, f32Tensor("blk.0.attn_q.weight.lora_b", []int64{2, 4}, seq(8, 1)))
		}, format.ErrShape},
		{"integer tensor", func(t *testing.T) string {
			return write(t, adapterMD, outTensor{info: format.TensorInfo{Name: "blk.0.attn_q.weight.lora_a", DType: format.I32, Shape: []int64{2, 3}}, vals: seq(6, 1)},
				f32Tensor("blk.0.attn_q.weight.lora_b", []int64{4, 2}, seq(8, 1)))
		}, format.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path(t)
			_, err := ReadGGUF(p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadGGUF() error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line naming the file", err)
			}
		})
	}
}

var nanF = func() float64 { var z float64; return z / z }()
