/* The trainer's elementwise passes, each fused into one loop over its buffer (see model/fast/native.py).
 *
 * Plain C with no headers beyond the standard ones, so it builds in well under a second. Written for the
 * vectoriser: inner loops run over the 784 pixels of a row, with no branches and no reductions across
 * iterations (sums are kept per column), so -O3 turns them into SIMD code without -ffast-math. NaN and
 * infinity propagate as in PyTorch's kernels: the divergence check depends on a NaN loss staying NaN.
 */

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_COLS 1024 /* per-column accumulators on the stack; the model's rows are 784 pixels */
#define FLUSH_ROWS 64 /* float column sums go into double every this many rows */

/* The float's bits as an integer and back, which the vectoriser turns into plain register moves. */
static inline uint32_t bits_of(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float float_of(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* sigmoid(s) = 1 / (1 + exp(-s)), to about 2 ulp, in as few vector operations as possible: each one costs
 * ~0.03 ns an element at this size, and the sigmoid runs on every output pixel of every step.
 * exp(x), x = -s, is 2^n exp(r) with n = round(x / ln2) and r = x - n ln2 (one fused multiply-add with ln2 as a
 * float: its representation error, 2e-9 n, stays under 3e-7 of r's scale), and exp(r) on |r| <= ln2 / 2 by a
 * degree-5 polynomial fitted for relative error (Lawson-weighted least squares; 1.1e-7 at most).
 * s is clamped to [-88, 87] first (NaN passes both comparisons and stays NaN), which keeps 2^n a normal float:
 * beyond that range the sigmoid is 0 or 1 to float precision anyway. */
static inline float sigmoid(float s) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer held in the low bits */
    s = s < -88.0f ? -88.0f : s;
    s = s > 87.0f ? 87.0f : s;
    float shifted = s * -1.44269504088896341f + magic;
    int32_t n = (int32_t)(bits_of(shifted) - bits_of(magic)); /* round(-s / ln2), without a float->int cast */
    float nf = shifted - magic;
    float r = -s - nf * 0.693147180559945309f;
    float p = 0.008312860164906101f;
    p = p * r + 0.04188902009789637f;
    p = p * r + 0.1666711063154933f;
    p = p * r + 0.4999924323469454f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return 1.0f / (1.0f + p * float_of((uint32_t)(n + 127) << 23));
}

/* A reconstruction loss's decoder pass over a (rows, cols) batch, in place.
 * On entry `buf` holds the decoder's product (bias not yet added); on exit it holds d loss / d logits
 * without the loss's scale: (y - t) * y * (1 - y) for a sigmoid output, y - t for a linear one, where
 * y = sigmoid(buf + bias) or buf + bias. Also writes scale * the column sums of that into bias_grad
 * (the decoder bias's gradient) and the mean squared error sum((y - t)^2) / (rows * cols) into *loss. */
void decoder_pass(float *restrict buf, const float *restrict bias, const float *restrict target, int64_t rows,
                  int64_t cols, int use_sigmoid, float scale, float *restrict bias_grad, float *restrict loss) {
    float col_grad[MAX_COLS];
    float col_sq[MAX_COLS];
    double total = 0.0;
    if (cols > MAX_COLS) { /* the scratch would overflow: the caller never asks, but say so if it does */
        *loss = NAN;
        return;
    }
    for (int64_t j = 0; j < cols; j++) {
        col_grad[j] = 0.0f;
        col_sq[j] = 0.0f;
    }
    for (int64_t i = 0; i < rows; i++) {
        float *restrict row = buf + i * cols;
        const float *restrict want = target + i * cols;
        if (use_sigmoid) {
            for (int64_t j = 0; j < cols; j++) {
                float y = sigmoid(row[j] + bias[j]);
                float d = y - want[j];
                float g = d * (y - y * y); /* d * y (1 - y), one fused operation fewer */
                col_sq[j] += d * d;
                col_grad[j] += g;
                row[j] = g;
            }
        } else {
            for (int64_t j = 0; j < cols; j++) {
                float d = row[j] + bias[j] - want[j];
                col_sq[j] += d * d;
                col_grad[j] += d;
                row[j] = d;
            }
        }
        if ((i + 1) % FLUSH_ROWS == 0 || i + 1 == rows) {
            for (int64_t j = 0; j < cols; j++) {
                total += col_sq[j];
                col_sq[j] = 0.0f;
            }
        }
    }
    for (int64_t j = 0; j < cols; j++)
        bias_grad[j] = scale * col_grad[j];
    *loss = (float)(total / (double)(rows * cols));
}

/* sum((y - t)^2) over a (rows, cols) chunk, y = sigmoid(logits + bias) or logits + bias, without writing y:
 * the test score's forward pass after its products. */
double squared_error(const float *restrict logits, const float *restrict bias, const float *restrict target,
                     int64_t rows, int64_t cols, int use_sigmoid) {
    float col_sq[MAX_COLS];
    double total = 0.0;
    if (cols > MAX_COLS)
        return NAN;
    for (int64_t j = 0; j < cols; j++)
        col_sq[j] = 0.0f;
    for (int64_t i = 0; i < rows; i++) {
        const float *restrict row = logits + i * cols;
        const float *restrict want = target + i * cols;
        if (use_sigmoid) {
            for (int64_t j = 0; j < cols; j++) {
                float d = sigmoid(row[j] + bias[j]) - want[j];
                col_sq[j] += d * d;
            }
        } else {
            for (int64_t j = 0; j < cols; j++) {
                float d = row[j] + bias[j] - want[j];
                col_sq[j] += d * d;
            }
        }
        if ((i + 1) % FLUSH_ROWS == 0 || i + 1 == rows) {
            for (int64_t j = 0; j < cols; j++) {
                total += col_sq[j];
                col_sq[j] = 0.0f;
            }
        }
    }
    return total;
}

/* The encoder's gradient finish over a (rows, cols) code gradient, in place: zeroed where a ReLU code was
 * not positive (when relu is set), and scale * its column sums into bias_grad (the encoder bias's gradient). */
void code_pass(float *restrict grad_code, const float *restrict code, int64_t rows, int64_t cols, int relu,
               float scale, float *restrict bias_grad) {
    float col_grad[MAX_COLS];
    if (cols > MAX_COLS)
        return;
    for (int64_t j = 0; j < cols; j++)
        col_grad[j] = 0.0f;
    for (int64_t i = 0; i < rows; i++) {
        float *restrict row = grad_code + i * cols;
        const float *restrict z = code + i * cols;
        if (relu) {
            for (int64_t j = 0; j < cols; j++) {
                float g = z[j] > 0.0f ? row[j] : 0.0f;
                row[j] = g;
                col_grad[j] += g;
            }
        } else {
            for (int64_t j = 0; j < cols; j++)
                col_grad[j] += row[j];
        }
    }
    for (int64_t j = 0; j < cols; j++)
        bias_grad[j] = scale * col_grad[j];
}

/* One Adam step over n parameters (Kingma & Ba, as torch.optim.Adam computes it):
 * m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2; p -= step_size m / (sqrt(v) / sqrt(bias2) + eps),
 * with step_size = lr / bias1 and inv_sqrt_bias2 = 1 / sqrt(bias2) worked out by the caller. */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
/* Square roots and divisions in 256-bit vectors: on this project's AMD EPYC (Zen 4) their 512-bit forms take twice
 * as long for twice the lanes, and the update ran at 21 µs instead of 16 for this model's 51k parameters. */
__attribute__((target("prefer-vector-width=256")))
#endif
void adam(float *restrict param, const float *restrict grad, float *restrict exp_avg, float *restrict exp_avg_sq,
          int64_t n, float beta1, float beta2, float step_size, float inv_sqrt_bias2, float eps) {
    const float keep1 = 1.0f - beta1, keep2 = 1.0f - beta2;
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        float m = exp_avg[i] + keep1 * (g - exp_avg[i]);
        float v = beta2 * exp_avg_sq[i] + keep2 * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        param[i] -= step_size * m / (sqrtf(v) * inv_sqrt_bias2 + eps);
    }
}

/* uint8 pixels -> float32 in [0, 1], p / 255 correctly rounded: a product by the rounded reciprocal and
 * one fused correction step (checked bitwise against PyTorch's division for all 256 values on loading). */
void unit_float(const uint8_t *restrict pixels, float *restrict out, int64_t n) {
    const float inverse = 1.0f / 255.0f;
    for (int64_t i = 0; i < n; i++) {
        float p = (float)pixels[i];
        float q = p * inverse;
        out[i] = fmaf(fmaf(-q, 255.0f, p), inverse, q);
    }
}
