package llama2c

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	return testshared.Path(t, filepath.Join("data", rel))
}

func TestRealCheckpoints(t *testing.T) {
	for _, c := range []struct {
		path   string
		cfg    Config
		params int64 // float32 values, as PROVENANCE.md counts them (freq_cis included)
	}{
		{"models/stories260K/stories260K.bin", Config{64, 172, 5, 8, 4, 512, 512, true, 0}, 264128},
		{"models/aidreams260K/aidreams260K.bin", Config{64, 172, 4, 4, 4, 512, 128, true, 0}, 233024},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			path := sharedFile(t, c.path)
			if name, err := format.Detect(path); err != nil || name != "llama2c" {
				t.Fatalf("Detect = %q, %v, want llama2c", name, err)
			}
			src, err := format.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			r := src.(*Reader)
			if r.Config() != c.cfg {
				t.Errorf("Config() = %+v, want %+v", r.Config(), c.cfg)
			}
			var n int64
			for _, ti := range r.Tensors() {
				e, _ := ti.NumElements()
				n += e
				if _, err := r.TensorData(ti.Name); err != nil {
					t.Fatal(err)
				}
			}
			headSize := int64(c.cfg.Dim / c.cfg.Heads)
			if freq := int64(c.cfg.SeqLen) * headSize; n+freq != c.params {
				t.Errorf("tensors hold %d values (+%d freq_cis), want %d", n, freq, c.params)
			}
			// The first embedding value sits right after the 28-byte header.
			raw, _ := os.ReadFile(path)
			emb, _ := r.TensorData("token_embd.weight")
			if math.Float32frombits(binary.LittleEndian.Uint32(emb)) != math.Float32frombits(binary.LittleEndian.Uint32(raw[28:])) {
				t.Error("token_embd does not start after the header")
			}
			// The final norm sits just before freq_cis at the end of the file.
			norm, _ := r.TensorData("output_norm.weight")
			off, _ := r.TensorOffset("output_norm.weight")
			if want := int64(len(raw)) - 2*int64(c.cfg.SeqLen)*headSize/2*4 - int64(len(norm)); off != want {
				t.Errorf("output_norm offset = %d, want %d", off, want)
			}
			if kv, _ := r.Metadata().Int("llama.attention.head_count_kv"); kv != int64(c.cfg.KVHeads) {
				t.Errorf("head_count_kv = %d, want %d", kv, c.cfg.KVHeads)
			}
		})
	}
}

func header(ints ...int32) []byte {
	b := make([]byte, 4*len(ints))
	for i, v := range ints {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	// A valid tiny legacy model: dim 4, hidden 4, 1 layer, 2 heads, 1 kv head, vocab 3, seq 2.
	good := header(4, 4, 1, 2, 1, 3, 2)
	// values: emb 12 + rms 4 + wq 16 + wk 8 + wv 8 + wo 16 + rms 4 + w1 16 + w2 16 + w3 16 + final 4 + freq 2*2*1
	body := make([]byte, 4*(12+4+16+8+8+16+4+16+16+16+4+4))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	if _, err := Open(write("good.bin", append(good, body...))); err != nil {
		t.Fatalf("valid tiny model: %v", err)
	}
	unshared := header(4, 4, 1, 2, 1, -3, 2)
	if r, err := Open(write("unshared.bin", append(append(unshared, body...), make([]byte, 4*12)...))); err != nil {
		t.Fatalf("unshared classifier: %v", err)
	} else if _, ok := format.TensorIndex(r.Tensors(), "output.weight"); !ok {
		t.Error("unshared classifier: no output.weight")
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, format.ErrFormat},
		{"short", good[:20], format.ErrFormat},
		{"truncated", append(good, body[:len(body)-4]...), format.ErrFormat},
		{"trailing", append(append(good, body...), 0), format.ErrFormat},
		{"zero dim", append(header(0, 4, 1, 2, 1, 3, 2), body...), format.ErrFormat},
		{"huge", append(header(1<<30, 1<<30, 1<<30, 2, 1, 3, 2), body...), format.ErrFormat},
		{"heads", append(header(4, 4, 1, 3, 1, 3, 2), body...), format.ErrFormat},
		{"v2", append(header(magicV1, 2), make([]byte, 300)...), format.ErrUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(write(c.name+".bin", c.data))
			if !errors.Is(err, c.want) {
				t.Errorf("Open = %v, want %v", err, c.want)
			}
		})
	}
}

// TestHugeHeaderCostsNothing: a 28-byte file claiming 2^20 layers of
// width 2^20 is refused by detection and by Open without laying out a
// tensor (the old layout made 9 million tensor names first: 20 s, 2 GB).
func TestHugeHeaderCostsNothing(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		hdr  []byte
	}{
		{"2^20 layers", header(64, 172, 1<<20, 8, 4, 512, 512)},
		{"2^20 everything", header(1<<20, 1<<20, 1<<20, 1, 1, 1<<20, 1<<20)},               // overflows int64
		{"2^20 everything unshared", header(1<<20, 1<<20, 1<<20, 1, 1, -(1 << 20), 1<<20)}, // overflows int64
		{"most negative vocab", header(4, 4, 1, 2, 1, math.MinInt32, 2)},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "x.bin")
			os.WriteFile(p, c.hdr, 0o644)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			if name, err := format.Detect(p); err == nil && name == "llama2c" {
				t.Errorf("Detect took a %d-byte file for llama2c", len(c.hdr))
			}
			if _, err := Open(p); !errors.Is(err, format.ErrFormat) {
				t.Errorf("Open = %v, want ErrFormat", err)
			}
			runtime.ReadMemStats(&ms)
			if got := ms.TotalAlloc - before; got > 1<<20 {
				t.Errorf("refusing the header allocated %d KiB, want under 1 MiB", got>>10)
			}
		})
	}
}

// TestDataBytesIsLayout: the closed-form size parseHeader checks is what
// layout lays out, for both versions, shared or not.
func TestDataBytesIsLayout(t *testing.T) {
	for _, c := range []Config{
		{64, 172, 5, 8, 4, 512, 512, true, 0},
		{64, 172, 4, 4, 4, 512, 128, false, 0},
		{288, 768, 6, 6, 6, 32000, 256, true, 1},
		{4, 4, 1, 2, 1, 3, 2, false, 1},
	} {
		r := &Reader{cfg: c, offsets: map[string]int64{}}
		hdr := int64(legacyHeader)
		if c.Version == 1 {
			hdr = v1Header
		}
		need, ok := dataBytes(c)
		if end := r.layout(hdr); !ok || end-hdr != need {
			t.Errorf("%+v: dataBytes %d (%v), layout %d", c, need, ok, end-hdr)
		}
	}
}

// FuzzOpen: any bytes either fail with ErrFormat/ErrUnsupported or give a
// reader whose tensors all lie inside the data, end to end.
func FuzzOpen(f *testing.F) {
	tiny := append(header(4, 4, 1, 2, 1, 3, 2), make([]byte, 4*(12+4+16+8+8+16+4+16+16+16+4+4))...)
	f.Add(tiny)
	f.Add(header(64, 172, 1<<20, 8, 4, 512, 512))
	f.Add(append(header(magicV1, 1, 4, 4, 1, 2, 1, 3, 2), make([]byte, 300)...))
	if dir := testshared.Find(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "data/models/stories260K/stories260K.bin")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(data, "fuzz.bin")
		if err != nil {
			if !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) {
				t.Fatalf("error %v is neither ErrFormat nor ErrUnsupported", err)
			}
			return
		}
		for _, ti := range r.Tensors() {
			d, err := r.TensorData(ti.Name)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := ti.NumBytes(); int64(len(d)) != n {
				t.Fatalf("tensor %s: %d bytes, want %d", ti.Name, len(d), n)
			}
		}
	})
}
