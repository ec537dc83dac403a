// Package glue reads GLUE benchmark tasks (SST-2, MRPC, RTE, CoLA, STS-B,
// QNLI, QQP, MNLI), scores predictions with GLUE's metrics (accuracy, F1,
// Matthews correlation, Pearson and Spearman correlation), and fine-tunes a
// BERT/RoBERTa encoder on them with the LoRA paper's recipe: LoRA on the
// query and value projections, the classification head trained in full,
// AdamW with linear warmup and decay.
package glue
