#pragma once
#include "ggml.h"
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <math.h>
#include <immintrin.h>
static inline float stub_fp16_to_fp32(ggml_fp16_t h) { return _cvtsh_ss(h); }
static inline ggml_fp16_t stub_fp32_to_fp16(float f) { return _cvtss_sh(f, 0); }
#define GGML_FP16_TO_FP32(x) stub_fp16_to_fp32(x)
#define GGML_FP32_TO_FP16(x) stub_fp32_to_fp16(x)
#define GGML_CPU_FP16_TO_FP32(x) stub_fp16_to_fp32(x)
#define GGML_CPU_FP32_TO_FP16(x) stub_fp32_to_fp16(x)
#define GGML_E8M0_TO_FP32_HALF(x) 0.0f
#define GGML_E8M0_TO_FP32(x) 0.0f
#define GGML_UE4M3_TO_FP32(x) 0.0f
#define GGML_FP32_TO_UE4M3(x) 0
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
static inline uint8_t ggml_fp32_to_ue4m3(float f) { (void)f; return 0; }
static inline float ggml_ue4m3_to_fp32(uint8_t u) { (void)u; return 0; }
