/* rep_html.c — one self-contained HTML page (inline CSS, no scripts, fonts or network) with tables and
 * inline SVG charts, readable on screen and on paper: a contents list of the page's sections at the top,
 * two chart primitives with axis labels, units and legends — lines over calendar time (NAV, drawdown,
 * hedged NAV of several backtests) and grouped bars, optionally with a cumulative line on a second axis
 * (RankIC and its cumulative sum, group returns, yearly excess returns) — and print CSS that keeps a chart
 * on one page. The series the charts draw (drawdown of a NAV, cumulative sum, long-short NAV) are computed
 * by the rep_chart_* functions, tested against an independent Python computation. */
#include "reports.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SECTIONS 256

struct rep_html {
  FILE *out;  /* the page, written to path.tmp and renamed at the end (zz_out_open) */
  char tmp[4200];
  FILE *f;    /* the body, held until rep_html_close writes the contents list above it */
  char path[4096];
  char title[256];
  int n_sec;
  char sec[MAX_SECTIONS][128];
};

static const char *const k_colors[] = {"#c0392b", "#2471a3", "#27ae60", "#8e44ad", "#d35400", "#2c3e50", "#7f8c8d"};
#define N_COLORS 7
/* dash patterns so that series stay apart on a black-and-white print */
static const char *const k_dash[] = {"", "6,3", "2,2", "8,3,2,3", "", "6,3", "2,2"};

static void esc(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

int rep_html_open(rep_html **out, const char *path, const char *title, zz_err *err) {
  *out = NULL;
  rep_html *h = calloc(1, sizeof *h);
  if (!h) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  snprintf(h->path, sizeof h->path, "%s", path);
  snprintf(h->title, sizeof h->title, "%s", title);
  h->out = zz_out_open(path, h->tmp, sizeof h->tmp, err);
  if (!h->out) {
    free(h);
    return ZZ_EIO;
  }
  h->f = tmpfile();
  if (!h->f) {
    int e = errno;
    fclose(h->out);
    remove(h->tmp);
    free(h);
    return zz_fail(err, ZZ_EIO, "cannot write %s: temporary file: %s", path, strerror(e));
  }
  *out = h;
  return ZZ_OK;
}

/* Section headings get the anchors s1, s2, ... that the contents list links to. */
void rep_html_heading(rep_html *h, const char *text) {
  if (h->n_sec < MAX_SECTIONS) {
    snprintf(h->sec[h->n_sec], sizeof h->sec[0], "%s", text);
    fprintf(h->f, "<h2 id=\"s%d\">", ++h->n_sec);
  } else {
    fputs("<h2>", h->f);
  }
  esc(h->f, text);
  fputs("</h2>\n", h->f);
}

void rep_html_para(rep_html *h, const char *text) {
  fputs("<p>", h->f);
  esc(h->f, text);
  fputs("</p>\n", h->f);
}

void rep_html_table(rep_html *h, const char *caption, int n_rows, int n_cols, const char *const *header,
                    const char *const *cells) {
  fputs("<table>\n", h->f);
  if (caption) fputs("<caption>", h->f), esc(h->f, caption), fputs("</caption>\n", h->f);
  fputs("<tr>", h->f);
  for (int c = 0; c < n_cols; c++) fputs("<th>", h->f), esc(h->f, header[c]), fputs("</th>", h->f);
  fputs("</tr>\n", h->f);
  for (int r = 0; r < n_rows; r++) {
    fputs("<tr>", h->f);
    for (int c = 0; c < n_cols; c++) fputs("<td>", h->f), esc(h->f, cells[(size_t)r * n_cols + c]), fputs("</td>", h->f);
    fputs("</tr>\n", h->f);
  }
  fputs("</table>\n", h->f);
}

/* ------------------------------------------------------------------ series the charts draw */

void rep_chart_drawdown(const double *nav, int n, double *dd) {
  double peak = -INFINITY;
  for (int k = 0; k < n; k++) {
    if (isfinite(nav[k]) && nav[k] > peak) peak = nav[k];
    dd[k] = isfinite(nav[k]) && peak > 0 ? nav[k] / peak - 1 : NAN;
  }
}

void rep_chart_cumsum(const double *v, int n, double *out) {
  double c = 0;
  for (int k = 0; k < n; k++) {
    if (isfinite(v[k])) c += v[k];
    out[k] = c;
  }
}

void rep_chart_long_short(const double *group_ret, int n_days, int n_groups, double *nav) {
  double v = 1;
  for (int k = 0; k < n_days; k++) {
    const double d = group_ret[(size_t)k * n_groups + n_groups - 1] - group_ret[(size_t)k * n_groups];
    if (isfinite(d)) v *= 1 + d;
    nav[k] = v;
  }
}

/* ------------------------------------------------------------------ SVG geometry */

#define W 960
#define ML 78
#define MR 78
#define PLOT_H 250
#define MB 46

typedef struct { double lo, hi, st; } range; /* [lo, hi] in ticks of st, lo and hi multiples of st */
typedef struct {
  int mt;          /* top of the plot: below the title and the legend rows */
  int h;           /* height of the picture */
} geom;

/* A "nice" step giving about 5 ticks over span. */
static double nice_step(double span) {
  if (!(span > 0)) return 1;
  double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static range pad_range(double lo, double hi) {
  if (!isfinite(lo) || !isfinite(hi)) return (range){0, 1, 0.2};
  if (hi - lo < 1e-12) lo -= 0.5 * (fabs(lo) > 0 ? fabs(lo) * 0.1 : 1), hi = lo + (fabs(lo) > 0 ? fabs(lo) * 0.2 : 2);
  double st = nice_step(hi - lo);
  return (range){floor(lo / st) * st, ceil(hi / st) * st, st};
}

static double ymap(const geom *g, range r, double v) { return g->mt + PLOT_H * (1 - (v - r.lo) / (r.hi - r.lo)); }

static void tick_label(char *buf, size_t n, double v, double step, int pct) {
  if (fabs(v) < step * 1e-6) v = 0;
  const double s = pct ? step * 100 : step;
  int dec = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
  if (dec > 6) dec = 6;
  if (pct) snprintf(buf, n, "%.*f%%", dec, v * 100);
  else snprintf(buf, n, "%.*f", dec, v);
}

/* Ticks, grid lines and the rotated axis label of the left (right = 0) or right axis. */
static void y_axis(FILE *f, const geom *g, range r, int pct, int right, const char *label) {
  const double st = r.st;
  const int n_ticks = (int)floor((r.hi - r.lo) / st + 1e-6) + 1;
  char b[64];
  for (int k = 0; k < n_ticks; k++) {
    const double v = r.lo + k * st, y = ymap(g, r, v);
    if (!right) fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", ML, y, W - MR, y);
    tick_label(b, sizeof b, v, st, pct);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", right ? W - MR + 6 : ML - 6, y + 4,
            right ? "start" : "end", b);
  }
  if (label && *label) {
    const int x = right ? W - 14 : 16;
    const double y = g->mt + PLOT_H / 2.0;
    fprintf(f, "<text class=\"axis-label\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(%d %d %.1f)\">",
            x, y, right ? 90 : -90, x, y);
    esc(f, label);
    fputs("</text>\n", f);
  }
}

/* Approximate width in pixels of a label in the 11px sans-serif the page uses. */
static int text_w(const char *s) { return (int)(6.2 * (double)strlen(s)) + 2; }

/* Legend rows under the title: swatch + name, wrapping at the plot width. Returns the rows used. */
static int legend_rows(int n, const char *const *names) {
  int rows = n > 0 ? 1 : 0, x = ML;
  for (int s = 0; s < n; s++) {
    const int w = 24 + text_w(names[s]) + 18;
    if (x + w > W - MR && x > ML) rows++, x = ML;
    x += w;
  }
  return rows;
}

/* Entries s < n_bars are bar swatches in the bars' colours; the rest are line samples (in line_color when given,
 * else the lines' colours and dashes). */
static void legend(FILE *f, int n, const char *const *names, int n_bars, const char *line_color) {
  int x = ML, y = 42;
  for (int s = 0; s < n; s++) {
    const int w = 24 + text_w(names[s]) + 18;
    if (x + w > W - MR && x > ML) y += 16, x = ML;
    if (s < n_bars) {
      fprintf(f, "<rect class=\"legend\" x=\"%d\" y=\"%d\" width=\"16\" height=\"10\" fill=\"%s\"/>", x, y - 9,
              k_colors[s % N_COLORS]);
    } else {
      const int q = (s - n_bars) % N_COLORS;
      const char *dash = line_color ? "" : k_dash[q];
      fprintf(f, "<line class=\"legend\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"", x,
              y - 4, x + 20, y - 4, line_color ? line_color : k_colors[q]);
      if (*dash) fprintf(f, " stroke-dasharray=\"%s\"", dash);
      fputs("/>", f);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\">", x + 24, y);
    esc(f, names[s]);
    fputs("</text>\n", f);
    x += w;
  }
}

static geom svg_open(FILE *f, const char *id, const char *title, int n_legend, const char *const *names, int n_bars,
                     const char *line_color) {
  const int rows = legend_rows(n_legend, names);
  geom g = {36 + 16 * rows + 8, 0};
  g.h = g.mt + PLOT_H + MB;
  fputs("<figure class=\"chart\"><svg id=\"", f);
  esc(f, id);
  fprintf(f, "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
             "role=\"img\"><title>", W, g.h, W, g.h);
  esc(f, title);
  fprintf(f, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
             "<text class=\"chart-title\" x=\"%d\" y=\"22\">", W, g.h, ML);
  esc(f, title);
  fputs("</text>\n", f);
  legend(f, n_legend, names, n_bars, line_color);
  return g;
}

static void svg_close(FILE *f) { fputs("</svg></figure>\n", f); }

static void frame(FILE *f, const geom *g) {
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", ML, g->mt,
          W - ML - MR, PLOT_H);
}

/* A grey line at 0 when the range spans it. */
static void zero_line(FILE *f, const geom *g, range r) {
  if (r.lo < 0 && r.hi > 0)
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#888\"/>\n", ML, ymap(g, r, 0), W - MR,
            ymap(g, r, 0));
}

/* ------------------------------------------------------------------ lines over calendar time */

static double xday(int32_t d0, int32_t d1, int32_t d) {
  const double span = d1 > d0 ? d1 - d0 : 1;
  return ML + (W - ML - MR) * (d1 > d0 ? (d - d0) / span : 0.5);
}

/* Ticks at month starts every 1, 3, 6 or 12 months (at most ~10 labels): "2022" at January, else "2022-04". */
static void x_dates(FILE *f, const geom *g, int32_t d0, int32_t d1) {
  const int32_t a = zz_days_to_date(d0), b = zz_days_to_date(d1);
  const int months = (b / 10000 - a / 10000) * 12 + (b / 100 % 100 - a / 100 % 100) + 1;
  static const int steps[] = {1, 3, 6, 12, 24, 60};
  int step = 60;
  for (int k = 0; k < 6; k++)
    if (months / steps[k] <= 10) {
      step = steps[k];
      break;
    }
  int y = a / 10000, m = a / 100 % 100;
  /* first month start after d0 that is a multiple of the step (counted from January) */
  for (;;) {
    if (++m > 12) m = 1, y++;
    if ((m - 1) % (step < 12 ? step : 12) == 0 && (step <= 12 || y % (step / 12) == 0)) break;
  }
  const int bottom = g->mt + PLOT_H;
  for (;;) {
    const int32_t d = zz_date_to_days(y * 10000 + m * 100 + 1);
    if (d > d1) break;
    const double px = xday(d0, d1, d);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>", px, bottom, px, bottom + 4);
    if (m == 1) fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", px, bottom + 16, y);
    else fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d-%02d</text>\n", px, bottom + 16, y, m);
    m += step;
    while (m > 12) m -= 12, y++;
  }
}

void rep_html_lines(rep_html *h, const char *id, const char *title, const char *y_label, int n_series,
                    const int32_t *const *x, const int *n, const double *const *y, const char *const *names,
                    int pct_axis) {
  FILE *f = h->f;
  double lo = INFINITY, hi = -INFINITY;
  int32_t d0 = INT32_MAX, d1 = INT32_MIN;
  for (int s = 0; s < n_series; s++)
    for (int k = 0; k < n[s]; k++) {
      if (isfinite(y[s][k])) lo = fmin(lo, y[s][k]), hi = fmax(hi, y[s][k]);
      const int32_t d = zz_date_to_days(x[s][k]);
      d0 = d < d0 ? d : d0, d1 = d > d1 ? d : d1;
    }
  if (d0 > d1) d0 = d1 = 0;
  range r = pad_range(lo, hi);
  geom g = svg_open(f, id, title, n_series, names, 0, NULL);
  y_axis(f, &g, r, pct_axis, 0, y_label);
  zero_line(f, &g, r);
  frame(f, &g);
  x_dates(f, &g, d0, d1);
  for (int s = 0; s < n_series; s++) {
    const int step = n[s] > 2000 ? (n[s] + 1999) / 2000 : 1; /* at most ~2000 points per series */
    fprintf(f, "<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"%s\"", k_colors[s % N_COLORS]);
    if (*k_dash[s % N_COLORS]) fprintf(f, " stroke-dasharray=\"%s\"", k_dash[s % N_COLORS]);
    fputs(" points=\"", f);
    int pen = 0;
    for (int k = 0; k < n[s]; k++) {
      if (k % step && k != n[s] - 1) continue;
      if (isfinite(y[s][k]))
        fprintf(f, "%s%.1f,%.1f", pen++ ? " " : "", xday(d0, d1, zz_date_to_days(x[s][k])), ymap(&g, r, y[s][k]));
    }
    fputs("\"/>\n", f);
  }
  svg_close(f);
}

void rep_html_line_chart(rep_html *h, const char *id, const char *title, const int32_t *x, int n, int n_series,
                         const double *const *ys, const char *const *names, int pct_axis) {
  enum { MAXS = 16 };
  const int32_t *xs[MAXS];
  int ns[MAXS];
  if (n_series > MAXS) n_series = MAXS;
  for (int s = 0; s < n_series; s++) xs[s] = x, ns[s] = n;
  rep_html_lines(h, id, title, pct_axis ? "%" : NULL, n_series, xs, ns, ys, names, pct_axis);
}

/* ------------------------------------------------------------------ lines over epochs */

void rep_html_epochs(rep_html *h, const char *id, const char *title, const char *y_label, int n_series, const int *n,
                     const double *const *y, const char *const *names, int pct_axis) {
  FILE *f = h->f;
  double lo = INFINITY, hi = -INFINITY;
  int e1 = 1;
  for (int s = 0; s < n_series; s++) {
    if (n[s] > e1) e1 = n[s];
    for (int k = 0; k < n[s]; k++)
      if (isfinite(y[s][k])) lo = fmin(lo, y[s][k]), hi = fmax(hi, y[s][k]);
  }
  range r = pad_range(lo, hi);
  geom g = svg_open(f, id, title, n_series, names, 0, NULL);
  y_axis(f, &g, r, pct_axis, 0, y_label);
  zero_line(f, &g, r);
  frame(f, &g);
  /* x: epoch 1 .. e1, integer ticks in steps of 1, 2, 5, 10, ... (at most ~12 labels) */
  const double span = e1 > 1 ? e1 - 1 : 1;
#define XEP(e) (ML + (W - ML - MR) * (e1 > 1 ? ((e) - 1) / span : 0.5))
  int step = 1, mag = 1;
  while ((e1 - 1) / step > 12) {
    if (step == mag) step = 2 * mag;
    else if (step == 2 * mag) step = 5 * mag;
    else mag *= 10, step = mag;
  }
  const int bottom = g.mt + PLOT_H;
  for (int e = 1; e <= e1; e = e == 1 && step > 1 ? step : e + step) { /* 1, then the multiples of step */
    const double px = XEP((double)e);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>", px, bottom, px, bottom + 4);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", px, bottom + 16, e);
  }
  fprintf(f, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n", (W + ML - MR) / 2,
          bottom + 36);
  for (int s = 0; s < n_series; s++) {
    fprintf(f, "<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"%s\"", k_colors[s % N_COLORS]);
    if (*k_dash[s % N_COLORS]) fprintf(f, " stroke-dasharray=\"%s\"", k_dash[s % N_COLORS]);
    fputs(" points=\"", f);
    int pen = 0;
    for (int k = 0; k < n[s]; k++)
      if (isfinite(y[s][k])) fprintf(f, "%s%.1f,%.1f", pen++ ? " " : "", XEP((double)(k + 1)), ymap(&g, r, y[s][k]));
    fputs("\"/>\n", f);
    for (int k = 0; k < n[s] && n[s] == 1; k++) /* a single point: a dot */
      if (isfinite(y[s][k]))
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", XEP(1.0), ymap(&g, r, y[s][k]),
                k_colors[s % N_COLORS]);
  }
#undef XEP
  svg_close(f);
}

/* ------------------------------------------------------------------ grouped bars */

void rep_html_bars(rep_html *h, const char *id, const char *title, const char *y_label, const char *x_label,
                   int n_cat, const char *const *cat, int n_series, const double *const *v, const char *const *names,
                   const char *cum_label, int pct_axis) {
  FILE *f = h->f;
  const int cum = cum_label && n_series == 1;
  double lo = 0, hi = 0, c = 0, clo = 0, chi = 0;
  for (int s = 0; s < n_series; s++)
    for (int k = 0; k < n_cat; k++)
      if (isfinite(v[s][k])) lo = fmin(lo, v[s][k]), hi = fmax(hi, v[s][k]);
  for (int k = 0; cum && k < n_cat; k++) {
    if (isfinite(v[0][k])) c += v[0][k];
    clo = fmin(clo, c), chi = fmax(chi, c);
  }
  range r = pad_range(lo, hi), rc = pad_range(clo, chi);
  /* legend: the series' names (none for one unnamed series, coloured by sign), and the cumulative line */
  enum { MAXL = 17 };
  const char *lg[MAXL] = {0};
  int nl = 0;
  for (int s = 0; names && s < n_series && nl < MAXL - 1; s++) lg[nl++] = names[s];
  const int n_bars = nl;
  if (cum) lg[nl++] = cum_label;
  geom g = svg_open(f, id, title, nl, lg, n_bars, "#2c3e50");
  y_axis(f, &g, r, pct_axis, 0, y_label);
  if (cum) y_axis(f, &g, rc, pct_axis, 1, cum_label);
  frame(f, &g);
  const double cw = (double)(W - ML - MR) / (n_cat > 0 ? n_cat : 1), y0 = ymap(&g, r, 0);
  const double bw = cw * 0.8 / (n_series > 0 ? n_series : 1);
  for (int s = 0; s < n_series; s++)
    for (int k = 0; k < n_cat; k++) {
      if (!isfinite(v[s][k])) continue;
      const double y = ymap(&g, r, v[s][k]), x = ML + cw * k + cw * 0.1 + bw * s;
      const char *col = n_series == 1 && !names ? (v[s][k] >= 0 ? "#c0392b" : "#27ae60") : k_colors[s % N_COLORS];
      fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x, fmin(y, y0),
              fmax(bw, 0.5), fmax(fabs(y0 - y), 0.5), col);
    }
  fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#666\"/>\n", ML, y0, W - MR, y0);
  /* category labels: at most ~12 */
  const int bottom = g.mt + PLOT_H, every = n_cat > 12 ? (n_cat + 11) / 12 : 1;
  for (int k = 0; k < n_cat; k += every) {
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", ML + cw * (k + 0.5), bottom + 16);
    esc(f, cat[k]);
    fputs("</text>\n", f);
  }
  if (x_label && *x_label) {
    fprintf(f, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (W + ML - MR) / 2, bottom + 36);
    esc(f, x_label);
    fputs("</text>\n", f);
  }
  if (cum && n_cat > 0) {
    fputs("<polyline fill=\"none\" stroke=\"#2c3e50\" stroke-width=\"1.6\" points=\"", f);
    c = 0;
    for (int k = 0; k < n_cat; k++) {
      if (isfinite(v[0][k])) c += v[0][k];
      fprintf(f, "%s%.1f,%.1f", k ? " " : "", ML + cw * (k + 0.5), ymap(&g, rc, c));
    }
    fputs("\"/>\n", f);
  }
  svg_close(f);
}

void rep_html_bar_chart(rep_html *h, const char *id, const char *title, int n, const char *const *labels,
                        const double *v, int cum, int pct_axis) {
  const double *vs[1] = {v};
  rep_html_bars(h, id, title, pct_axis ? "%" : NULL, NULL, n, labels, 1, vs, NULL,
                cum ? "cumulative sum (right axis)" : NULL, pct_axis);
}

/* ------------------------------------------------------------------ closing: contents list + body */

int rep_html_close(rep_html *h, zz_err *err) {
  if (!h) return ZZ_OK;
  FILE *o = h->out;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", o);
  esc(o, h->title);
  fputs("</title>\n<style>\n"
        "body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}\n"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
        "th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}\n"
        "th:first-child,td:first-child{text-align:left}\n"
        "caption{font-weight:bold;text-align:left;padding:4px 0}\n"
        "figure.chart{margin:0.5em 0 1.5em}\n"
        "svg.chart{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #ddd}\n"
        "svg text{font-size:11px;font-family:sans-serif;fill:#222}\n"
        "svg text.chart-title{font-size:13px;font-weight:bold}\n"
        "svg text.axis-label{font-size:11px;fill:#444}\n"
        "nav.contents{border:1px solid #ddd;padding:0.3em 1em;margin:1em 0;display:inline-block}\n"
        "nav.contents ol{margin:0.3em 0;padding-left:1.5em}\n"
        "@media print{body{margin:0;max-width:none;font-size:10pt}"
        "figure.chart,svg.chart,table,tr{break-inside:avoid;page-break-inside:avoid}"
        "h2{break-after:avoid;page-break-after:avoid}svg.chart{border:none}a{color:inherit;text-decoration:none}}\n"
        "</style>\n</head>\n<body>\n<h1>",
        o);
  esc(o, h->title);
  fputs("</h1>\n", o);
  if (h->n_sec > 1) {
    fputs("<nav class=\"contents\"><strong>Contents</strong>\n<ol>\n", o);
    for (int k = 0; k < h->n_sec; k++) {
      fprintf(o, "<li><a href=\"#s%d\">", k + 1);
      esc(o, h->sec[k]);
      fputs("</a></li>\n", o);
    }
    fputs("</ol></nav>\n", o);
  }
  int bad = ferror(h->f);
  rewind(h->f);
  char buf[1 << 15];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, h->f)) > 0)
    if (fwrite(buf, 1, got, o) != got) bad = 1;
  if (ferror(h->f)) bad = 1;
  fclose(h->f);
  fputs("</body>\n</html>\n", o);
  int rc;
  if (bad) {
    fclose(o);
    remove(h->tmp);
    rc = zz_fail(err, ZZ_EIO, "write error on %s", h->path);
  } else {
    rc = zz_out_close(o, h->tmp, h->path, err);
  }
  free(h);
  return rc;
}

