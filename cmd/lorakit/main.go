// Command lorakit converts, quantizes, merges, trains and analyses LoRA
// adapters and the checkpoints they belong to. Run `lorakit help` for the
// subcommands.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
