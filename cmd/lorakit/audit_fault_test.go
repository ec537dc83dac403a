package main

// The audit's file-placement and process cases: inputs named as outputs,
// special files, command lines that are not commands, and what signals and
// a truncated input do to a running command.

import (
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyFile copies a file of ../shared into dir.
func copyFile(t *testing.T, dir, rel string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.Base(rel))
	if err := os.WriteFile(p, readShared(t, rel), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuditInputsAreNeverOutputs: every file a command reads is an input,
// never an output, --force or not; devices and FIFOs are never replaced.
func TestAuditInputsAreNeverOutputs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs on windows")
	}
	d := t.TempDir()
	f32 := copyFile(t, d, "fixtures/gpt2-f32.gguf")
	bin := copyFile(t, d, "data/models/stories260K/stories260K.bin")
	tok := copyFile(t, d, "data/models/stories260K/tok512.model")
	hf := filepath.Join(d, "hf")
	os.Mkdir(hf, 0o755)
	for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"} {
		copyFile(t, hf, "data/models/lm-buddy-tiny-gpt2-random/"+f)
	}
	run := filepath.Join(d, "run")
	os.Mkdir(run, 0o755)
	jsonl := filepath.Join(run, "train.jsonl") // the name of train's log
	os.WriteFile(jsonl, []byte(`{"prompt":"name : The Eagle ||","completion":" The Eagle is a pub ."}`+"\n"), 0o644)
	evalData := filepath.Join(d, "e.txt")
	os.WriteFile(evalData, []byte("name : The Eagle||The Eagle is a pub .\n"), 0o644)
	fifo := filepath.Join(d, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"train data is the log", []string{"train", "--data", jsonl, "-o", run, "--steps", "1"}, "train.jsonl"},
		{"convert tokenizer", []string{"convert", bin, "-o", tok, "--tokenizer", tok, "--force"}, "tok512.model"},
		{"convert config.json", []string{"convert", hf, "-o", filepath.Join(hf, "config.json"), "--force"}, "config.json"},
		{"eval data", []string{"eval", "--data", evalData, "-o", evalData, "--force", "-n", "2"}, "e.txt"},
		{"quantize to a device", []string{"quantize", f32, os.DevNull, "q8_0", "--force"}, os.DevNull},
		{"quantize to a FIFO", []string{"quantize", f32, fifo, "q8_0", "--force"}, "fifo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, d)
			_, errs, code := lorakit(t, c.args...)
			checkFailure(t, c.args, errs, code, exitFail, c.mention)
			checkUnchanged(t, d, before)
		})
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode().IsRegular() {
		t.Errorf("%s is no longer a device: %v", os.DevNull, err)
	}
}

// TestAuditCommandLine: a command line that names no command, or a command
// that does not exist, is a usage error (exit 2), not a success.
func TestAuditCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"help", "bogus"},
		{"analyze"},
		{"analyze", "bogus"},
	} {
		_, errs, code := lorakit(t, args...)
		if code != exitUsage {
			t.Errorf("lorakit %q = exit %d, want %d (stderr %q)", args, code, exitUsage, errs)
		}
	}
	for _, args := range [][]string{{"help"}, {"help", "convert"}, {"--help"}, {"analyze", "--help"}} {
		if _, errs, code := lorakit(t, args...); code != exitOK {
			t.Errorf("lorakit %q = exit %d, want 0 (stderr %q)", args, code, errs)
		}
	}
}

// TestAuditSignals sends SIGINT, SIGTERM and SIGHUP to commands writing a
// 64 MiB model once their temporary output exists: each exits
// exitInterrupted with one line naming the output and the signal, leaving
// no output, no temporary file and its inputs intact. A second signal ends
// the process at once, as cleanly.
func TestAuditSignals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals on windows")
	}
	d, big, adapter := bigModelDir(t)
	for _, c := range []struct {
		name, output string
		sigs         []syscall.Signal
		args         []string
	}{
		{"quantize SIGINT", "q.gguf", []syscall.Signal{syscall.SIGINT}, []string{"quantize", big, filepath.Join(d, "q.gguf"), "q4_k_m"}},
		{"convert SIGTERM", "c.gguf", []syscall.Signal{syscall.SIGTERM}, []string{"convert", big, "-o", filepath.Join(d, "c.gguf"), "--dtype", "q4_k_m"}},
		{"merge SIGHUP", "m.gguf", []syscall.Signal{syscall.SIGHUP}, []string{"merge", big, "-a", adapter, "-o", filepath.Join(d, "m.gguf"), "--dtype", "q4_k"}},
		{"quantize twice", "q.gguf", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, []string{"quantize", big, filepath.Join(d, "q.gguf"), "q4_k_m"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, d)
			cmd, stderr, done := startWriting(t, d, c.args)
			for _, s := range c.sigs {
				if err := cmd.Process.Signal(s); err != nil {
					t.Fatal(err)
				}
			}
			<-done
			code := cmd.ProcessState.ExitCode()
			mention := c.output
			if len(c.sigs) == 1 {
				mention = c.output + ": interrupted"
			}
			if len(c.sigs) > 1 && code == exitInterrupted && !strings.Contains(stderr.String(), c.output) {
				mention = "again" // the second signal may win: it names no output
			}
			checkFailure(t, c.args, stderr.String(), code, exitInterrupted, mention)
			checkUnchanged(t, d, before)
		})
	}
}

// TestAuditTruncatedDuringRun truncates a 64 MiB input while quantize reads
// it (a SIGBUS on its mapping): one error line naming the input, exit 1,
// no output and no temporary file.
func TestAuditTruncatedDuringRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGBUS on windows")
	}
	d, big, _ := bigModelDir(t)
	args := []string{"quantize", big, filepath.Join(d, "q.gguf"), "q4_k_m"}
	cmd, stderr, done := startWriting(t, d, args)
	if err := os.Truncate(big, 4096); err != nil {
		t.Fatal(err)
	}
	<-done
	checkFailure(t, args, stderr.String(), cmd.ProcessState.ExitCode(), exitFail, "big.gguf")
	if m, _ := filepath.Glob(filepath.Join(d, ".*.tmp-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if _, err := os.Stat(filepath.Join(d, "q.gguf")); err == nil {
		t.Error("an output was written from a truncated input")
	}
}

// startWriting starts lorakit with args (as startHelper) and waits until
// its temporary output appears in d, failing the test if it ends first.
func startWriting(t *testing.T, d string, args []string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	cmd, stderr, done := startHelper(t, args)
	if !waitForTemp(d, done) {
		t.Fatalf("lorakit %v finished before its temporary output appeared: %s", args, stderr.String())
	}
	return cmd, stderr, done
}

// startHelper runs lorakit args in a child process (TestAuditHelperProcess)
// and returns it, its stderr and a channel that receives when it ends.
func startHelper(t *testing.T, args []string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestAuditHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "LORAKIT_AUDIT_HELPER=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() }) // a test that failed early

	return cmd, &stderr, done
}

// TestAuditCrashReport: a panic in lorakit (a bug) is one error line and
// exit status exitInternal, distinct from a usage error's.
func TestAuditCrashReport(t *testing.T) {
	var b bytes.Buffer
	if code := reportPanic(&b, "boom"); code != exitInternal || code == exitUsage {
		t.Errorf("reportPanic = %d, want %d", code, exitInternal)
	}
	checkFailure(t, []string{"(panic)"}, b.String(), exitInternal, exitInternal, "internal error: boom")
}

// TestAuditLongErrorClipped: an error echoing a huge input is cut.
func TestAuditLongErrorClipped(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	_, errs, code := lorakit(t, "inspect", filepath.Join(t.TempDir(), long[:200]), "--json", "--"+long)
	if code != exitUsage || len(errs) > 2*maxMessage {
		t.Errorf("exit %d, %d bytes of stderr; want %d and at most %d", code, len(errs), exitUsage, 2*maxMessage)
	}
}

// TestAuditSignalsLongCommands: train, eval and demo stop on a signal
// with the same status and one line as every other command; train saves
// its checkpoint first.
func TestAuditSignalsLongCommands(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals on windows")
	}
	trainData, testData := e2eFile(t, "train", 584), e2eFile(t, "test", 200)
	for _, c := range []struct {
		name    string
		args    func(dir string) []string
		ready   string // glob under dir that appears once the command is busy ("" : wait a moment)
		sig     syscall.Signal
		mention string
	}{
		{"train", func(dir string) []string {
			return []string{"train", "--data", trainData, "-o", filepath.Join(dir, "run"), "--steps", "100000", "--batch", "2", "--seq", "64"}
		}, "run/train.jsonl", syscall.SIGTERM, "checkpoint saved"},
		{"eval", func(dir string) []string {
			return []string{"eval", "--data", testData, "--beam", "4", "-n", "64", "-o", filepath.Join(dir, "pred.txt")}
		}, "", syscall.SIGINT, "interrupted"},
		{"demo", func(dir string) []string {
			return []string{"demo", "-o", filepath.Join(dir, "demo")}
		}, "demo/base.gguf", syscall.SIGHUP, "interrupted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.args(dir)
			cmd, stderr, done := startHelper(t, args)
			if c.ready == "" {
				time.Sleep(500 * time.Millisecond)
			} else if !waitFor(filepath.Join(dir, c.ready), done) {
				t.Fatalf("lorakit %v ended before %s appeared: %s", args, c.ready, stderr.String())
			}
			cmd.Process.Signal(c.sig)
			<-done
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1] // train and demo log progress on stderr first
			checkFailure(t, args, last+"\n", cmd.ProcessState.ExitCode(), exitInterrupted, c.mention)
			if m, _ := filepath.Glob(filepath.Join(dir, "*", ".*.tmp-*")); len(m) > 0 {
				t.Errorf("temporary files left: %v", m)
			}
		})
	}
}

// waitFor polls until path exists (true) or the process ends (false).
func waitFor(path string, done chan error) bool {
	return waitUntil(done, func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}

// TestAuditConcurrentOutputs: two runs writing the same output without
// --force: one wins, the other fails (it used to replace the first
// silently), and no temporary file is left.
func TestAuditConcurrentOutputs(t *testing.T) {
	d, big, _ := bigModelDir(t)
	out := filepath.Join(d, "q.gguf")
	args := []string{"quantize", big, out, "q4_k_m"}
	cmd1, stderr1, done1 := startHelper(t, args)
	cmd2, stderr2, done2 := startHelper(t, args)
	<-done1
	<-done2
	codes := []int{cmd1.ProcessState.ExitCode(), cmd2.ProcessState.ExitCode()}
	slices.Sort(codes)
	if codes[0] != exitOK || codes[1] != exitFail {
		t.Fatalf("exit statuses %v, want one success and one failure (stderr %q, %q)", codes, stderr1, stderr2)
	}
	errs := stderr1.String() + stderr2.String()
	if !strings.Contains(errs, "q.gguf") || !strings.Contains(errs, "exists") {
		t.Errorf("the losing run says %q, want the output named as existing", errs)
	}
	if m, _ := filepath.Glob(filepath.Join(d, ".*.tmp-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestAuditNohup: a signal ignored when lorakit started (SIGHUP under
// nohup) stays ignored: the command completes.
func TestAuditNohup(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP on windows")
	}
	d, big, _ := bigModelDir(t)
	out := filepath.Join(d, "q.gguf")
	args := []string{"quantize", big, out, "q4_k_m"}
	signal.Ignore(syscall.SIGHUP) // inherited by the child, as nohup does
	cmd, stderr, done := startHelper(t, args)
	signal.Reset(syscall.SIGHUP)
	if !waitForTemp(d, done) {
		t.Fatalf("lorakit %v finished before its temporary output appeared: %s", args, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGHUP)
	<-done
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("under nohup, SIGHUP ended lorakit with exit %d (%s)", code, stderr.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("output missing: %v", err)
	}
}

// TestAuditCPULimit: LORAKIT_CPU caps the kernels (avx2, generic) and any
// other value is a usage error named in one line, before any command runs.
func TestAuditCPULimit(t *testing.T) {
	for _, c := range []struct {
		value string
		code  int
	}{{"avx2", exitOK}, {"generic", exitOK}, {"avx512", exitUsage}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAuditHelperProcess$", "--", "help")
		cmd.Env = append(os.Environ(), "LORAKIT_AUDIT_HELPER=1", "LORAKIT_CPU="+c.value)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("LORAKIT_CPU=%s: exit %d, want %d (%s)", c.value, code, c.code, stderr.String())
		}
		if c.code == exitUsage && !strings.Contains(stderr.String(), `LORAKIT_CPU="avx512"`) {
			t.Errorf("LORAKIT_CPU=%s: stderr %q does not name the value", c.value, stderr.String())
		}
	}
}
