package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// shardFixture is ten U8 tensors of 10..19 bytes, each byte its index.
func shardFixture() ([]format.TensorInfo, map[string][]byte) {
	var infos []format.TensorInfo
	data := map[string][]byte{}
	for i := range 10 {
		name := "layer." + itoa(i) + ".weight"
		infos = append(infos, format.TensorInfo{Name: name, DType: format.U8, Shape: []int64{int64(10 + i)}})
		data[name] = bytes.Repeat([]byte{byte(i)}, 10+i)
	}
	return infos, data
}

func writeSharded(t *testing.T, dir string, infos []format.TensorInfo, data map[string][]byte, max int64) error {
	t.Helper()
	w, err := CreateSharded(dir, infos, format.Metadata{{Key: "format", Value: "pt"}}, max, format.CreateOptions{})
	if err != nil {
		return err
	}
	for _, ti := range infos {
		if err := w.WriteTensor(ti.Name, data[ti.Name]); err != nil {
			return err
		}
	}
	return w.Close()
}

// TestShardedRoundTrip writes ten tensors (10+11+...+19 = 145 bytes) as
// shards of at most 40 bytes: greedily {10,11,12}=33, {13,14}=27, {15,16}=31,
// {17,18}=35, {19}=19, so five shards; reads them back as one Source.
func TestShardedRoundTrip(t *testing.T) {
	infos, data := shardFixture()
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := writeSharded(t, dir, infos, data, 40); err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors", "model-00003-of-00005.safetensors",
		"model-00004-of-00005.safetensors", "model-00005-of-00005.safetensors", IndexFile,
	}
	if got := dirEntries(t, dir); !slices.Equal(got, wantFiles) {
		t.Fatalf("dir holds %v, want %v", got, wantFiles)
	}
	shardOf := []int{1, 1, 1, 2, 2, 3, 3, 4, 4, 5}
	var ix struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if err := json.Unmarshal(raw, &ix); err != nil {
		t.Fatal(err)
	}
	if ix.Metadata["total_size"] != 145 {
		t.Errorf("total_size = %d, want 145", ix.Metadata["total_size"])
	}
	for i, ti := range infos {
		if want := wantFiles[shardOf[i]-1]; ix.WeightMap[ti.Name] != want {
			t.Errorf("weight_map[%s] = %s, want %s", ti.Name, ix.WeightMap[ti.Name], want)
		}
	}
	for _, open := range []func(string) (format.Source, error){OpenDir, format.Open} {
		src, err := open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := src.Tensors(); !slices.EqualFunc(got, infos, func(a, b format.TensorInfo) bool { return a.String() == b.String() }) {
			t.Errorf("Tensors() = %v, want %v", got, infos)
		}
		for _, ti := range infos {
			if d, err := src.TensorData(ti.Name); err != nil || !bytes.Equal(d, data[ti.Name]) {
				t.Errorf("TensorData(%s) = %v, %v", ti.Name, d, err)
			}
		}
		if v, _ := src.Metadata().String("format"); v != "pt" {
			t.Errorf("Metadata() = %v, want format=pt", src.Metadata())
		}
		sh := src.(*Sharded)
		if p, _ := sh.Shard("layer.9.weight"); filepath.Base(p) != wantFiles[4] {
			t.Errorf("Shard(layer.9.weight) = %s, want %s", p, wantFiles[4])
		}
		off, ok := sh.TensorOffset("layer.0.weight")
		if r, _ := Open(filepath.Join(dir, wantFiles[0])); !ok || off != r.DataOffset() {
			t.Errorf("TensorOffset(layer.0.weight) = %d, want the shard's data offset", off)
		}
		src.Close()
	}
}

// TestIndexLikeTransformers: the index is what Python's
// json.dumps(index, indent=2, sort_keys=True) + "\n" writes.
func TestIndexLikeTransformers(t *testing.T) {
	infos := []format.TensorInfo{{Name: "b", DType: format.U8, Shape: []int64{4}}, {Name: "a", DType: format.U8, Shape: []int64{4}}}
	data := map[string][]byte{"a": {1, 2, 3, 4}, "b": {5, 6, 7, 8}}
	dir := t.TempDir()
	if err := writeSharded(t, dir, infos, data, 4); err != nil {
		t.Fatal(err)
	}
	want := `{
  "metadata": {
    "total_size": 8
  },
  "weight_map": {
    "a": "model-00002-of-00002.safetensors",
    "b": "model-00001-of-00002.safetensors"
  }
}
`
	if got, _ := os.ReadFile(filepath.Join(dir, IndexFile)); string(got) != want {
		t.Errorf("index =\n%s\nwant\n%s", got, want)
	}
}

// TestShardedSingle: everything in one shard is a plain model.safetensors.
func TestShardedSingle(t *testing.T) {
	infos, data := shardFixture()
	dir := t.TempDir()
	if err := writeSharded(t, dir, infos, data, 0); err != nil {
		t.Fatal(err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{SingleFile}) {
		t.Fatalf("dir holds %v, want [%s]", got, SingleFile)
	}
	src, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, ok := src.(*Reader); !ok || len(src.Tensors()) != 10 {
		t.Errorf("OpenDir = %T with %d tensors, want *Reader with 10", src, len(src.Tensors()))
	}
}

// TestShardedFailureLeavesNothing (30-byte shards: {10,11} {12,13} {14,15}
// {16} {17} {18} {19}, seven files): a missing tensor, an abort or an
// existing output leave no shard and no index behind.
func TestShardedFailureLeavesNothing(t *testing.T) {
	infos, data := shardFixture()
	t.Run("missing tensor", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new")
		w, err := CreateSharded(dir, infos, nil, 30, format.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range infos[:7] {
			if err := w.WriteTensor(ti.Name, data[ti.Name]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); !errors.Is(err, format.ErrNotFound) {
			t.Errorf("Close = %v, want ErrNotFound", err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("directory made by the writer survives: %v (holds %v)", err, dirEntries(t, dir))
		}
	})
	t.Run("abort", func(t *testing.T) {
		dir := t.TempDir()
		w, _ := CreateSharded(dir, infos, nil, 30, format.CreateOptions{})
		for _, ti := range infos[:5] {
			w.WriteTensor(ti.Name, data[ti.Name])
		}
		w.Abort()
		if got := dirEntries(t, dir); len(got) != 0 {
			t.Errorf("after Abort dir holds %v", got)
		}
	})
	t.Run("wrong length", func(t *testing.T) {
		dir := t.TempDir()
		w, _ := CreateSharded(dir, infos, nil, 30, format.CreateOptions{})
		w.WriteTensor(infos[0].Name, data[infos[0].Name])
		if err := w.WriteTensor(infos[1].Name, []byte{1}); !errors.Is(err, format.ErrShape) {
			t.Errorf("WriteTensor(short) = %v, want ErrShape", err)
		}
		if err := w.Close(); !errors.Is(err, format.ErrShape) {
			t.Errorf("Close = %v, want the sticky ErrShape", err)
		}
		if got := dirEntries(t, dir); len(got) != 0 {
			t.Errorf("after failure dir holds %v", got)
		}
	})
	t.Run("existing output", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "model-00002-of-00007.safetensors"), []byte("keep"), 0o644)
		if _, err := CreateSharded(dir, infos, nil, 30, format.CreateOptions{}); !errors.Is(err, format.ErrExists) {
			t.Errorf("CreateSharded over an existing shard = %v, want ErrExists", err)
		}
	})
}

// TestBadIndex: hostile or inconsistent index files.
func TestBadIndex(t *testing.T) {
	infos, data := shardFixture()
	good := t.TempDir()
	if err := writeSharded(t, good, infos, data, 40); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		index string
		want  error
	}{
		{"invalid JSON", `{"weight_map":`, format.ErrFormat},
		{"no weight_map", `{"metadata":{}}`, format.ErrFormat},
		{"path traversal", `{"weight_map":{"x":"../model-00001-of-00005.safetensors"}}`, format.ErrFormat},
		{"absolute path", `{"weight_map":{"x":"/etc/passwd"}}`, format.ErrFormat},
		{"missing shard", `{"weight_map":{"x":"nope.safetensors"}}`, format.ErrNotFound},
		{"tensor not in its shard", `{"weight_map":{"layer.0.weight":"model-00001-of-00005.safetensors","layer.1.weight":"model-00001-of-00005.safetensors","layer.2.weight":"model-00001-of-00005.safetensors","ghost":"model-00001-of-00005.safetensors"}}`, format.ErrFormat},
		{"shard tensor not in weight_map", `{"weight_map":{"layer.0.weight":"model-00001-of-00005.safetensors"}}`, format.ErrFormat},
		{"tensor in another shard", `{"weight_map":{"layer.0.weight":"model-00001-of-00005.safetensors","layer.1.weight":"model-00001-of-00005.safetensors","layer.2.weight":"model-00002-of-00005.safetensors","layer.3.weight":"model-00002-of-00005.safetensors","layer.4.weight":"model-00002-of-00005.safetensors"}}`, format.ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range dirEntries(t, good) {
				b, _ := os.ReadFile(filepath.Join(good, f))
				os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
			os.WriteFile(filepath.Join(dir, IndexFile), []byte(tc.index), 0o644)
			if src, err := OpenDir(dir); !errors.Is(err, tc.want) {
				t.Errorf("OpenDir = %v, want %v", err, tc.want)
				if src != nil {
					src.Close()
				}
			}
		})
	}
}

// TestProbe: recognition is by content, not by name.
func TestProbe(t *testing.T) {
	valid := rawFile(one, make([]byte, 12))
	modelDir := t.TempDir()
	os.WriteFile(filepath.Join(modelDir, SingleFile), valid, 0o644)
	for _, tc := range []struct {
		name string
		path string
		want bool
	}{
		{"safetensors named .bin", writeTemp(t, "pytorch_model.bin", valid), true},
		{"leading space", writeTemp(t, "x", rawFile(" "+one, make([]byte, 12))), true},
		{"GGUF", writeTemp(t, "m.safetensors", append([]byte("GGUF\x03\x00\x00\x00"), make([]byte, 32)...)), false},
		{"LFS pointer", writeTemp(t, "m.safetensors", []byte("version https://git-lfs.github.com/spec/v1\n")), false},
		{"length past end", writeTemp(t, "m.safetensors", lengthPrefix(500, "{}")), false},
		{"model dir", modelDir, true},
		{"empty dir", t.TempDir(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := format.Detect(tc.path)
			if (got == "safetensors") != tc.want {
				t.Errorf("Detect(%s) = %q, %v, want safetensors %v", tc.path, got, err, tc.want)
			}
		})
	}
}
