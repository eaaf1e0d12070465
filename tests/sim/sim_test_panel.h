/* sim_test_panel.h — tiny hand-built panels for the simulator's scenario tests (no CSV involved).
 * Every stock starts listed with open = high = low = close = vwap = pre_close = 10, adj = 1,
 * limits 11 / 9, volume 1e6; tests then change single cells. */
#ifndef ZZ_SIM_TEST_PANEL_H
#define ZZ_SIM_TEST_PANEL_H

#include "data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tp_failures = 0;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
      tp_failures++;                                                                \
    }                                                                               \
  } while (0)
#define CHECK_NEAR(a, b, tol)                                                                     \
  do {                                                                                            \
    double a_ = (a), b_ = (b);                                                                    \
    if (!(fabs(a_ - b_) <= (tol))) {                                                              \
      fprintf(stderr, "%s:%d: %s = %.15g, expected %.15g (tol %g)\n", __FILE__, __LINE__, #a, a_, b_, \
              (double)(tol));                                                                     \
      tp_failures++;                                                                              \
    }                                                                                             \
  } while (0)

/* A panel over the given dates with n stocks coded 600000.SH, 600001.SH, ... (sorted). */
static inline panel *tp_create(int nd, const int32_t *dates, int n) {
  panel *p = calloc(1, sizeof *p);
  p->n_dates = nd;
  p->n_stocks = n;
  p->dates = malloc((size_t)nd * sizeof(int32_t));
  memcpy(p->dates, dates, (size_t)nd * sizeof(int32_t));
  p->stocks = calloc((size_t)n, sizeof(panel_stock));
  for (int i = 0; i < n; i++) {
    snprintf(p->stocks[i].code, ZZ_CODE_LEN, "%06d.SH", 600000 + i);
    p->stocks[i].board = BOARD_MAIN;
  }
  size_t cells = (size_t)nd * (size_t)n;
  for (int f = 0; f < PF_N_FIELDS; f++) {
    p->f[f] = malloc(cells * sizeof(double));
    for (size_t k = 0; k < cells; k++) p->f[f][k] = 10.0;
  }
  for (size_t k = 0; k < cells; k++) {
    p->f[PF_VOLUME][k] = 1e6;
    p->f[PF_AMOUNT][k] = 1e7;
    p->f[PF_ADJ][k] = 1.0;
    p->f[PF_UP_LIMIT][k] = 11.0;
    p->f[PF_DOWN_LIMIT][k] = 9.0;
  }
  p->flags = malloc(cells);
  memset(p->flags, PANEL_LISTED | PANEL_HAS_BAR, cells);
  return p;
}

/* Sets one stock-day's bar; limits follow from pre_close x (1 +- 10 %). */
static inline void tp_bar(panel *p, int t, int i, double pre, double open, double high, double low, double close, double vwap) {
  size_t k = panel_at(p, t, i);
  p->f[PF_PRE_CLOSE][k] = pre;
  p->f[PF_OPEN][k] = open;
  p->f[PF_HIGH][k] = high;
  p->f[PF_LOW][k] = low;
  p->f[PF_CLOSE][k] = close;
  p->f[PF_VWAP][k] = vwap;
  p->f[PF_UP_LIMIT][k] = round(pre * 110.0) / 100.0;
  p->f[PF_DOWN_LIMIT][k] = round(pre * 90.0) / 100.0;
}

/* Stock i from date index t on: all prices `close` (a flat bar). */
static inline void tp_flat_from(panel *p, int t, int i, double close) {
  for (int s = t; s < p->n_dates; s++) tp_bar(p, s, i, close, close, close, close, close, close);
}

/* Gives stock i another code and board (e.g. "688001.SH", BOARD_STAR); keep the codes ascending. */
static inline void tp_code(panel *p, int i, const char *code, panel_board board) {
  snprintf(p->stocks[i].code, ZZ_CODE_LEN, "%s", code);
  p->stocks[i].board = board;
}

static inline void tp_suspend(panel *p, int t, int i) {
  size_t k = panel_at(p, t, i);
  p->flags[k] = PANEL_LISTED | PANEL_SUSPENDED;
  p->f[PF_VOLUME][k] = 0;
  p->f[PF_AMOUNT][k] = 0;
}

static inline void tp_delist_from(panel *p, int t, int i) {
  for (int s = t; s < p->n_dates; s++) {
    size_t k = panel_at(p, s, i);
    p->flags[k] = 0;
    for (int f = 0; f < PF_N_FIELDS; f++) p->f[f][k] = NAN;
  }
}

/* An index with the given closes (n_dates values). */
static inline void tp_index(panel *p, int idx, const double *close) {
  p->index[idx].present = 1;
  p->index[idx].close = malloc((size_t)p->n_dates * sizeof(double));
  memcpy(p->index[idx].close, close, (size_t)p->n_dates * sizeof(double));
}

static inline void tp_free(panel *p) {
  if (!p) return;
  free(p->dates);
  free(p->stocks);
  for (int f = 0; f < PF_N_FIELDS; f++) free(p->f[f]);
  free(p->flags);
  for (int k = 0; k < PANEL_N_INDEX; k++) free(p->index[k].close);
  free(p);
}

#endif
