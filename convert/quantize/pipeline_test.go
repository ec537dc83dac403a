package quantize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/format/gguf/quant"
	_ "github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/testshared"
)

func mustPreset(t *testing.T, s string) Preset {
	t.Helper()
	p, err := ParsePreset(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tensorHashes returns the sha256 and type of every tensor of a GGUF file.
func tensorHashes(t *testing.T, path string) (map[string]string, map[string]format.DType, []string) {
	t.Helper()
	r, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hashes, types := map[string]string{}, map[string]format.DType{}
	var order []string
	for _, ti := range r.Tensors() {
		d, err := r.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		hashes[ti.Name], types[ti.Name] = hashOf(d), ti.DType
		order = append(order, ti.Name)
	}
	return hashes, types, order
}

// TestKeep: --keep leaves the matching tensors as they are in the input and
// every other tensor as llama-quantize wrote it.
func TestKeep(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	out := quantizeFixture(t, dir, "llama-q4_k_m", "Q4_K_M", Options{Keep: regexp.MustCompile(`^blk\.0\.|^output\.weight$`)})
	got, types, _ := tensorHashes(t, out)
	f32 := testshared.TensorHashes(t, filepath.Join(dir, "tensor-sha256", "llama-f32.txt"))
	q := testshared.TensorHashes(t, filepath.Join(dir, "tensor-sha256", "llama-q4_k_m.txt"))
	for name, h := range got {
		kept := strings.HasPrefix(name, "blk.0.") || name == "output.weight"
		want := q[name]
		if kept {
			want = f32[name]
			if types[name] != format.F32 {
				t.Errorf("kept %s has type %v, want F32", name, types[name])
			}
		}
		if h != want {
			t.Errorf("sha256(%s) = %s, want %s (kept %v)", name, h, want, kept)
		}
	}
}

// TestDryRun: the plan lists the types and sizes llama-quantize's file has,
// and writes nothing.
func TestDryRun(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	for _, run := range fixtureRuns {
		t.Run(run.stem, func(t *testing.T) {
			src := filepath.Join(dir, strings.SplitN(run.stem, "-", 2)[0]+"-f32.gguf")
			plan, err := PlanFile(src, Options{Preset: mustPreset(t, run.preset)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := gguf.Open(filepath.Join(dir, run.stem+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want := r.Tensors()
			if len(plan.Tensors) != len(want) {
				t.Fatalf("plan has %d tensors, want %d", len(plan.Tensors), len(want))
			}
			var wantTotal int64
			for i, pt := range plan.Tensors {
				d, _ := r.TensorData(want[i].Name)
				wantTotal += int64(len(d))
				if pt.In.Name != want[i].Name || pt.Out != want[i].DType || pt.OutBytes != int64(len(d)) {
					t.Errorf("plan[%d] = %s %v %d bytes, want %s %v %d", i, pt.In.Name, pt.Out, pt.OutBytes, want[i].Name, want[i].DType, len(d))
				}
			}
			if _, out := plan.Totals(); out != wantTotal {
				t.Errorf("Totals() out = %d, want %d", out, wantTotal)
			}
			var buf bytes.Buffer
			if err := plan.WriteTable(&buf); err != nil || !strings.Contains(buf.String(), "token_embd.weight") {
				t.Errorf("WriteTable = %v, %q", err, buf.String())
			}
		})
	}
}

// TestRequantize: a quantized input is dequantized and requantized; a
// tensor already in its target type is copied, so requantizing
// llama-q8_0 to Q8_0 gives the same file back.
func TestRequantize(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	ctx := context.Background()
	tmp := t.TempDir()

	in := filepath.Join(dir, "llama-q8_0.gguf")
	same := filepath.Join(tmp, "same.gguf")
	if _, err := File(ctx, in, same, Options{Preset: mustPreset(t, "q8_0")}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(same)
	b, _ := os.ReadFile(in)
	if !bytes.Equal(a, b) {
		t.Errorf("File(llama-q8_0, Q8_0) differs from its input")
	}

	// Q8_0 -> Q4_K_M: the types of llama-quantize's Q4_K_M file, and the
	// bytes of the codecs applied to the dequantized values.
	k := filepath.Join(tmp, "k.gguf")
	if _, err := File(ctx, in, k, Options{Preset: mustPreset(t, "Q4_K_M")}); err != nil {
		t.Fatal(err)
	}
	_, wantTypes := readDump(t, filepath.Join(dir, "dumps", "llama-q4_k_m.dump.txt"))
	got, types, order := tensorHashes(t, k)
	src, err := gguf.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i, w := range wantTypes {
		if order[i] != w.name || types[w.name].String() != w.typ {
			t.Errorf("tensor %d = %s %v, want %s %s", i, order[i], types[order[i]], w.name, w.typ)
		}
		ti, _ := format.TensorIndex(src.Tensors(), w.name)
		if ti.DType != format.Q8_0 {
			continue
		}
		if want := requantized(t, src, ti, types[w.name]); got[w.name] != want {
			t.Errorf("sha256(%s) = %s, want %s (dequantized, then quantized to %v)", w.name, got[w.name], want, types[w.name])
		}
	}
}

// requantized returns the sha256 of tensor ti of src decoded to float32 and
// encoded as dt.
func requantized(t *testing.T, src format.Source, ti format.TensorInfo, dt format.DType) string {
	t.Helper()
	data, err := src.TensorData(ti.Name)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := ti.NumElements()
	x := make([]float32, n)
	if err := format.ToFloat32(x, data, ti.DType); err != nil {
		t.Fatal(err)
	}
	nb, _ := dt.RowBytes(n)
	out := make([]byte, nb)
	_, cols := ti.Rows()
	if dt.IsBlock() {
		err = quant.QuantizeRows(out, x, int(cols), dt)
	} else {
		err = format.FromFloat32(out, x, dt)
	}
	if err != nil {
		t.Fatal(err)
	}
	return hashOf(out)
}

// TestHalfInput: F16 tensors are decoded, then quantized; tensors that are
// not quantized (position_embd, F16 here) are copied in their type.
func TestHalfInput(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	in := filepath.Join(dir, "gpt2-f16.gguf")
	out := filepath.Join(t.TempDir(), "q.gguf")
	if _, err := File(context.Background(), in, out, Options{Preset: mustPreset(t, "Q8_0")}); err != nil {
		t.Fatal(err)
	}
	got, types, _ := tensorHashes(t, out)
	src, err := gguf.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, ti := range src.Tensors() {
		want := types[ti.Name]
		switch {
		case ti.Name == "position_embd.weight" || len(ti.Shape) == 1:
			if want != ti.DType {
				t.Errorf("%s: type %v, want %v (copied)", ti.Name, want, ti.DType)
			}
		case want != format.Q8_0:
			t.Errorf("%s: type %v, want Q8_0", ti.Name, want)
		}
		if h := requantized(t, src, ti, want); got[ti.Name] != h {
			t.Errorf("sha256(%s) = %s, want %s", ti.Name, got[ti.Name], h)
		}
	}
}

// TestSafetensorsInput: a safetensors checkpoint becomes a GGUF file with
// its names carried as they are.
func TestSafetensorsInput(t *testing.T) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "model.safetensors")
	infos := []format.TensorInfo{
		{Name: "model.norm.weight", DType: format.F32, Shape: []int64{64}},
		{Name: "model.layers.0.mlp.down_proj.weight", DType: format.F16, Shape: []int64{32, 64}},
		{Name: "model.embed_tokens.weight", DType: format.BF16, Shape: []int64{10, 64}},
	}
	sink, err := format.Create("safetensors", in, infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range infos {
		n, _ := ti.NumElements()
		x := make([]float32, n)
		for j := range x {
			x[j] = float32(math.Sin(float64(j*(i+3)))) * 0.05
		}
		nb, _ := ti.NumBytes()
		b := make([]byte, nb)
		if err := format.FromFloat32(b, x, ti.DType); err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteTensor(ti.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "model.gguf")
	if _, err := File(context.Background(), in, out, Options{Preset: mustPreset(t, "Q8_0")}); err != nil {
		t.Fatal(err)
	}
	got, types, order := tensorHashes(t, out)
	wantOrder := []string{"model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight", "model.norm.weight"}
	wantTypes := []format.DType{format.Q8_0, format.Q8_0, format.F32}
	src, err := format.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i, name := range wantOrder {
		if order[i] != name || types[name] != wantTypes[i] {
			t.Errorf("tensor %d = %s %v, want %s %v", i, order[i], types[order[i]], name, wantTypes[i])
		}
		ti, _ := format.TensorIndex(src.Tensors(), name)
		if h := requantized(t, src, ti, wantTypes[i]); got[name] != h {
			t.Errorf("sha256(%s) = %s, want %s", name, got[name], h)
		}
	}
	r, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ft, _ := r.Metadata().Int("general.file_type"); ft != 7 {
		t.Errorf("general.file_type = %d, want 7", ft)
	}
}

// writeGGUF writes an F32 GGUF file of the given tensors (values from fill).
func writeGGUF(t *testing.T, path string, infos []format.TensorInfo, fill func(name string, i int) float32) {
	t.Helper()
	md := format.Metadata{{Key: "general.architecture", Value: "llama"}, {Key: "llama.block_count", Value: uint32(1)}}
	w, err := gguf.Create(path, infos, md, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		n, _ := ti.NumElements()
		b := make([]byte, 4*n)
		for i := range int(n) {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(fill(ti.Name, i)))
		}
		if err := w.WriteTensor(ti.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "nan.gguf")
	infos := []format.TensorInfo{
		{Name: "blk.0.attn_norm.weight", DType: format.F32, Shape: []int64{256}},
		{Name: "blk.0.attn_q.weight", DType: format.F32, Shape: []int64{8, 256}},
	}
	writeGGUF(t, in, infos, func(name string, i int) float32 {
		if name == "blk.0.attn_q.weight" && i == 700 {
			return float32(math.NaN())
		}
		return 0.01
	})
	ctx := context.Background()

	t.Run("NaN", func(t *testing.T) {
		for _, preset := range []string{"Q8_0", "Q4_K_M"} {
			out := filepath.Join(tmp, "out-"+preset+".gguf")
			_, err := File(ctx, in, out, Options{Preset: mustPreset(t, preset)})
			if !errors.Is(err, quant.ErrNonFinite) || !errors.Is(err, format.ErrFormat) {
				t.Fatalf("File(NaN input, %s) = %v, want ErrNonFinite", preset, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "blk.0.attn_q.weight") || !strings.Contains(msg, in) || strings.Contains(msg, "\n") {
				t.Errorf("error %q does not name file and tensor on one line", msg)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output %s exists after a failure", out)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, ".out*")); len(left) != 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	})
	t.Run("no preset", func(t *testing.T) {
		if _, err := File(ctx, in, filepath.Join(tmp, "x.gguf"), Options{}); !errors.Is(err, format.ErrUnsupported) {
			t.Errorf("File without a preset = %v, want ErrUnsupported", err)
		}
	})
	t.Run("no llama-quantize fallback", func(t *testing.T) {
		odd := filepath.Join(tmp, "odd.gguf")
		writeGGUF(t, odd, []format.TensorInfo{{Name: "blk.0.attn_q.weight", DType: format.F32, Shape: []int64{2, 40}}}, func(string, int) float32 { return 1 })
		// llama-quantize refuses Q8_0 on rows of 40; lorakit keeps the tensor F16.
		p, err := PlanFile(odd, Options{Preset: mustPreset(t, "Q8_0")})
		if err != nil || p.Tensors[0].Out != format.F16 || p.Tensors[0].Wanted != format.Q8_0 {
			t.Errorf("PlanFile(rows of 40, Q8_0) = %+v, %v, want F16 after Q8_0", p, err)
		}
		// A K-quant falls back to F16 for such rows, as llama-quantize does.
		p, err = PlanFile(odd, Options{Preset: mustPreset(t, "Q4_K_M")})
		if err != nil || p.Tensors[0].Out != format.F16 || p.Tensors[0].Wanted != format.Q4_K {
			t.Errorf("PlanFile(rows of 40, Q4_K_M) = %+v, %v, want F16 after Q4_K", p, err)
		}
	})
	t.Run("missing input", func(t *testing.T) {
		if _, err := File(ctx, filepath.Join(tmp, "absent.gguf"), filepath.Join(tmp, "y.gguf"), Options{Preset: mustPreset(t, "Q8_0")}); !errors.Is(err, format.ErrNotFound) {
			t.Errorf("File(absent) = %v, want ErrNotFound", err)
		}
	})
}

func TestOutputRules(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	in := filepath.Join(dir, "gpt2-f32.gguf")
	ctx := context.Background()
	opt := Options{Preset: mustPreset(t, "Q8_0")}
	out := filepath.Join(t.TempDir(), "q.gguf")
	if err := os.WriteFile(out, []byte("existing"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := File(ctx, in, out, opt); !errors.Is(err, format.ErrExists) {
		t.Errorf("File(existing output) = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "existing" {
		t.Errorf("existing output was changed")
	}
	opt.Force = true
	if _, err := File(ctx, in, out, opt); err != nil {
		t.Errorf("File(existing output, Force) = %v", err)
	}
	if _, err := File(ctx, out, out, opt); !errors.Is(err, format.ErrExists) {
		t.Errorf("File(in == out, Force) = %v, want ErrExists", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	out2 := filepath.Join(t.TempDir(), "c.gguf")
	if _, err := File(canceled, in, out2, opt); !errors.Is(err, context.Canceled) {
		t.Errorf("File(canceled) = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("canceled run left %s", out2)
	}
}

// TestWriteSource: Write on an open Source gives File's bytes.
func TestWriteSource(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	src, err := format.Open(filepath.Join(dir, "llama-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "q.gguf")
	if _, err := Write(context.Background(), src, out, Options{Preset: mustPreset(t, "Q3_K_M")}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(filepath.Join(dir, "llama-q3_k_m.gguf"))
	if !bytes.Equal(a, b) {
		t.Errorf("Write(llama-f32, Q3_K_M) differs from llama-quantize's file")
	}
}
