package cpu

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestAgreesWithProcCPUInfo checks the flags against Linux's own reading
// of CPUID, when /proc/cpuinfo is there (the OS state checks make ours a
// subset of the CPU's flags).
func TestAgreesWithProcCPUInfo(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86-64 only")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	var flags map[string]bool
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	for _, c := range []struct {
		name string
		got  bool
	}{
		{"avx2", X86.HasAVX2}, {"fma", X86.HasFMA}, {"f16c", X86.HasF16C},
		{"avx512f", X86.HasAVX512F}, {"avx512vl", X86.HasAVX512VL},
	} {
		if c.got && !flags[c.name] {
			t.Errorf("X86 has %s, /proc/cpuinfo does not", c.name)
		}
		if !c.got && flags[c.name] && !strings.Contains(os.Getenv("GOFLAGS"), "purego") {
			t.Logf("X86 lacks %s that /proc/cpuinfo lists (OS state or purego)", c.name)
		}
	}
}

// TestLimit checks each LimitEnv value's cap and the error of an unknown one.
func TestLimit(t *testing.T) {
	all := Features{HasAVX2: true, HasFMA: true, HasF16C: true, HasAVX512F: true, HasAVX512VL: true, HasBF16: true}
	for _, c := range []struct {
		v    string
		want Features
	}{
		{"", all},
		{"avx2", Features{HasAVX2: true, HasFMA: true, HasF16C: true}},
		{"generic", Features{}},
	} {
		got, err := limit(all, c.v)
		if err != nil || got != c.want {
			t.Errorf("limit(%q) = %+v, %v; want %+v", c.v, got, err, c.want)
		}
	}
	if got, err := limit(all, "avx512"); err == nil || got != all {
		t.Errorf("limit(avx512) = %+v, %v; want every feature and an error", got, err)
	}
}
