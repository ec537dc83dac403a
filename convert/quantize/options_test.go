package quantize

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf/quant"
	"github.com/lorakit/lorakit/imatrix"
	"github.com/lorakit/lorakit/internal/testshared"
)

func TestParseOverrideKV(t *testing.T) {
	// Typed as llama-quantize writes them (common.cpp string_parse_kv_override,
	// llama-quant.cpp: integers as uint32 of |n|, floats as float32).
	for _, tc := range []struct {
		in   string
		want any
		err  bool
	}{
		{"general.name=str:renamed", "renamed", false},
		{"a.b=int:-7", uint32(7), false},
		{"a.b=int:42", uint32(42), false},
		{"x=float:0.5", float32(0.5), false},
		{"x=bool:true", true, false},
		{"x=bool:false", false, false},
		{"x=bool:yes", nil, true},
		{"x=int:abc", nil, true},
		{"x=u8:1", nil, true},
		{"noequals", nil, true},
		{"=str:a", nil, true},
		{"x=str:" + strings.Repeat("a", 128), nil, true},
	} {
		kv, err := ParseOverrideKV(tc.in)
		if tc.err {
			if !errors.Is(err, format.ErrInvalidOption) {
				t.Errorf("ParseOverrideKV(%q) = %v, %v, want ErrInvalidOption", tc.in, kv, err)
			}
			continue
		}
		if err != nil || kv.Value != tc.want {
			t.Errorf("ParseOverrideKV(%q) = %#v, %v, want %#v", tc.in, kv.Value, err, tc.want)
		}
	}
}

func TestParseTensorType(t *testing.T) {
	for _, tc := range []struct {
		in, name string
		match    bool
		typ      format.DType
	}{
		{"attn_v=q8_0", "blk.3.attn_v.weight", true, format.Q8_0},
		{"ATTN_V=Q8_0", "blk.3.attn_v.weight", true, format.Q8_0}, // the pattern is lower-cased
		{`blk\.[0-3]\.ffn_down=iq4_xs`, "blk.2.ffn_down.weight", true, format.IQ4_XS},
		{`blk\.[0-3]\.ffn_down=iq4_xs`, "blk.12.ffn_down.weight", false, format.IQ4_XS},
		{"^output=f16", "output.weight", true, format.F16},
	} {
		tt, err := ParseTensorType(tc.in)
		if err != nil || tt.Type != tc.typ || tt.Pattern.MatchString(tc.name) != tc.match {
			t.Errorf("ParseTensorType(%q) = %v, %v; match %s want %v", tc.in, tt, err, tc.name, tc.match)
		}
	}
	for _, bad := range []string{"attn_v", "=q8_0", "attn_v=", "attn_v=q9_9", "(?=x)=q8_0"} {
		if _, err := ParseTensorType(bad); err == nil {
			t.Errorf("ParseTensorType(%q) succeeded", bad)
		}
	}
}

func TestParsePruneLayers(t *testing.T) {
	got, err := ParsePruneLayers("5,1,5,3")
	if err != nil || !slices.Equal(got, []int{1, 3, 5}) {
		t.Errorf("ParsePruneLayers(5,1,5,3) = %v, %v, want [1 3 5]", got, err)
	}
	for _, bad := range []string{"", "-1", "a", "1,,2"} {
		if _, err := ParsePruneLayers(bad); !errors.Is(err, format.ErrInvalidOption) {
			t.Errorf("ParsePruneLayers(%q) = %v, want ErrInvalidOption", bad, err)
		}
	}
}

// TestPruneLayers: blocks 1 and 3 of 5 go; 0 stays, 2 becomes 1, 4
// becomes 2 (remap_layer), block_count becomes 3 and moves to the end.
func TestPruneLayers(t *testing.T) {
	var infos []format.TensorInfo
	for i := range 5 {
		infos = append(infos, format.TensorInfo{Name: "blk." + string(rune('0'+i)) + ".attn_q.weight", DType: format.F32, Shape: []int64{256, 256}})
	}
	md := llamaMeta(5, 8, 8)
	plan, err := NewPlan(fakeSource{infos: infos, md: md}, Options{Preset: mustPreset(t, "Q8_0"), PruneLayers: []int{1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pt := range plan.Tensors {
		got = append(got, pt.In.Name+">"+pt.Name)
	}
	want := []string{"blk.0.attn_q.weight>blk.0.attn_q.weight", "blk.2.attn_q.weight>blk.1.attn_q.weight", "blk.4.attn_q.weight>blk.2.attn_q.weight"}
	if !slices.Equal(got, want) {
		t.Errorf("pruned tensors = %v, want %v", got, want)
	}
	last := plan.Metadata[len(plan.Metadata)-1]
	if last.Key != "llama.block_count" || last.Value != uint32(3) {
		t.Errorf("last key = %v, want llama.block_count = 3", last)
	}
}

// fixtureImatrix reads the imatrix fixture.
func fixtureImatrix(t *testing.T) (*imatrix.Matrix, string) {
	t.Helper()
	dir := sharedDir(t, "fixtures/imatrix")
	m, err := imatrix.Read(filepath.Join(dir, "qdev-llama.imatrix.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// TestImatrixBadInput: what llama-quantize refuses is refused before any
// output exists, with an error naming the tensor.
func TestImatrixBadInput(t *testing.T) {
	m, dir := fixtureImatrix(t)
	in := filepath.Join(dir, "qdev-llama-f32.gguf")
	tmp := t.TempDir()
	ctx := context.Background()
	modified := func(f func(e *imatrix.Entry)) *imatrix.Matrix {
		c := *m
		c.Entries = slices.Clone(m.Entries)
		for i := range c.Entries {
			f(&c.Entries[i])
		}
		return &c
	}
	for _, tc := range []struct {
		name, preset string
		opt          Options
		want         error
		tensor       string
	}{
		{"no imatrix", "IQ2_XS", Options{}, ErrImatrixRequired, "blk.0.attn_k.weight"},
		{"no imatrix Q2_K_S", "Q2_K_S", Options{}, ErrImatrixRequired, "blk.0.attn_k.weight"},
		{"another model's names", "IQ1_S", Options{Imatrix: modified(func(e *imatrix.Entry) { e.Name = strings.Replace(e.Name, "blk.0.", "blk.7.", 1) })}, ErrImatrixRequired, "blk.0.attn_k.weight"},
		{"excluded entry", "IQ2_XXS", Options{Imatrix: m, ExcludeWeights: []string{"ffn_up"}}, ErrImatrixRequired, "blk.0.ffn_up.weight"},
		{"mis-shaped entry", "IQ4_XS", Options{Imatrix: modified(func(e *imatrix.Entry) { e.Cols, e.Sums = 128, e.Sums[:128] })}, format.ErrShape, "blk.0.attn_k.weight"},
		{"NaN importance", "Q4_K_M", Options{Imatrix: modified(func(e *imatrix.Entry) {
			if strings.Contains(e.Name, "ffn_down") {
				e.Sums = slices.Clone(e.Sums)
				e.Sums[5] = float32(math.NaN())
			}
		})}, format.ErrFormat, "ffn_down"},
		{"include and exclude", "Q4_K_M", Options{Imatrix: m, IncludeWeights: []string{"a"}, ExcludeWeights: []string{"b"}}, format.ErrInvalidOption, ""},
		{"keep-split and a split limit", "Q4_K_M", Options{KeepSplit: true, Split: format.SplitLimits{MaxTensors: 2}}, format.ErrUnsupported, ""},
		{"IQ2_XXS embedding without imatrix", "Q4_K_M", Options{TokenEmbeddingType: format.IQ2_XXS}, ErrImatrixRequired, "token_embd.weight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.Preset = mustPreset(t, tc.preset)
			out := filepath.Join(tmp, strings.ReplaceAll(tc.name, " ", "-")+".gguf")
			_, err := File(ctx, in, out, opt)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.tensor) || strings.Contains(err.Error(), "\n") {
				t.Errorf("File(%s) = %v, want %v naming %q on one line", tc.preset, err, tc.want, tc.tensor)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output %s exists after a failure", out)
			}
		})
	}
	t.Run("NaN weights", func(t *testing.T) {
		bad := filepath.Join(tmp, "nan.gguf")
		writeGGUF(t, bad, []format.TensorInfo{{Name: "blk.0.attn_q.weight", DType: format.F32, Shape: []int64{4, 256}}}, func(_ string, i int) float32 {
			if i == 300 {
				return float32(math.NaN())
			}
			return 0.01
		})
		out := filepath.Join(tmp, "nan-out.gguf")
		_, err := File(ctx, bad, out, Options{Preset: mustPreset(t, "IQ4_XS"), Imatrix: m})
		if !errors.Is(err, quant.ErrNonFinite) || !strings.Contains(err.Error(), "blk.0.attn_q.weight") {
			t.Errorf("File(NaN weights, IQ4_XS, imatrix) = %v, want ErrNonFinite naming the tensor", err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("output %s exists after a failure", out)
		}
	})
	t.Run("dry run warns", func(t *testing.T) {
		var warnings []string
		plan, err := PlanFile(in, Options{Preset: mustPreset(t, "IQ2_XS"), Warn: func(s string) { warnings = append(warnings, s) }})
		if err != nil || len(warnings) == 0 || !strings.Contains(warnings[0], "will require an importance matrix") {
			t.Errorf("PlanFile(IQ2_XS, no imatrix) = %v, warnings %q; want a plan and warnings", err, warnings)
		}
		if plan != nil && plan.Tensors[3].Out != format.IQ2_XS {
			t.Errorf("planned %s as %v, want IQ2_XS", plan.Tensors[3].Name, plan.Tensors[3].Out)
		}
	})
	t.Run("regex matching nothing warns", func(t *testing.T) {
		var warnings []string
		opt := Options{Preset: mustPreset(t, "Q4_K_M"), TensorTypes: []TensorType{mustTensorType(t, "attn_v=q8_0"), mustTensorType(t, "nosuch=q8_0")},
			Warn: func(s string) { warnings = append(warnings, s) }}
		if _, err := PlanFile(in, opt); err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "nosuch") {
			t.Errorf("warnings = %q, want one naming the pattern nosuch", warnings)
		}
	})
}

// TestExpertImportance: a stack of expert matrices is quantized expert by
// expert, each with its own slice of the importance data (llama-quantize
// passes imatrix + i03·n_per_row to each expert), and a stack whose entry
// has the size of one expert is refused.
func TestExpertImportance(t *testing.T) {
	const experts, rows, cols = 3, 4, 256
	name := "blk.0.ffn_up_exps.weight"
	info := format.TensorInfo{Name: name, DType: format.F32, Shape: []int64{experts, rows, cols}}
	path := filepath.Join(t.TempDir(), "moe.gguf")
	value := func(i int) float32 { return float32(math.Sin(float64(i)*0.37)) * 0.02 }
	writeGGUF(t, path, []format.TensorInfo{info}, func(_ string, i int) float32 { return value(i) })
	imp := make([]float32, experts*cols)
	for i := range imp {
		imp[i] = float32(1 + (i*7919)%97) // a different weighting per expert and column
	}
	m := &imatrix.Matrix{Entries: []imatrix.Entry{{Name: name, Cols: cols, Sums: imp, Counts: []float32{1, 1, 1}}}}
	opt := Options{Preset: mustPreset(t, "IQ4_XS"), Imatrix: m}
	out := filepath.Join(t.TempDir(), "q.gguf")
	if _, err := File(context.Background(), path, out, opt); err != nil {
		t.Fatal(err)
	}
	got := readTensor(t, out, name)
	rowBytes := int(format.IQ4_XS.BlockBytes()) * cols / 256
	for e := range experts {
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = value(e*rows*cols + i)
		}
		want := make([]byte, rows*rowBytes)
		if err := quant.QuantizeRowsWeighted(want, x, cols, format.IQ4_XS, imp[e*cols:(e+1)*cols]); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[e*rows*rowBytes:(e+1)*rows*rowBytes], want) {
			t.Errorf("expert %d: bytes differ from quantizing it with its own importance slice", e)
		}
	}
	m.Entries[0] = imatrix.Entry{Name: name, Cols: cols, Sums: imp[:cols], Counts: []float32{1}}
	if _, err := PlanFile(path, opt); !errors.Is(err, format.ErrShape) {
		t.Errorf("PlanFile(one expert's importance for %d experts) = %v, want ErrShape", experts, err)
	}
}

// readTensor returns the data of a tensor of a GGUF file.
func readTensor(t *testing.T, path, name string) []byte {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, err := src.TensorData(name)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(b)
}

func TestReadTensorTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "types.txt")
	if err := os.WriteFile(path, []byte("attn_v=q8_0  ffn_down=q6_k\n\n output=q5_k\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tts, err := ReadTensorTypes(path)
	if err != nil || len(tts) != 3 || tts[1].Type != format.Q6_K || tts[2].Pattern.String() != "output" {
		t.Errorf("ReadTensorTypes = %v, %v, want 3 rules", tts, err)
	}
	if err := os.WriteFile(path, []byte("attn_v=q8_0 bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTensorTypes(path); !errors.Is(err, format.ErrInvalidOption) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadTensorTypes(bad rule) = %v, want ErrInvalidOption naming the file", err)
	}
	if _, err := ReadTensorTypes(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("ReadTensorTypes(absent) = %v, want ErrNotFound", err)
	}
}

// TestLegacyImatrix: the fixture's importance matrix written in the
// legacy .dat format (means with ncall 1, the dataset and chunk count at
// the end) quantizes to llama-quantize's IQ4_XS tensors byte for byte.
func TestLegacyImatrix(t *testing.T) {
	m, dir := fixtureImatrix(t)
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	w(int32(len(m.Entries)))
	for _, e := range m.Entries {
		w(int32(len(e.Name)))
		b.WriteString(e.Name)
		w(int32(1)) // ncall
		imp := e.Importance()
		w(int32(len(imp)))
		w(imp)
	}
	w(int32(m.Chunks))
	w(int32(len(m.Datasets[0])))
	b.WriteString(m.Datasets[0])
	path := filepath.Join(t.TempDir(), "imatrix.dat")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	legacy, err := imatrix.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "q.gguf")
	plan, err := File(context.Background(), filepath.Join(dir, "qdev-llama-f32.gguf"), out, Options{Preset: mustPreset(t, "IQ4_XS"), Imatrix: legacy, ImatrixFile: "imatrix.dat"})
	if err != nil {
		t.Fatal(err)
	}
	want := testshared.TensorHashes(t, filepath.Join(dir, "sha", "qdev-llama-imat-iq4_xs.txt"))
	for _, pt := range plan.Tensors {
		if got := hashOf(readTensor(t, out, pt.Name)); got != want[pt.Name] {
			t.Errorf("sha256(%s) = %s, want %s", pt.Name, got, want[pt.Name])
		}
	}
	for _, kv := range []format.KV{{Key: KeyImatrixFile, Value: "imatrix.dat"}, {Key: KeyImatrixDataset, Value: "calib-dev.txt"}, {Key: KeyImatrixChunks, Value: uint32(12)}} {
		if v, _ := plan.Metadata.Get(kv.Key); v != kv.Value {
			t.Errorf("%s = %v, want %v", kv.Key, v, kv.Value)
		}
	}
}
