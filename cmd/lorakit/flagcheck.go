package main

// Checks on flag values that the commands share: what a hostile or hurried
// command line can give, refused as usage errors before any file is read.

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// checkNonNegative refuses a negative or NaN value of a float flag.
func checkNonNegative(flag string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return usageError{fmt.Errorf("%s %v: want a finite number >= 0", flag, v)}
	}
	return nil
}

// checkShare refuses a float flag outside (0, 1] (NaN included).
func checkShare(flag string, v float64) error {
	if !(v > 0 && v <= 1) {
		return usageError{fmt.Errorf("%s %v: want a share in (0, 1]", flag, v)}
	}
	return nil
}

// checkPositive refuses an integer flag below 1.
func checkPositive(flag string, v int) error {
	if v < 1 {
		return usageError{fmt.Errorf("%s %d: want >= 1", flag, v)}
	}
	return nil
}

// oneOf refuses a string flag that is none of the allowed values.
func oneOf(flag, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usageError{fmt.Errorf("%s %q: want one of %v", flag, v, allowed)}
}

// interrupted names what an interrupted (Ctrl-C) command was writing, so
// that the one error line says which output was abandoned; other errors
// pass through.
func interrupted(output string, err error) error {
	if !errors.Is(err, context.Canceled) {
		return err
	}
	if output == "" {
		return err
	}
	return fmt.Errorf("%s: interrupted, nothing written: %w", output, err)
}
