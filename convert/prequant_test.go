package convert

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/mx"
	"github.com/lorakit/lorakit/internal/testshared"
)

// e4m3 is the OCP FP8 E4M3 value of a byte, from the format's definition
// (sign, 4 exponent bits with bias 7, 3 mantissa bits; exponent 0 is
// subnormal; S.1111.111 is NaN), written out here as the test's reference.
func e4m3(b byte) float64 {
	s, e, m := b>>7, int(b>>3&15), float64(b&7)
	v := math.Ldexp(m/8, -6)
	if e > 0 {
		v = math.Ldexp(1+m/8, e-7)
	}
	if e == 15 && m == 7 {
		v = math.NaN()
	}
	if s == 1 {
		v = -v
	}
	return v
}

// mxEncodeHF quantizes values to MXFP4 in the Hugging Face layout (blocks
// with element 2j in byte j's low nibble, scales as E8M0), choosing each
// block's scale from its largest magnitude and each code by nearest value.
func mxEncodeHF(x []float32) (blocks, scales []byte) {
	for i := 0; i < len(x); i += 32 {
		var amax float64
		for _, v := range x[i : i+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		e := 127 + int(math.Ceil(math.Log2(amax/6)))
		scales = append(scales, byte(e))
		d := math.Ldexp(1, e-127)
		code := func(v float32) byte {
			best := byte(0)
			for c := byte(1); c < 16; c++ {
				if math.Abs(float64(mx.E2M1(c))*d-float64(v)) < math.Abs(float64(mx.E2M1(best))*d-float64(v)) {
					best = c
				}
			}
			return best
		}
		for j := 0; j < 32; j += 2 {
			blocks = append(blocks, code(x[i+j])|code(x[i+j+1])<<4)
		}
	}
	return blocks, scales
}

// TestPrequantizedHFImport: an HF Mixtral whose v_proj is FP8 E4M3 with
// 16×32 block scales (weight_scale_inv, quantization_config's
// weight_block_size) and one expert's w3 is MXFP4 (_blocks/_scales)
// converts to GGUF with those tensors dequantized by the formats'
// definitions (computed here from the stored bytes) and every other tensor
// bit for bit llama.cpp's.
func TestPrequantizedHFImport(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	dir := copyHFDir(t, filepath.Join(root, "hf", "mixtral"), map[string]any{
		"quantization_config": map[string]any{"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": []int{16, 32}},
	})
	st, err := format.Open(filepath.Join(root, "hf", "mixtral", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const vName, wName = "model.layers.0.self_attn.v_proj.weight", "model.layers.0.block_sparse_moe.experts.0.w3.weight"
	read := func(name string) (format.TensorInfo, []float32) {
		info, _ := format.TensorIndex(st.Tensors(), name)
		raw, err := st.TensorData(name)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := format.Float32s(raw)
		return info, append([]float32(nil), v...)
	}
	vInfo, v := read(vName)
	rows, cols := int(vInfo.Shape[0]), int(vInfo.Shape[1])
	sr, sc := (rows+15)/16, (cols+31)/32 // 16×32 blocks
	scale := make([]float32, sr*sc)
	for i := range scale {
		scale[i] = float32(math.Ldexp(1, i%5-2)) // 0.25 .. 4
	}
	block := func(i int) int { return (i/cols/16)*sc + (i%cols)/32 }
	fp8 := make([]byte, len(v))
	scaled := make([]float32, len(v))
	for i := range v {
		scaled[i] = v[i] / scale[block(i)] * 100 // well inside E4M3's range (448)
	}
	if err := format.FromFloat32(fp8, scaled, format.F8_E4M3); err != nil {
		t.Fatal(err)
	}
	for i := range scale {
		scale[i] /= 100
	}
	wInfo, w := read(wName)
	if wInfo.Shape[1]%32 != 0 {
		t.Fatalf("%s is %v: MXFP4 needs rows of whole 32-value blocks", wName, wInfo.Shape)
	}
	blocks, scales := mxEncodeHF(w)

	var infos []format.TensorInfo
	data := map[string][]byte{}
	for _, ti := range st.Tensors() {
		raw, _ := st.TensorData(ti.Name)
		switch ti.Name {
		case vName:
			infos = append(infos, format.TensorInfo{Name: vName, DType: format.F8_E4M3, Shape: vInfo.Shape},
				format.TensorInfo{Name: vName + "_scale_inv", DType: format.F32, Shape: []int64{int64(sr), int64(sc)}})
			data[vName], data[vName+"_scale_inv"] = fp8, f32Bytes(scale)
		case wName:
			rows := wInfo.Shape[0]
			infos = append(infos, format.TensorInfo{Name: wName + "_blocks", DType: format.U8, Shape: []int64{rows, wInfo.Shape[1] / 32, 16}},
				format.TensorInfo{Name: wName + "_scales", DType: format.U8, Shape: []int64{rows, wInfo.Shape[1] / 32}})
			data[wName+"_blocks"], data[wName+"_scales"] = blocks, scales
		default:
			infos = append(infos, ti)
			data[ti.Name] = raw
		}
	}
	writeRaw(t, filepath.Join(dir, "model.safetensors"), infos, data)
	out := filepath.Join(t.TempDir(), "out.gguf")
	if err := Model(t.Context(), dir, out, ModelOptions{}); err != nil {
		t.Fatal(err)
	}
	got, ref := hashes(t, out), hashes(t, filepath.Join(root, "mixtral-f32.gguf"))
	g, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for name, h := range ref {
		if name != "blk.0.attn_v.weight" && name != "blk.0.ffn_up_exps.weight" && got[name] != h {
			t.Errorf("%s differs from llama.cpp's conversion", name)
		}
	}
	check := func(name string, off, n int, want func(i int) float64) {
		raw, err := g.TensorData(name)
		if err != nil {
			t.Fatal(err)
		}
		vals, _ := format.Float32s(raw)
		for i := range n {
			if wv := want(i); float64(vals[off+i]) != float64(float32(wv)) {
				t.Fatalf("%s[%d] = %v, want %v", name, off+i, vals[off+i], wv)
			}
		}
	}
	check("blk.0.attn_v.weight", 0, len(v), func(i int) float64 {
		return e4m3(fp8[i]) * float64(scale[block(i)])
	})
	check("blk.0.ffn_up_exps.weight", 0, len(w), func(i int) float64 {
		b := blocks[i/2]
		c := b & 15
		if i%2 == 1 {
			c = b >> 4
		}
		return float64(mx.E2M1(c)) * math.Ldexp(1, int(scales[i/32])-127)
	})
}

// TestPrequantizedBadInput: FP8 scales without a block size, scales of the
// wrong shape and MXFP4 blocks without scales are refused naming them.
func TestPrequantizedBadInput(t *testing.T) {
	w := format.TensorInfo{Name: "a.weight", DType: format.F8_E4M3, Shape: []int64{40, 64}}
	s := format.TensorInfo{Name: "a.weight_scale_inv", DType: format.F32, Shape: []int64{1, 1}}
	bl := format.TensorInfo{Name: "b_blocks", DType: format.U8, Shape: []int64{4, 2, 16}}
	sc := format.TensorInfo{Name: "b_scales", DType: format.U8, Shape: []int64{4, 3}}
	block := map[string]any{"quantization_config": map[string]any{"weight_block_size": []any{float64(128), float64(128)}}}
	for _, c := range []struct {
		name  string
		infos []format.TensorInfo
		cfg   map[string]any
		want  error
		say   string
	}{
		{"no block size", []format.TensorInfo{w, s}, map[string]any{}, format.ErrFormat, "weight_block_size"},
		{"scales of the wrong shape", []format.TensorInfo{w, {Name: s.Name, DType: format.F32, Shape: []int64{1, 2}}}, block, format.ErrShape, s.Name},
		{"blocks without scales", []format.TensorInfo{bl}, block, format.ErrFormat, "b_scales"},
		{"scales of the wrong shape (MXFP4)", []format.TensorInfo{bl, sc}, block, format.ErrShape, "b_blocks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := dequantizePrequantized(fakeSource{infos: c.infos}, c.cfg, "dir")
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Errorf("= %v, want %v naming %s", err, c.want, c.say)
			}
		})
	}
}

// writeRaw writes tensors with the given raw bytes as a safetensors file.
func writeRaw(t *testing.T, path string, infos []format.TensorInfo, data map[string][]byte) {
	t.Helper()
	sink, err := format.Create("safetensors", path, infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		if err := sink.WriteTensor(ti.Name, data[ti.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// fakeSource lists tensors and has no data.
type fakeSource struct{ infos []format.TensorInfo }

func (f fakeSource) Format() string                    { return "safetensors" }
func (f fakeSource) Tensors() []format.TensorInfo      { return f.infos }
func (f fakeSource) Metadata() format.Metadata         { return nil }
func (f fakeSource) TensorData(string) ([]byte, error) { return nil, format.ErrNotFound }
func (f fakeSource) Close() error                      { return nil }
