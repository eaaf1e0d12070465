/* synth_rng.c — the synthetic market's only source of randomness: xoshiro256** seeded by
 * splitmix64, with uniform, normal and Student-t draws. No global state: every draw takes the
 * generator, so the same seed gives the same market on every platform. */
#include "synth_private.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void synth_rng_seed(synth_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int k = 0; k < 4; k++) r->s[k] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t synth_rng_next(synth_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double synth_rng_uniform(synth_rng *r) {
  /* 53 random bits, shifted by half a step so 0 and 1 never occur */
  return ((double)(synth_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double synth_rng_normal(synth_rng *r) {
  const double u = synth_rng_uniform(r), v = synth_rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double synth_rng_student(synth_rng *r, int nu) {
  double chi = 0;
  for (int k = 0; k < nu; k++) {
    const double z = synth_rng_normal(r);
    chi += z * z;
  }
  /* t = z / sqrt(chi/nu) has variance nu/(nu-2) */
  return synth_rng_normal(r) / sqrt(chi / nu) * sqrt((nu - 2.0) / nu);
}

int synth_rng_below(synth_rng *r, int n) { return (int)(synth_rng_uniform(r) * n); }
