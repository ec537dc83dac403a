package cpu

import (
	"fmt"
	"os"
)

// LimitEnv names the environment variable that caps the extensions lorakit
// uses below what the CPU has, to run (and time) the kernels another CPU
// would get: "avx2" drops AVX-512 (as on AMD Zen 2), "generic" drops every
// extension (the pure-Go code). Unset or empty, everything detected is used.
const LimitEnv = "LORAKIT_CPU"

// LimitErr is the error of an unknown LimitEnv value, nil otherwise; X86
// then holds every detected feature. Commands report it before running.
var LimitErr error

func init() {
	X86, LimitErr = limit(X86, os.Getenv(LimitEnv))
}

// limit returns f capped as the LimitEnv value v says.
func limit(f Features, v string) (Features, error) {
	switch v {
	case "":
		return f, nil
	case "avx2":
		f.HasAVX512F, f.HasAVX512VL, f.HasBF16 = false, false, false
		return f, nil
	case "generic":
		return Features{}, nil
	}
	return f, fmt.Errorf("%s=%q: want avx2 or generic (or unset)", LimitEnv, v)
}
