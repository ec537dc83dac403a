// Package lora holds a LoRA adapter in memory and reads and writes it in
// the layouts people exchange adapters in.
//
// An Adapter is a set of Modules, each the low-rank pair A (Rank x In) and
// B (Out x Rank) of one layer, whose update is dW = Scale()*B*A in
// nn.Linear orientation (Out x In). Scale is alpha/r, or alpha/sqrt(r) for
// rsLoRA, with PEFT's rank_pattern and alpha_pattern resolved per module at
// load (Config.ModuleRank, Config.ModuleAlpha match keys exactly as PEFT's
// get_pattern_key: the first key, in file order, that matches the whole
// name or a dot-separated suffix of it, as a regular expression).
//
// Layouts:
//
//   - PEFT directories (ReadPEFT, WritePEFT): adapter_config.json and
//     adapter_model.safetensors with keys base_model.model.<module>.lora_A.weight
//     (r, in), .lora_B.weight (out, r), lora_embedding_A/B, .lora_B.bias and
//     .lora_magnitude_vector (DoRA). Unknown config keys survive a rewrite.
//   - llama.cpp LoRA GGUF (ReadGGUF, WriteGGUF): general.type=adapter,
//     adapter.type=lora, adapter.lora.alpha (float32), tensors
//     <name>.weight.lora_a (ne [in, r]) and .lora_b (ne [r, out]).
//   - mlx-lm adapter directories (ReadMLX): adapters.safetensors with
//     <module>.lora_a (in, r) and .lora_b (r, out), transposed relative to
//     PEFT, and lora_parameters in adapter_config.json.
//
// Mixtures of experts: a Module with Experts > 0 holds one independent pair
// per expert of a stacked expert tensor (A (Experts, Rank, In), B
// (Experts, Out, Rank)), as llama.cpp's 3-D lora_a (ne [in, r, E]) and
// lora_b (ne [r, out, E]) on *_exps tensors hold them; Expert views one
// pair, StackExperts builds a stack from per-expert modules. PEFT's
// target_parameters adapters on fused 3-D expert parameters (ParamWrapper:
// lora_A (r·E, in), lora_B (out, r·E) with expert e's column k at k·E+e)
// read and write as such modules with Param set.
//
// Open detects the layout from content. Names stay as the file has them;
// mapping PEFT names to GGUF names is package convert's job. Adapter.Family
// names the base model's family (package arch) from the file, or from the
// module names and base model name, refusing to guess.
package lora
