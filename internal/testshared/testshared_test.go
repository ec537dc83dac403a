package testshared

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestPathIsBesideTheModule(t *testing.T) {
	p := Path(t, "fixtures")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Fatalf("Path(fixtures) = %s, not a directory", p)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Dir(filepath.Dir(p)), filepath.Dir(root); got != want {
		t.Errorf("shared folder sits in %s, want beside the module in %s", got, want)
	}
}

// recorder is a testing.TB that records how Path ended instead of ending
// the real test.
type recorder struct {
	testing.TB
	outcome string // "skip", "fatal" or "" (returned)
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.outcome = "skip: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.outcome = "fatal: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// outcome runs f on a recorder in its own goroutine (Skipf and Fatalf end
// it) and returns "skip: ...", "fatal: ..." or "".
func outcome(t *testing.T, f func(testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.outcome
}

// TestPathFailsOrSkips: with ../shared present a missing or unreadable file
// fails the test; only an absent ../shared skips it.
func TestPathFailsOrSkips(t *testing.T) {
	shared := Find()
	if shared == "" {
		t.Skip("../shared is absent")
	}
	unreadable := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(shared, unreadable)
	for _, c := range []struct {
		name, rel, want string
	}{
		{"present", "fixtures", ""},
		{"missing", "fixtures/no-such-file.gguf", "fatal"},
		{"glob matches nothing", "", "fatal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := outcome(t, func(tb testing.TB) {
				if c.rel == "" {
					Glob(tb, "fixtures/*.no-such-extension")
					return
				}
				Path(tb, c.rel)
			})
			if !strings.HasPrefix(got, c.want) || (c.want == "" && got != "") {
				t.Errorf("Path(%s) ended %q, want %q", c.rel, got, c.want)
			}
		})
	}
	if os.Geteuid() != 0 { // root reads a mode-000 file
		if got := outcome(t, func(tb testing.TB) { Path(tb, rel) }); !strings.HasPrefix(got, "fatal") {
			t.Errorf("Path(unreadable file) ended %q, want fatal", got)
		}
	}

	// A checkout with no ../shared beside it: the test skips.
	mod := filepath.Join(t.TempDir(), "checkout")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(mod)
	if got := outcome(t, func(tb testing.TB) { Path(tb, "fixtures/gpt2-f32.gguf") }); !strings.HasPrefix(got, "skip") {
		t.Errorf("Path without ../shared ended %q, want skip", got)
	}
}

func TestTensorHashes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.txt")
	os.WriteFile(p, []byte("sha256    aa  x.gguf:token_embd.weight\nsha256    bb  x.gguf:blk.0.attn_q.weight\nsha256    cc  x.gguf\n"), 0o644)
	got := TensorHashes(t, p)
	if len(got) != 2 || got["token_embd.weight"] != "aa" || got["blk.0.attn_q.weight"] != "bb" {
		t.Errorf("TensorHashes = %v, want the two tensor lines only", got)
	}
}

// TestNumbers: one number a line, as the numpy references write them.
func TestNumbers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ref.txt")
	if err := os.WriteFile(path, []byte("1.5\n-2e-3\n  7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := Numbers(t, path)
	if want := []float64{1.5, -0.002, 7}; !slices.Equal(got, want) {
		t.Errorf("Numbers = %v, want %v", got, want)
	}
}
