package main

import "github.com/lorakit/lorakit/merge"

// parseAdapters parses repeated --adapter PATH[:SCALE] flags (merge,
// combine, check, release, verify).
func parseAdapters(specs []string) ([]merge.Input, error) {
	var inputs []merge.Input
	for _, spec := range specs {
		in, err := merge.ParseInput(spec)
		if err != nil {
			return nil, usageError{err}
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}
