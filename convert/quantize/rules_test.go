package quantize

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestParsePreset(t *testing.T) {
	for _, tc := range []struct {
		in       string
		name     string
		fileType FileType
		base     format.DType
	}{
		{"Q4_K_M", "Q4_K_M", 15, format.Q4_K},
		{"q4_k_m", "Q4_K_M", 15, format.Q4_K},
		{"q4_k", "Q4_K_M", 15, format.Q4_K}, // llama-quantize's alias
		{"Q3_K", "Q3_K_M", 12, format.Q3_K},
		{"q5_k", "Q5_K_M", 17, format.Q5_K},
		{" q8_0 ", "Q8_0", 7, format.Q8_0},
		{"q2_k", "Q2_K", 10, format.Q2_K},
		{"Q6_K", "Q6_K", 18, format.Q6_K},
		{"bf16", "BF16", 32, format.BF16},
		{"f16", "F16", 1, format.F16},
		{"F32", "F32", 0, format.F32},
		{"iq4_nl", "IQ4_NL", 25, format.IQ4_NL},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePreset(tc.in)
			if err != nil || p.Name != tc.name || p.FileType != tc.fileType || p.Base != tc.base {
				t.Errorf("ParsePreset(%q) = %+v, %v, want %s ftype %d base %v", tc.in, p, err, tc.name, tc.fileType, tc.base)
			}
		})
	}
	for _, bad := range []string{"", "Q9_0", "q4", "Q8_K", "Q4_K_X", "int8"} {
		if _, err := ParsePreset(bad); !errors.Is(err, format.ErrUnsupported) {
			t.Errorf("ParsePreset(%q) = %v, want ErrUnsupported", bad, err)
		}
	}
}

// TestParsePresets: a list in order, trimmed as a comma-separated flag
// gives it; one unknown name fails the whole list.
func TestParsePresets(t *testing.T) {
	ps, err := ParsePresets(strings.Split("Q8_0, q4_k ,Q2_K", ",")...)
	if err != nil || len(ps) != 3 || ps[0].Name != "Q8_0" || ps[1].Name != "Q4_K_M" || ps[2].Name != "Q2_K" {
		t.Fatalf("ParsePresets = %+v, %v, want Q8_0 Q4_K_M Q2_K", ps, err)
	}
	if _, err := ParsePresets("Q8_0", "Q9_0"); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("ParsePresets(Q8_0, Q9_0) = %v, want ErrUnsupported", err)
	}
}

func TestUseMoreBits(t *testing.T) {
	// Hand-computed from i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2.
	for _, tc := range []struct {
		n    int
		more []int
	}{
		{2, []int{1}},
		{8, []int{0, 3, 6, 7}},
		{12, []int{0, 3, 6, 9, 10, 11}}, // 7·12/8 = 10
		{32, []int{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}},
	} {
		var got []int
		for i := range tc.n {
			if useMoreBits(i, tc.n) {
				got = append(got, i)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.more) {
			t.Errorf("useMoreBits(i, %d) holds for %v, want %v", tc.n, got, tc.more)
		}
	}
}

func TestLayerOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		layer int
		ok    bool
	}{
		{"blk.0.attn_q.weight", 0, true},
		{"blk.17.ffn_down.weight", 17, true},
		{"blk.3", 3, true},
		{"blk.+4.x", 4, true},
		{"blk. 5.x", 5, true}, // %d skips white space
		{"blk.-2.x", -2, true},
		{"blk.x.y", -1, false},
		{"token_embd.weight", -1, false},
		{"model.layers.0.mlp.weight", -1, false},
	} {
		if l, ok := layerOf(tc.name); l != tc.layer || ok != tc.ok {
			t.Errorf("layerOf(%q) = %d, %v, want %d, %v", tc.name, l, ok, tc.layer, tc.ok)
		}
	}
}

func TestLlamaQuantizeOrder(t *testing.T) {
	names := []string{
		"blk.10.attn_q.weight", "token_embd.weight", "blk.2.ffn_up.weight", "blk.2.attn_k.weight",
		"output.weight", "blk.0.attn_norm.weight", "output_norm.weight", "position_embd.weight", "blk.0.attn_k.weight",
	}
	infos := make([]format.TensorInfo, len(names))
	for i, n := range names {
		infos[i] = format.TensorInfo{Name: n}
	}
	sortLlamaQuantize(infos)
	// Quirk 2 of fixtures/README.md: names outside blocks by bytes, then
	// blocks by numeric number, names within a block by bytes.
	want := []string{
		"output.weight", "output_norm.weight", "position_embd.weight", "token_embd.weight",
		"blk.0.attn_k.weight", "blk.0.attn_norm.weight", "blk.2.attn_k.weight", "blk.2.ffn_up.weight",
		"blk.10.attn_q.weight",
	}
	for i := range want {
		if infos[i].Name != want[i] {
			t.Errorf("sorted[%d] = %s, want %s", i, infos[i].Name, want[i])
		}
	}
}

func TestAllowsQuantization(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int64
		want  bool
	}{
		{"blk.0.attn_q.weight", []int64{64, 256}, true},
		{"token_embd.weight", []int64{304, 256}, true},
		{"output.weight", []int64{304, 256}, true},
		{"blk.0.ffn_up_exps.weight", []int64{8, 64, 256}, true},
		{"blk.0.attn_norm.weight", []int64{256}, false},
		{"blk.0.attn_qkv.bias", []int64{288}, false},
		{"blk.0.attn_q.bias", []int64{4, 64}, false},    // 2-D, but not a weight
		{"blk.0.attn_q.weight", []int64{1, 256}, false}, // ggml_n_dims is 1
		{"blk.0.attn_q.weight", []int64{256, 1}, true},  // ne [1, 256]: 2 dims
		{"blk.0.attn_q_norm.weight", []int64{4, 16}, false},
		{"position_embd.weight", []int64{48, 96}, false},
		{"token_types.weight", []int64{2, 96}, false},
		{"blk.0.ffn_gate_inp.weight", []int64{8, 256}, false},
		{"v.position_embd.weight", []int64{48, 96}, false},
		{"blk.0.ssm_conv1d.weight", []int64{64, 4}, false},
	} {
		ti := format.TensorInfo{Name: tc.name, DType: format.F32, Shape: tc.shape}
		if got := allowsQuantization(ti); got != tc.want {
			t.Errorf("allowsQuantization(%s %v) = %v, want %v", tc.name, tc.shape, got, tc.want)
		}
	}
}

func TestFallback(t *testing.T) {
	// Quirk 6 of fixtures/README.md.
	for _, tc := range []struct {
		want format.DType
		cols int64
		got  format.DType
		err  error
	}{
		{format.Q4_K, 256, format.Q4_K, nil},
		{format.Q2_K, 64, format.Q4_0, nil},
		{format.Q3_K, 96, format.Q4_0, nil},
		{format.Q4_K, 64, format.Q5_0, nil},
		{format.Q5_K, 64, format.Q5_1, nil},
		{format.Q6_K, 96, format.Q8_0, nil},
		{format.Q6_K, 100, format.F16, nil},
		{format.Q4_K, 48, format.F16, nil},
		// llama-quantize stops here; lorakit keeps such rows in F16.
		{format.Q8_0, 100, format.F16, nil},
		{format.Q4_0, 40, format.F16, nil},
	} {
		ti := format.TensorInfo{Name: "w", DType: format.F32, Shape: []int64{8, tc.cols}}
		got, err := fallback(ti, tc.want)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("fallback(%v, %d cols) = %v, %v, want %v", tc.want, tc.cols, got, err, tc.err)
			}
			continue
		}
		if got != tc.got || err != nil {
			t.Errorf("fallback(%v, %d cols) = %v, %v, want %v", tc.want, tc.cols, got, err, tc.got)
		}
	}
}

// syntheticTypes returns the types chosen for an n-layer model with the
// given tensor names per layer (rows of 4096 values, so no fallback).
func syntheticTypes(t *testing.T, preset string, md format.Metadata, nLayer int, perLayer []string, extra ...string) map[string]format.DType {
	t.Helper()
	p, err := ParsePreset(preset)
	if err != nil {
		t.Fatal(err)
	}
	var infos []format.TensorInfo
	for _, n := range extra {
		infos = append(infos, format.TensorInfo{Name: n, DType: format.F32, Shape: []int64{512, 4096}})
	}
	for i := range nLayer {
		for _, n := range perLayer {
			infos = append(infos, format.TensorInfo{Name: fmt.Sprintf("blk.%d.%s", i, n), DType: format.F32, Shape: []int64{512, 4096}})
		}
	}
	plan, err := NewPlan(fakeSource{infos: infos, md: md}, Options{Preset: p})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]format.DType{}
	for _, pt := range plan.Tensors {
		got[pt.In.Name] = pt.Out
	}
	return got
}

// fakeSource is a Source with tensor infos and metadata but no data.
type fakeSource struct {
	infos []format.TensorInfo
	md    format.Metadata
}

func (f fakeSource) Format() string                    { return "gguf" }
func (f fakeSource) Tensors() []format.TensorInfo      { return f.infos }
func (f fakeSource) Metadata() format.Metadata         { return f.md }
func (f fakeSource) TensorData(string) ([]byte, error) { return nil, format.ErrNotFound }
func (f fakeSource) Close() error                      { return nil }

func llamaMeta(nLayer, nHead, nHeadKV int) format.Metadata {
	return format.Metadata{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(nLayer)},
		{Key: "llama.attention.head_count", Value: uint32(nHead)},
		{Key: "llama.attention.head_count_kv", Value: uint32(nHeadKV)},
	}
}

// TestMixtures checks the K-quant mixture rules on larger models than the
// fixtures, against types worked out by hand from llama-quant.cpp's rules.
func TestMixtures(t *testing.T) {
	layer := []string{"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_down.weight", "ffn_up.weight"}
	typesOf := func(got map[string]format.DType, tensor string, n int) string {
		s := ""
		for i := range n {
			s += got[fmt.Sprintf("blk.%d.%s", i, tensor)].String() + " "
		}
		return s
	}
	t.Run("Q4_K_M 8 layers", func(t *testing.T) {
		got := syntheticTypes(t, "Q4_K_M", llamaMeta(8, 32, 8), 8, layer, "token_embd.weight", "output.weight")
		// use_more_bits(i, 8) holds for 0, 3, 6, 7.
		more := "Q6_K Q4_K Q4_K Q6_K Q4_K Q4_K Q6_K Q6_K "
		if s := typesOf(got, "attn_v.weight", 8); s != more {
			t.Errorf("attn_v = %s, want %s", s, more)
		}
		if s := typesOf(got, "ffn_down.weight", 8); s != more {
			t.Errorf("ffn_down = %s, want %s", s, more)
		}
		if s := typesOf(got, "attn_output.weight", 8); s != "Q4_K Q4_K Q4_K Q4_K Q4_K Q4_K Q4_K Q4_K " {
			t.Errorf("attn_output = %s, want all Q4_K", s)
		}
		if got["output.weight"] != format.Q6_K || got["token_embd.weight"] != format.Q4_K {
			t.Errorf("output, token_embd = %v, %v, want Q6_K, Q4_K", got["output.weight"], got["token_embd.weight"])
		}
	})
	t.Run("Q2_K gqa 4", func(t *testing.T) {
		got := syntheticTypes(t, "Q2_K", llamaMeta(4, 32, 8), 4, layer)
		if s := typesOf(got, "attn_v.weight", 4); s != "Q4_K Q4_K Q4_K Q4_K " {
			t.Errorf("attn_v = %s, want Q4_K (n_gqa 4)", s)
		}
		if s := typesOf(got, "ffn_down.weight", 4); s != "Q3_K Q3_K Q3_K Q3_K " {
			t.Errorf("ffn_down = %s, want Q3_K", s)
		}
		// Tied: no output.weight, so token_embd would be the output; absent here.
	})
	t.Run("Q3_K_M 32 layers", func(t *testing.T) {
		got := syntheticTypes(t, "Q3_K_M", llamaMeta(32, 32, 32), 32, layer)
		if s := typesOf(got, "attn_v.weight", 4); s != "Q5_K Q5_K Q4_K Q4_K " {
			t.Errorf("attn_v[0:4] = %s, want Q5_K Q5_K Q4_K Q4_K", s)
		}
		if s := typesOf(got, "ffn_down.weight", 3); s != "Q5_K Q5_K Q4_K " { // i < 32/16
			t.Errorf("ffn_down[0:3] = %s, want Q5_K Q5_K Q4_K", s)
		}
	})
	t.Run("Q4_K_S", func(t *testing.T) {
		got := syntheticTypes(t, "Q4_K_S", llamaMeta(16, 32, 32), 16, layer)
		if s := typesOf(got, "attn_v.weight", 6); s != "Q5_K Q5_K Q5_K Q5_K Q4_K Q4_K " {
			t.Errorf("attn_v[0:6] = %s, want Q5_K x4 then Q4_K", s)
		}
		if s := typesOf(got, "ffn_down.weight", 3); s != "Q5_K Q5_K Q4_K " { // i < 16/8
			t.Errorf("ffn_down[0:3] = %s, want Q5_K Q5_K Q4_K", s)
		}
	})
	t.Run("70B", func(t *testing.T) {
		got := syntheticTypes(t, "Q3_K_S", llamaMeta(80, 64, 8), 80, []string{"attn_v.weight"})
		if got["blk.5.attn_v.weight"] != format.Q5_K {
			t.Errorf("attn_v of an 80-layer GQA llama = %v, want Q5_K", got["blk.5.attn_v.weight"])
		}
	})
	t.Run("tied Q4_0", func(t *testing.T) {
		got := syntheticTypes(t, "Q4_0", llamaMeta(1, 1, 1), 1, layer, "token_embd.weight")
		if got["token_embd.weight"] != format.Q6_K {
			t.Errorf("tied token_embd with Q4_0 = %v, want Q6_K", got["token_embd.weight"])
		}
	})
	t.Run("qkv counts as attn_v", func(t *testing.T) {
		md := format.Metadata{{Key: "general.architecture", Value: "gpt2"}, {Key: "gpt2.block_count", Value: uint32(2)}}
		got := syntheticTypes(t, "Q5_K_M", md, 2, []string{"attn_qkv.weight"})
		if s := typesOf(got, "attn_qkv.weight", 2); s != "Q5_K Q6_K " {
			t.Errorf("attn_qkv = %s, want Q5_K Q6_K", s)
		}
	})
}
