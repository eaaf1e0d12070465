/* sim_private.h — types shared by the simulator's own files (not part of the public API). */
#ifndef ZZ_SIM_PRIVATE_H
#define ZZ_SIM_PRIVATE_H

#include "sim.h"

typedef struct sim_entry {
  int32_t date;
  int stock;
  double weight;
  size_t line; /* line in the targets file, 0 when built in memory */
} sim_entry;

typedef struct sim_batch {
  int32_t date, trade_date; /* trade_date 0: the exec_lag-th next trading day */
  size_t line;
  size_t first, end;        /* entries [first, end) after validation */
} sim_batch;

struct sim_targets {
  size_t n, cap;
  sim_entry *e;
  int nb, capb;
  sim_batch *b;
  int sorted;
  char path[512];
  int col_date, col_code, col_weight; /* 1-based columns of the file, 0 when built in memory */
};

int sim_find_date(const panel *p, int32_t ymd);
int sim_find_stock(const panel *p, const char *code);

#endif
