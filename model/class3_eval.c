/* class3_eval.c — classification statistics of the class3 head: argmax prediction, confusion matrix,
 * accuracy, per-class precision and recall (in double, over stock-days). See model.h. */
#include "model.h"

#include <math.h>

int class3_predict(const double p[NN_CLASSES]) {
  int best = 0;
  for (int c = 0; c < NN_CLASSES; c++) {
    if (!isfinite(p[c])) return -1;
    if (p[c] > p[best]) best = c;
  }
  return best;
}

int64_t class3_confusion_add(class3_confusion *cm, const double *y, const double *const prob[NN_CLASSES], size_t k0,
                             size_t k1) {
  int64_t added = 0;
  for (size_t k = k0; k < k1; k++) {
    const double yk = y[k];
    if (!(yk == NN_CLASS_DOWN || yk == NN_CLASS_NEUTRAL || yk == NN_CLASS_UP)) continue;
    const double p[NN_CLASSES] = {prob[0][k], prob[1][k], prob[2][k]};
    const int c = class3_predict(p);
    if (c < 0) continue;
    cm->n[(int)yk][c]++;
    added++;
  }
  return added;
}

int64_t class3_confusion_total(const class3_confusion *cm) {
  int64_t s = 0;
  for (int a = 0; a < NN_CLASSES; a++)
    for (int b = 0; b < NN_CLASSES; b++) s += cm->n[a][b];
  return s;
}

double class3_accuracy(const class3_confusion *cm) {
  const int64_t t = class3_confusion_total(cm);
  int64_t d = 0;
  for (int c = 0; c < NN_CLASSES; c++) d += cm->n[c][c];
  return t ? (double)d / (double)t : NAN;
}

double class3_precision(const class3_confusion *cm, int c) {
  int64_t s = 0;
  for (int a = 0; a < NN_CLASSES; a++) s += cm->n[a][c];
  return s ? (double)cm->n[c][c] / (double)s : NAN;
}

double class3_recall(const class3_confusion *cm, int c) {
  int64_t s = 0;
  for (int b = 0; b < NN_CLASSES; b++) s += cm->n[c][b];
  return s ? (double)cm->n[c][c] / (double)s : NAN;
}
