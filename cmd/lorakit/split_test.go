package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestSplitCommands: convert, quantize and merge write llama-gguf-split
// sets with --split-max-*, and read a set from its first shard as the
// whole model.
func TestSplitCommands(t *testing.T) {
	fx := sharedPath(t, "fixtures")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if _, errs, code := lorakit(t, args...); code != 0 {
			t.Fatalf("lorakit %v: exit %d: %s", args, code, errs)
		}
	}
	sameFile := func(got, want string) {
		t.Helper()
		a, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s (%d bytes) differs from %s (%d bytes)", got, len(a), want, len(b))
		}
	}

	// convert with the limit llama-gguf-split was given: the same shards.
	run("convert", filepath.Join(fx, "llama-f32.gguf"), "-o", filepath.Join(dir, "llama-f32.gguf"), "--split-max-tensors", "6")
	for i := range 4 {
		name := gguf.SplitPath("llama-f32", i, 4)
		sameFile(filepath.Join(dir, name), filepath.Join(fx, "split", name))
	}
	run("convert", filepath.Join(fx, "gpt2-f32.gguf"), "-o", filepath.Join(dir, "gpt2-f32.gguf"), "--split-max-size", "1M")
	for i := range 2 {
		name := gguf.SplitPath("gpt2-f32", i, 2)
		sameFile(filepath.Join(dir, name), filepath.Join(fx, "split", name))
	}

	// quantize reads the whole set (not the first shard's 6 tensors):
	// the same bytes as llama-quantize's Q8_0 of the unsplit file.
	run("quantize", filepath.Join(fx, "split", "llama-f32-00001-of-00004.gguf"), filepath.Join(dir, "q8.gguf"), "Q8_0")
	sameFile(filepath.Join(dir, "q8.gguf"), filepath.Join(fx, "llama-q8_0.gguf"))

	// quantize and merge write sets that read back as their unsplit output.
	run("quantize", filepath.Join(fx, "llama-f32.gguf"), filepath.Join(dir, "q8s.gguf"), "Q8_0", "--split-max-size", "200K")
	sameModel(t, firstShard(t, filepath.Join(dir, "q8s")), filepath.Join(fx, "llama-q8_0.gguf"))
	run("merge", filepath.Join(fx, "gpt2-f32.gguf"), "--adapter", filepath.Join(fx, "gpt2-lora-r4.gguf"), "-o", filepath.Join(dir, "m.gguf"))
	run("merge", filepath.Join(fx, "gpt2-f32.gguf"), "--adapter", filepath.Join(fx, "gpt2-lora-r4.gguf"), "-o", filepath.Join(dir, "ms.gguf"), "--split-max-tensors", "16")
	sameModel(t, firstShard(t, filepath.Join(dir, "ms")), filepath.Join(dir, "m.gguf"))

	for _, bad := range [][]string{
		{"quantize", filepath.Join(fx, "llama-f32.gguf"), filepath.Join(dir, "x.gguf"), "Q8_0", "--split-max-size", "1T"},
		{"quantize", filepath.Join(fx, "llama-f32.gguf"), filepath.Join(dir, "x.gguf"), "Q8_0", "--split-max-size", "1M", "--split-max-tensors", "3"},
	} {
		if _, _, code := lorakit(t, bad...); code != exitUsage {
			t.Errorf("lorakit %v = exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// sameModel checks that two GGUF models (sets or files) hold the same
// metadata and tensors, byte for byte.
func sameModel(t *testing.T, a, b string) {
	t.Helper()
	sa, err := format.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := format.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if len(sa.Metadata()) != len(sb.Metadata()) {
		t.Errorf("%s has %d metadata keys, %s %d", a, len(sa.Metadata()), b, len(sb.Metadata()))
	}
	if len(sa.Tensors()) != len(sb.Tensors()) {
		t.Fatalf("%s has %d tensors, %s %d", a, len(sa.Tensors()), b, len(sb.Tensors()))
	}
	for i, ti := range sa.Tensors() {
		if sb.Tensors()[i].String() != ti.String() {
			t.Errorf("tensor %d: %v in %s, %v in %s", i, ti, a, sb.Tensors()[i], b)
			continue
		}
		da, _ := sa.TensorData(ti.Name)
		db, _ := sb.TensorData(ti.Name)
		if !bytes.Equal(da, db) {
			t.Errorf("tensor %q differs between %s and %s", ti.Name, a, b)
		}
	}
}

// firstShard returns the first shard of the set of prefix, which must have
// more than one.
func firstShard(t *testing.T, prefix string) string {
	t.Helper()
	m, _ := filepath.Glob(prefix + "-00001-of-*.gguf")
	if len(m) != 1 || filepath.Base(m[0]) == filepath.Base(prefix)+"-00001-of-00001.gguf" {
		t.Fatalf("want one first shard of several for %s, found %v", prefix, m)
	}
	return m[0]
}

// TestInspectSplitSet: inspect of a first shard lists the whole model, each
// tensor with the shard holding it and its sha256 as llama-gguf-hash gives
// it for the unsplit file.
func TestInspectSplitSet(t *testing.T) {
	fx := sharedPath(t, "fixtures")
	out, errs, code := lorakit(t, "inspect", "--json", "--hash", filepath.Join(fx, "split", "llama-f32-00001-of-00004.gguf"))
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errs)
	}
	var rep inspectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	want := testshared.TensorHashes(t, filepath.Join(fx, "tensor-sha256", "llama-f32.txt"))
	if len(rep.Shards) != 4 || len(rep.Tensors) != len(want) || rep.Version != 3 {
		t.Fatalf("%d shards, %d tensors, v%d; want 4, %d, v3", len(rep.Shards), len(rep.Tensors), rep.Version, len(want))
	}
	for _, ti := range rep.Tensors {
		if ti.SHA256 != want[ti.Name] || !strings.HasPrefix(ti.Shard, "llama-f32-0000") {
			t.Errorf("%s: sha256 %s in %q, want %s", ti.Name, ti.SHA256, ti.Shard, want[ti.Name])
		}
	}
}
