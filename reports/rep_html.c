/* rep_html.c — one self-contained HTML page (inline CSS, no scripts, fonts or network) with tables and
 * inline SVG charts: line charts (NAV, drawdown) and bar charts (RankIC with its cumulative sum, group
 * returns). */
#include "reports.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct rep_html {
  FILE *f;
  char path[4096];
};

static const char *const k_colors[] = {"#c0392b", "#2c3e50", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#7f8c8d"};
#define N_COLORS 7

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
  h->f = fopen(path, "w");
  if (!h->f) {
    int e = errno;
    free(h);
    return zz_fail(err, ZZ_EIO, "cannot write %s: %s", path, strerror(e));
  }
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", h->f);
  esc(h->f, title);
  fputs("</title>\n<style>\n"
        "body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}\n"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
        "th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}\n"
        "th:first-child,td:first-child{text-align:left}\n"
        "caption{font-weight:bold;text-align:left;padding:4px 0}\n"
        "svg{display:block;margin:0.5em 0 1.5em;background:#fff;border:1px solid #ddd}\n"
        "svg text{font-size:11px;font-family:sans-serif}\n"
        "</style>\n</head>\n<body>\n<h1>",
        h->f);
  esc(h->f, title);
  fputs("</h1>\n", h->f);
  *out = h;
  return ZZ_OK;
}

void rep_html_heading(rep_html *h, const char *text) {
  fputs("<h2>", h->f);
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

/* ------------------------------------------------------------------ SVG geometry */

#define W 960
#define H 340
#define ML 70
#define MR 70
#define MT 36
#define MB 40

typedef struct { double lo, hi; } range;

/* A "nice" axis covering [lo, hi] with about 5 ticks. */
static double nice_step(double span) {
  if (!(span > 0)) return 1;
  double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static range pad_range(double lo, double hi) {
  if (!isfinite(lo) || !isfinite(hi)) return (range){0, 1};
  if (hi - lo < 1e-12) lo -= 0.5 * (fabs(lo) > 0 ? fabs(lo) * 0.1 : 1), hi = lo + (fabs(lo) > 0 ? fabs(lo) * 0.2 : 2);
  double st = nice_step(hi - lo);
  return (range){floor(lo / st) * st, ceil(hi / st) * st};
}

static double ymap(range r, double v) { return MT + (H - MT - MB) * (1 - (v - r.lo) / (r.hi - r.lo)); }
static double xmap(int n, double k) { return ML + (W - ML - MR) * (n > 1 ? k / (n - 1) : 0.5); }

static void axis_label(char *buf, size_t n, double v, int pct) {
  if (fabs(v) < 1e-14) v = 0;
  if (pct) snprintf(buf, n, "%.4g%%", v * 100);
  else snprintf(buf, n, "%.4g", v);
}

static void y_axis(FILE *f, range r, int pct, int right) {
  double st = nice_step(r.hi - r.lo);
  char b[64];
  for (double v = r.lo; v <= r.hi + st * 1e-6; v += st) {
    double y = ymap(r, v);
    if (!right) fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>\n", ML, y, W - MR, y);
    axis_label(b, sizeof b, v, pct);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", right ? W - MR + 6 : ML - 6, y + 4,
            right ? "start" : "end", b);
  }
}

static void svg_open(FILE *f, const char *id, const char *title) {
  fprintf(f, "<svg id=\"");
  esc(f, id);
  fprintf(f, "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
             "role=\"img\"><title>", W, H, W, H);
  esc(f, title);
  fprintf(f, "</title>\n<text x=\"%d\" y=\"20\" font-weight=\"bold\">", ML);
  esc(f, title);
  fputs("</text>\n", f);
}

/* Year labels under the x axis at the first point of each year. */
static void x_years(FILE *f, const int32_t *x, int n) {
  int last_label = -1000;
  for (int k = 0; k < n; k++) {
    if (k > 0 && x[k] / 10000 == x[k - 1] / 10000) continue;
    double px = xmap(n, k);
    if (px - last_label < 40) continue;
    last_label = (int)px;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>", px, H - MB, px, H - MB + 4);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", px, H - MB + 16, (int)(x[k] / 10000));
  }
}

static void frame(FILE *f) {
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", ML, MT,
          W - ML - MR, H - MT - MB);
}

void rep_html_line_chart(rep_html *h, const char *id, const char *title, const int32_t *x, int n, int n_series,
                         const double *const *ys, const char *const *names, int pct_axis) {
  FILE *f = h->f;
  double lo = INFINITY, hi = -INFINITY;
  for (int s = 0; s < n_series; s++)
    for (int k = 0; k < n; k++)
      if (isfinite(ys[s][k])) lo = fmin(lo, ys[s][k]), hi = fmax(hi, ys[s][k]);
  range r = pad_range(lo, hi);
  svg_open(f, id, title);
  y_axis(f, r, pct_axis, 0);
  frame(f);
  x_years(f, x, n);
  /* at most ~2000 points per series: every k-th point */
  int step = n > 2000 ? (n + 1999) / 2000 : 1;
  for (int s = 0; s < n_series; s++) {
    fprintf(f, "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"%s\" points=\"", k_colors[s % N_COLORS]);
    int pen = 0;
    for (int k = 0; k < n; k++) {
      if (k % step && k != n - 1) continue;
      if (isfinite(ys[s][k])) fprintf(f, "%s%.1f,%.1f", pen++ ? " " : "", xmap(n, k), ymap(r, ys[s][k]));
    }
    fputs("\"/>\n", f);
    /* legend in the header band, right-aligned, clear of the plot */
    int lx = W - MR - 120 * (n_series - s);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"3\" fill=\"%s\"/>", lx, 15, k_colors[s % N_COLORS]);
    fprintf(f, "<text x=\"%d\" y=\"%d\">", lx + 18, 20);
    esc(f, names[s]);
    fputs("</text>\n", f);
  }
  fputs("</svg>\n", f);
}

void rep_html_bar_chart(rep_html *h, const char *id, const char *title, int n, const char *const *labels,
                        const double *v, int cum, int pct_axis) {
  FILE *f = h->f;
  double lo = 0, hi = 0, c = 0, clo = 0, chi = 0;
  for (int k = 0; k < n; k++) {
    if (!isfinite(v[k])) continue;
    lo = fmin(lo, v[k]), hi = fmax(hi, v[k]);
    c += v[k];
    clo = fmin(clo, c), chi = fmax(chi, c);
  }
  range r = pad_range(lo, hi), rc = pad_range(clo, chi);
  svg_open(f, id, title);
  y_axis(f, r, pct_axis, 0);
  if (cum) y_axis(f, rc, pct_axis, 1);
  frame(f);
  double bw = (double)(W - ML - MR) / (n > 0 ? n : 1), y0 = ymap(r, 0);
  for (int k = 0; k < n; k++) {
    if (!isfinite(v[k])) continue;
    double y = ymap(r, v[k]), x = ML + bw * k + bw * 0.1;
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x, fmin(y, y0),
            fmax(bw * 0.8, 0.5), fmax(fabs(y0 - y), 0.5), v[k] >= 0 ? "#c0392b" : "#27ae60");
  }
  fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#666\"/>\n", ML, y0, W - MR, y0);
  /* category labels: at most ~25 */
  int every = n > 12 ? (n + 11) / 12 : 1; /* at most ~12 category labels */
  for (int k = 0; k < n; k += every) {
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", ML + bw * (k + 0.5), H - MB + 16);
    esc(f, labels[k]);
    fputs("</text>\n", f);
  }
  if (cum && n > 0) {
    fputs("<polyline fill=\"none\" stroke=\"#2c3e50\" stroke-width=\"1.5\" points=\"", f);
    c = 0;
    int pen = 0;
    for (int k = 0; k < n; k++) {
      if (isfinite(v[k])) c += v[k];
      fprintf(f, "%s%.1f,%.1f", pen++ ? " " : "", ML + bw * (k + 0.5), ymap(rc, c));
    }
    fputs("\"/>\n", f);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">bars: left axis; line: cumulative sum, right axis</text>\n",
            W - MR, 20);
  }
  fputs("</svg>\n", f);
}

int rep_html_close(rep_html *h, zz_err *err) {
  if (!h) return ZZ_OK;
  fputs("</body>\n</html>\n", h->f);
  int bad = ferror(h->f);
  if (fclose(h->f) != 0) bad = 1;
  int rc = bad ? zz_fail(err, ZZ_EIO, "write error on %s", h->path) : ZZ_OK;
  free(h);
  return rc;
}

int rep_mkdir_p(const char *dir, zz_err *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return zz_fail(err, ZZ_EUSAGE, "path too long: %s", dir);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        return zz_fail(err, ZZ_EIO, "cannot create directory %s: %s", buf, strerror(e));
      }
      *p = c;
      if (!c) break;
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return zz_fail(err, ZZ_EIO, "%s is not a directory", dir);
  return ZZ_OK;
}
