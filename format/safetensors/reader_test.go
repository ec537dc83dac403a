package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	nst "github.com/nlpodyssey/safetensors"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// sampleDTypes maps the sample files' tensor names (numpy type letters) to
// their dtypes, as the samples' provenance describes them.
var sampleDTypes = map[string]format.DType{
	"B": format.U8, "H": format.U16, "I": format.U32,
	"b": format.I8, "h": format.I16, "i": format.I32,
	"d": format.F64, "e": format.F16, "f": format.F32,
}

// decodeSample decodes the little-endian values of a sample tensor by hand.
func decodeSample(t *testing.T, dt format.DType, data []byte) []float64 {
	t.Helper()
	var out []float64
	le := binary.LittleEndian
	for len(data) > 0 {
		switch dt {
		case format.U8:
			out, data = append(out, float64(data[0])), data[1:]
		case format.I8:
			out, data = append(out, float64(int8(data[0]))), data[1:]
		case format.U16:
			out, data = append(out, float64(le.Uint16(data))), data[2:]
		case format.I16:
			out, data = append(out, float64(int16(le.Uint16(data)))), data[2:]
		case format.U32:
			out, data = append(out, float64(le.Uint32(data))), data[4:]
		case format.I32:
			out, data = append(out, float64(int32(le.Uint32(data)))), data[4:]
		case format.F32:
			out, data = append(out, float64(math.Float32frombits(le.Uint32(data)))), data[4:]
		case format.F64:
			out, data = append(out, math.Float64frombits(le.Uint64(data))), data[8:]
		case format.F16:
			// -3..2 are exact in F16: sign, 5-bit exponent (bias 15), 10-bit mantissa.
			h := le.Uint16(data)
			e, m := int(h>>10&0x1F), float64(h&0x3FF)
			v := 0.0
			if e != 0 {
				v = math.Ldexp(1+m/1024, e-15)
			}
			if h&0x8000 != 0 {
				v = -v
			}
			out, data = append(out, v), data[2:]
		default:
			t.Fatalf("no decoder for %v", dt)
		}
	}
	return out
}

// TestReadSamples reads every reference sample: each holds the values
// -3..2 cast to its dtype (wrapping for unsigned types) and
// __metadata__ {"test": "a"}.
func TestReadSamples(t *testing.T) {
	for _, path := range sampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r, err := Open(path)
			if err != nil {
				t.Fatalf("Open(%s) = %v", path, err)
			}
			defer r.Close()
			if got, _ := r.Metadata().String("test"); got != "a" || len(r.Metadata()) != 1 {
				t.Errorf("Metadata() = %v, want [{test a}]", r.Metadata())
			}
			tensors := r.Tensors()
			if base := filepath.Base(path); base != "overall.safetensors" {
				if len(tensors) != 1 || tensors[0].Name != strings.TrimSuffix(base, ".safetensors") {
					t.Fatalf("Tensors() = %v, want one tensor named after the file", tensors)
				}
			} else if len(tensors) != len(sampleDTypes) {
				t.Fatalf("Tensors() has %d tensors, want %d", len(tensors), len(sampleDTypes))
			}
			for _, ti := range tensors {
				if want := sampleDTypes[ti.Name]; ti.DType != want || !slices.Equal(ti.Shape, []int64{6}) {
					t.Errorf("tensor %s = %v, want %v [6]", ti.Name, ti, want)
				}
				data, err := r.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				want := []float64{-3, -2, -1, 0, 1, 2}
				if !ti.DType.IsFloat() && strings.ToUpper(ti.Name) == ti.Name { // unsigned: wraps
					bits := ti.DType.BlockBytes() * 8
					for i := range 3 {
						want[i] += math.Ldexp(1, bits)
					}
				}
				if got := decodeSample(t, ti.DType, data); !slices.Equal(got, want) {
					t.Errorf("TensorData(%s) decodes to %v, want %v", ti.Name, got, want)
				}
			}
		})
	}
}

// TestAgreesWithNlpodyssey compares every real file with the independent
// Go port's view of it: names, dtypes, shapes, bytes and offsets.
func TestAgreesWithNlpodyssey(t *testing.T) {
	files := sampleFiles(t)
	for _, rel := range []string{
		"models/lm-buddy-tiny-gpt2-random/model.safetensors",
		"adapters/gpt2-tigrinya-peft-lora/adapter_model.safetensors",
		"adapters/ollama-discollama-mlx-lora/adapters.safetensors",
	} {
		files = append(files, testshared.Path(t, filepath.Join("data", rel)))
	}
	for _, path := range files {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			oracle, err := nst.Deserialize(raw)
			if err != nil {
				t.Fatalf("nlpodyssey Deserialize: %v", err)
			}
			// Offsets from the raw JSON, parsed by encoding/json.
			n := binary.LittleEndian.Uint64(raw)
			var hdr map[string]json.RawMessage
			if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
				t.Fatal(err)
			}
			for _, open := range []struct {
				name string
				open func() (*Reader, error)
			}{
				{"Open", func() (*Reader, error) { return Open(path) }},
				{"NewReader", func() (*Reader, error) { return NewReader(bytes.NewReader(raw), int64(len(raw))) }},
			} {
				r, err := open.open()
				if err != nil {
					t.Fatalf("%s: %v", open.name, err)
				}
				if got, want := len(r.Tensors()), oracle.Len(); got != want {
					t.Errorf("%s: %d tensors, want %d", open.name, got, want)
				}
				prevOff := int64(-1)
				for _, ti := range r.Tensors() {
					view, ok := oracle.Tensor(ti.Name)
					if !ok {
						t.Fatalf("%s: tensor %q unknown to the oracle", open.name, ti.Name)
					}
					shape := make([]int64, len(view.Shape()))
					for i, d := range view.Shape() {
						shape[i] = int64(d)
					}
					if ti.DType.String() != view.DType().String() || !slices.Equal(ti.Shape, shape) {
						t.Errorf("%s: tensor %s = %v, oracle %v %v", open.name, ti.Name, ti, view.DType(), shape)
					}
					data, err := r.TensorData(ti.Name)
					if err != nil || !bytes.Equal(data, view.Data()) {
						t.Errorf("%s: TensorData(%s) differs from the oracle's (err %v)", open.name, ti.Name, err)
					}
					var entry struct {
						DataOffsets [2]int64 `json:"data_offsets"`
					}
					json.Unmarshal(hdr[ti.Name], &entry)
					off, _ := r.TensorOffset(ti.Name)
					if want := 8 + int64(n) + entry.DataOffsets[0]; off != want {
						t.Errorf("%s: TensorOffset(%s) = %d, want %d", open.name, ti.Name, off, want)
					}
					if off < prevOff {
						t.Errorf("%s: Tensors() not in offset order at %s", open.name, ti.Name)
					}
					prevOff = off
				}
				r.Close()
			}
		})
	}
}

// TestEveryDType reads a hand-made file holding every dtype safetensors and
// lorakit share (F8 and U16/U32/U64 included), a scalar and an empty tensor,
// entries in non-offset order with keys in any order, and metadata whose
// order must be kept.
func TestEveryDType(t *testing.T) {
	type want struct {
		name  string
		dtype format.DType
		shape []int64
	}
	var entries []string
	var wants []want
	var data []byte
	for i, dt := range referenceOrder {
		shape := []int64{2, 3}
		n := 6 * dt.BlockBytes()
		begin := len(data)
		for j := range n {
			data = append(data, byte(i*16+j))
		}
		name := "t_" + dt.String()
		// data_offsets first, to show field order does not matter.
		entries = append(entries, `"`+name+`":{"data_offsets":[`+itoa(begin)+`,`+itoa(len(data))+`],"shape":[2,3],"dtype":"`+dt.String()+`"}`)
		wants = append(wants, want{name, dt, shape})
	}
	// A scalar (shape []) and an empty tensor (a 0 dimension).
	entries = append(entries, `"scalar":{"dtype":"F32","shape":[],"data_offsets":[`+itoa(len(data))+`,`+itoa(len(data)+4)+`]}`)
	wants = append(wants, want{"scalar", format.F32, []int64{}})
	data = append(data, 0, 0, 0x80, 0x3f)
	entries = append(entries, `"empty":{"dtype":"BF16","shape":[4,0],"data_offsets":[`+itoa(len(data))+`,`+itoa(len(data))+`]}`)
	wants = append(wants, want{"empty", format.BF16, []int64{4, 0}})
	slices.Reverse(entries)
	header := "{" + strings.Join(entries, ",") + `,"__metadata__":{"z":"1","a":"2","m":"\u00e9\n"}}`
	r, err := NewReader(bytes.NewReader(rawFile(header, data)), int64(len(rawFile(header, data))))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	got := r.Tensors()
	if len(got) != len(wants) {
		t.Fatalf("Tensors() = %v, want %d tensors", got, len(wants))
	}
	for i, w := range wants {
		if got[i].Name != w.name || got[i].DType != w.dtype || !slices.Equal(got[i].Shape, w.shape) {
			t.Errorf("Tensors()[%d] = %v, want %s %v %v", i, got[i], w.name, w.dtype, w.shape)
		}
	}
	if d, _ := r.TensorData("scalar"); !bytes.Equal(d, []byte{0, 0, 0x80, 0x3f}) {
		t.Errorf("TensorData(scalar) = %v, want 1.0f", d)
	}
	if d, err := r.TensorData("empty"); err != nil || len(d) != 0 {
		t.Errorf("TensorData(empty) = %v, %v, want no bytes", d, err)
	}
	if d, _ := r.TensorData("t_F8_E4M3"); len(d) != 6 || d[0] != 4*16 {
		t.Errorf("TensorData(t_F8_E4M3) = %v, want 6 bytes from 64", d)
	}
	wantMD := format.Metadata{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}, {Key: "m", Value: "é\n"}}
	if md := r.Metadata(); !slices.Equal(md, wantMD) {
		t.Errorf("Metadata() = %v, want %v", md, wantMD)
	}
	if _, err := r.TensorData("nope"); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("TensorData(nope) = %v, want ErrNotFound", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestMetadataNullAndEmpty: null or absent metadata is nil, {} is empty.
func TestMetadataNullAndEmpty(t *testing.T) {
	for _, tc := range []struct {
		header string
		isNil  bool
	}{
		{`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, true},
		{`{"__metadata__":null,"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, true},
		{`{"__metadata__":{},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, false},
	} {
		b := rawFile(tc.header, []byte{7})
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("NewReader(%s) = %v", tc.header, err)
		}
		if md := r.Metadata(); (md == nil) != tc.isNil || len(md) != 0 {
			t.Errorf("NewReader(%s).Metadata() = %#v, want nil %v", tc.header, md, tc.isNil)
		}
	}
}

// TestHeaderInterface checks Version, Alignment and absolute offsets.
func TestHeaderInterface(t *testing.T) {
	header := `{"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}`
	b := rawFile(header, []byte{1, 2, 3, 4, 5})
	r, err := Open(writeTemp(t, "h.safetensors", b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var h format.Header = r
	if h.Version() != 0 || h.Alignment() != 8 {
		t.Errorf("Version(), Alignment() = %d, %d, want 0, 8", h.Version(), h.Alignment())
	}
	start := int64(8 + len(header))
	for name, want := range map[string]int64{"a": start, "b": start + 3} {
		if off, ok := h.TensorOffset(name); !ok || off != want {
			t.Errorf("TensorOffset(%s) = %d, %v, want %d", name, off, ok, want)
		}
	}
	if d, _ := r.TensorData("b"); !bytes.Equal(d, []byte{4, 5}) {
		t.Errorf("TensorData(b) = %v, want [4 5]", d)
	}
	if names := r.Tensors(); names[0].Name != "a" || names[1].Name != "b" {
		t.Errorf("Tensors() = %v, want offset order a, b", names)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.TensorData("a"); err == nil {
		t.Error("TensorData after Close succeeded")
	}
}
