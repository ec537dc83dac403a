package gguf

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestFixtureTensorHashes checks every tensor's bytes against the sha256
// that llama.cpp's llama-gguf-hash printed for the same file.
func TestFixtureTensorHashes(t *testing.T) {
	shared := sharedDir(t)
	for _, path := range fixtures(t) {
		t.Run(stem(path), func(t *testing.T) {
			want, wantAll := readHashes(t, filepath.Join(shared, "fixtures", "tensor-sha256", stem(path)+".txt"))
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			infos := r.Tensors()
			if len(infos) != len(want) {
				t.Fatalf("len(Tensors()) = %d, want %d", len(infos), len(want))
			}
			all := sha256.New()
			for i, info := range infos {
				if info.Name != want[i].name {
					t.Errorf("tensor %d name = %q, want %q", i, info.Name, want[i].name)
				}
				data, err := r.TensorData(info.Name)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := info.NumBytes(); int64(len(data)) != n {
					t.Errorf("len(TensorData(%q)) = %d, want %d", info.Name, len(data), n)
				}
				sum := sha256.Sum256(data)
				if got := hex.EncodeToString(sum[:]); got != want[i].hex {
					t.Errorf("sha256(TensorData(%q)) = %s, want %s", info.Name, got, want[i].hex)
				}
				all.Write(data)
			}
			if got := hex.EncodeToString(all.Sum(nil)); got != wantAll {
				t.Errorf("sha256(all tensor data) = %s, want %s", got, wantAll)
			}
		})
	}
}

// dumpKV and dumpTensor are lines of gguf-py's gguf_dump.py output.
type dumpKV struct {
	typ, key, value string
	count           int
}
type dumpTensor struct {
	elems int64
	ne    [4]int64
	typ   string
	name  string
}

// readDump parses a gguf_dump.py listing, skipping its three GGUF.* lines.
func readDump(t *testing.T, path string) (kvs []dumpKV, tensors []dumpTensor) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "*") {
			continue
		}
		_, rest, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: unexpected line %q", path, line)
		}
		parts := strings.Split(rest, "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		switch len(parts) {
		case 3: // TYPE | count | key = value
			key, value, _ := strings.Cut(parts[2], " = ")
			if strings.HasPrefix(key, "GGUF.") {
				continue
			}
			n, _ := strconv.Atoi(parts[1])
			kvs = append(kvs, dumpKV{parts[0], key, value, n})
		case 4: // elements | ne0, ne1, ne2, ne3 | TYPE | name
			var d dumpTensor
			d.elems, _ = strconv.ParseInt(parts[0], 10, 64)
			for i, s := range strings.Split(parts[1], ",") {
				d.ne[i], _ = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			}
			d.typ, d.name = parts[2], parts[3]
			tensors = append(tensors, d)
		default:
			t.Fatalf("%s: unexpected line %q", path, line)
		}
	}
	return kvs, tensors
}

// pyRepr formats a metadata value as gguf_dump.py prints it, where that is
// easy to do exactly; ok is false for floats (checked numerically) and
// strings with quotes or escapes.
func pyRepr(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		if strings.ContainsAny(x, "'\\\n\r\t") {
			return "", false
		}
		return "'" + x + "'", true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case float32, float64:
		return "", false
	}
	return fmt.Sprint(v), true
}

// checkDumpValue compares a value with its printed form in a dump.
func checkDumpValue(t *testing.T, key string, v any, printed string) {
	t.Helper()
	switch x := v.(type) {
	case float32:
		got, err := strconv.ParseFloat(printed, 64)
		if err != nil || got != float64(x) {
			t.Errorf("key %q = %v, dump says %s", key, x, printed)
		}
		return
	case []string, []int32, []uint32, []float32:
		// gguf_dump prints the first 6 elements, then ", ..." if there are more.
		list := strings.TrimSuffix(strings.TrimPrefix(printed, "["), "]")
		list = strings.TrimSuffix(list, ", ...")
		items := strings.Split(list, ", ")
		rv := reflect.ValueOf(v)
		for i, item := range items {
			el := rv.Index(i).Interface()
			if f, isF := el.(float32); isF {
				got, err := strconv.ParseFloat(item, 64)
				if err != nil || got != float64(f) {
					t.Errorf("key %q[%d] = %v, dump says %s", key, i, f, item)
				}
				continue
			}
			if want, ok := pyRepr(el); ok && want != item {
				t.Errorf("key %q[%d] = %s, dump says %s", key, i, want, item)
			}
		}
		return
	}
	if want, ok := pyRepr(v); ok && want != printed {
		t.Errorf("key %q = %s, dump says %s", key, want, printed)
	}
}

// TestFixtureDumps compares metadata and tensor listings with gguf-py's
// gguf_dump.py output for each fixture.
func TestFixtureDumps(t *testing.T) {
	shared := sharedDir(t)
	for _, path := range fixtures(t) {
		t.Run(stem(path), func(t *testing.T) {
			kvs, tensors := readDump(t, filepath.Join(shared, "fixtures", "dumps", stem(path)+".dump.txt"))
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			md := r.Metadata()
			if len(md) != len(kvs) {
				t.Fatalf("len(Metadata()) = %d, want %d", len(md), len(kvs))
			}
			for i, kv := range md {
				want := kvs[i]
				if kv.Key != want.key {
					t.Errorf("key %d = %q, want %q", i, kv.Key, want.key)
					continue
				}
				if got := typeName(kv.Value); got != want.typ {
					t.Errorf("key %q type = %s, want %s", kv.Key, got, want.typ)
				}
				if n := count(kv.Value); n != want.count {
					t.Errorf("key %q element count = %d, want %d", kv.Key, n, want.count)
				}
				checkDumpValue(t, kv.Key, kv.Value, want.value)
			}
			infos := r.Tensors()
			if len(infos) != len(tensors) {
				t.Fatalf("len(Tensors()) = %d, want %d", len(infos), len(tensors))
			}
			for i, info := range infos {
				want := tensors[i]
				ne := [4]int64{1, 1, 1, 1}
				for j, d := range info.Shape {
					ne[len(info.Shape)-1-j] = d
				}
				n, _ := info.NumElements()
				if info.Name != want.name || info.DType.String() != want.typ || ne != want.ne || n != want.elems {
					t.Errorf("tensor %d = %s ne %v (%d elements), want %s %s ne %v (%d)",
						i, info, ne, n, want.name, want.typ, want.ne, want.elems)
				}
			}
		})
	}
}

// count is the element count gguf_dump.py prints: 1 for a scalar.
func count(v any) int {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		return rv.Len()
	}
	return 1
}

// TestSharedData checks facts recorded in ../shared/data/PROVENANCE.md.
func TestSharedData(t *testing.T) {
	shared := sharedDir(t)
	tests := []struct {
		file           string
		nKV, nTensors  int
		tokens, merges int
		arch           string
		dataOffset     int64
		tensor         string
		dtype          format.DType
		shape          []int64
	}{
		{"data/llama.cpp-vocab/ggml-vocab-gpt-2.gguf", 16, 0, 50257, 50000, "gpt2", -1, "", 0, nil},
		{"data/llama.cpp-vocab/ggml-vocab-llama-spm.gguf", 22, 0, 32000, 0, "llama", -1, "", 0, nil},
		{"data/models/llama-2-tiny-random.gguf", 18, 12, 32000, 0, "llama", 724416, "token_embd.weight", format.F16, []int64{32000, 8}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			r, err := Open(filepath.Join(shared, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			md := r.Metadata()
			if r.Version() != 3 || r.Alignment() != 32 {
				t.Errorf("Version(), Alignment() = %d, %d, want 3, 32", r.Version(), r.Alignment())
			}
			if len(md) != tt.nKV || len(r.Tensors()) != tt.nTensors {
				t.Errorf("counts = %d KVs, %d tensors, want %d, %d", len(md), len(r.Tensors()), tt.nKV, tt.nTensors)
			}
			if arch, _ := md.String("general.architecture"); arch != tt.arch {
				t.Errorf("general.architecture = %q, want %q", arch, tt.arch)
			}
			if toks, _ := md.Get("tokenizer.ggml.tokens"); len(toks.([]string)) != tt.tokens {
				t.Errorf("len(tokenizer.ggml.tokens) = %d, want %d", len(toks.([]string)), tt.tokens)
			}
			if tt.merges > 0 {
				m, _ := md.Get("tokenizer.ggml.merges")
				if len(m.([]string)) != tt.merges {
					t.Errorf("len(tokenizer.ggml.merges) = %d, want %d", len(m.([]string)), tt.merges)
				}
			}
			if tt.tensor == "" {
				return
			}
			if r.DataOffset() != tt.dataOffset {
				t.Errorf("DataOffset() = %d, want %d", r.DataOffset(), tt.dataOffset)
			}
			info, ok := format.TensorIndex(r.Tensors(), tt.tensor)
			if !ok || info.DType != tt.dtype || !format.SameShape(info.Shape, tt.shape) {
				t.Errorf("tensor %q = %v, want %v %v", tt.tensor, info, tt.dtype, tt.shape)
			}
		})
	}
}

// TestNewReaderMatchesOpen reads the same files through io.ReaderAt.
func TestNewReaderMatchesOpen(t *testing.T) {
	for _, path := range sharedGGUFs(t) {
		t.Run(stem(path), func(t *testing.T) {
			mapped, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer mapped.Close()
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			r, err := NewReader(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Metadata(), mapped.Metadata()) || !reflect.DeepEqual(r.Tensors(), mapped.Tensors()) {
				t.Fatal("NewReader and Open disagree on metadata or tensors")
			}
			for _, info := range r.Tensors() {
				a, err := r.TensorData(info.Name)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := mapped.TensorData(info.Name)
				oa, _ := r.TensorOffset(info.Name)
				ob, _ := mapped.TensorOffset(info.Name)
				if string(a) != string(b) || oa != ob {
					t.Fatalf("tensor %q: NewReader and Open disagree", info.Name)
				}
			}
		})
	}
}

func TestTensorDataErrors(t *testing.T) {
	r, err := Open(filepath.Join("testdata", "gpt2-lora-r4.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.TensorData("nope"); !errors.Is(err, format.ErrNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("TensorData(nope) = %v, want ErrNotFound naming the tensor", err)
	}
	if _, ok := r.TensorOffset("nope"); ok {
		t.Error("TensorOffset(nope) ok = true, want false")
	}
	r.Close()
	if _, err := r.TensorData("blk.0.attn_qkv.weight.lora_a"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("TensorData after Close = %v, want os.ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestDriver(t *testing.T) {
	path := filepath.Join("testdata", "gpt2-lora-r4.gguf")
	if name, err := format.Detect(path); err != nil || name != "gguf" {
		t.Fatalf("format.Detect(%s) = %q, %v, want gguf", path, name, err)
	}
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Format() != "gguf" || len(src.Tensors()) != 12 {
		t.Errorf("format.Open(%s) = %s with %d tensors, want gguf with 12", path, src.Format(), len(src.Tensors()))
	}
	if _, err := format.Open(filepath.Join(t.TempDir(), "absent.gguf")); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("format.Open(absent) = %v, want ErrNotFound", err)
	}
}
