/* data.h — zhizeng's data layer: errors, CSV reading (libcsv), dates and stock codes, the in-memory
 * market panel (dates x stocks) with its binary cache, and the synthetic market generator.
 *
 * Every other stage reads the market through this header. Layout conventions:
 *   - dates are int32 YYYYMMDD; the trading calendar is p->dates[0 .. n_dates-1], ascending;
 *   - daily arrays are date-major: value of stock i on date index t is a[(size_t)t * n_stocks + i];
 *   - prices are unadjusted CNY; adj is the cumulative adjustment factor, so close * adj is a
 *     back-adjusted price and adjusted returns are close[t]*adj[t] / (close[t-1]*adj[t-1]) - 1;
 *   - volume is in shares, amount and market values in CNY;
 *   - on a suspended day of a listed stock (no bar, or suspended=1) close, open, high, low, vwap and
 *     pre_close carry the last close, volume = amount = 0, so its return that day is 0;
 *   - before listing / after delisting every field is NaN and PANEL_LISTED is clear.
 */
#ifndef ZZ_DATA_H
#define ZZ_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- errors */

/* Error classes; the CLI maps them to exit codes (zz_exit_code). */
enum zz_status {
  ZZ_OK = 0,
  ZZ_EINTERNAL = 1, /* a bug or an impossible state */
  ZZ_EUSAGE = 2,    /* bad command line or config */
  ZZ_EDATA = 3,     /* invalid input data (file:line:column: message) */
  ZZ_EIO = 4,       /* cannot read / write a file */
  ZZ_ENOMEM = 5,    /* out of memory */
  ZZ_ENUMERIC = 6   /* a numerical failure: non-finite loss, singular system, infeasible problem */
};

#define ZZ_ERR_MSG 1024
typedef struct zz_err {
  int code;              /* enum zz_status */
  char msg[ZZ_ERR_MSG];  /* what a user can act on: "file:line:column: what was expected" */
} zz_err;

/* Sets err (if non-NULL) and returns code. printf-style. */
int zz_fail(zz_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "context: old message". Returns err->code. */
int zz_wrap(zz_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Process exit code for a status: ZZ_OK -> 0, otherwise the status value. */
int zz_exit_code(int status);

/* -------------------------------------------------------------- CSV files */

/* Streaming CSV reader over libcsv. The first row is the header. Fields of the current row are
 * NUL-terminated strings valid until the next zz_csv_next call. Lines and columns are 1-based as a
 * user counts them in an editor (the header is line 1, its first column is column 1). */
typedef struct zz_csv zz_csv;

int zz_csv_open(zz_csv **out, const char *path, zz_err *err);
void zz_csv_close(zz_csv *r);
/* Advances to the next data row. Returns 1 when a row is available, 0 at end of file, or a negative
 * zz_status on error (wrong field count: "file:line:col: expected N fields, found M", col = the
 * first missing or extra field). Empty lines are
 * skipped. */
int zz_csv_next(zz_csv *r, zz_err *err);
const char *zz_csv_path(const zz_csv *r);
size_t zz_csv_line(const zz_csv *r);          /* line number of the current row */
int zz_csv_ncols(const zz_csv *r);            /* columns in the header */
const char *zz_csv_header(const zz_csv *r, int col);
const char *zz_csv_field(const zz_csv *r, int col);
/* Column index of the first of `names` (NULL-terminated list of aliases, case-insensitive) present
 * in the header, or -1. */
int zz_csv_find(const zz_csv *r, const char *const *names);
/* Like zz_csv_find, but a missing column is an error naming the file and the column expected. */
int zz_csv_require(zz_csv *r, const char *const *names, zz_err *err);
/* Parses field `col` of the current row. An empty field gives NaN when allow_empty, else an error;
 * anything but a finite decimal number is an error "file:line:col: expected a number in column
 * 'x', found 'y'". */
int zz_csv_double(zz_csv *r, int col, int allow_empty, double *v, zz_err *err);
/* Like zz_csv_double, times 10^scale10 applied exactly in decimal (tushare's vol in lots: scale 2). */
int zz_csv_double_scaled(zz_csv *r, int col, int allow_empty, int scale10, double *v, zz_err *err);
/* Parses a whole decimal number string ([sign] digits [.digits] [e[sign]digits], surrounding blanks
 * allowed) times 10^scale10, correctly rounded (equal to strtod of the scaled decimal). 0 or -1. */
int zz_parse_double(const char *s, int scale10, double *v);
/* Parses a date field (YYYY-MM-DD or YYYYMMDD) into YYYYMMDD; errors name file:line:column. */
int zz_csv_date(zz_csv *r, int col, int32_t *ymd, zz_err *err);
/* Parses a 0/1 (also true/false) field; empty gives dflt. */
int zz_csv_bool(zz_csv *r, int col, int dflt, int *v, zz_err *err);
/* Formats "path:line:col: " + message into err and returns code. col <= 0 omits the column. */
int zz_csv_fail(const zz_csv *r, int col, zz_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Writes a double so that it reads back to the same value (%.17g, trimmed) into buf; returns buf. */
char *zz_fmt_double(char *buf, size_t n, double v);
/* Writes a field to a CSV stream, quoting it when it contains a comma, quote or newline. */
void zz_csv_write_field(FILE *f, const char *s);
/* Creates a directory and its parents (like mkdir -p); errors name the path, and a path that exists but is not
 * a directory is an error. */
int zz_mkdir_p(const char *dir, zz_err *err);
/* Output that is never left partial: zz_out_open opens path + ".tmp" (its name into tmp[n]); zz_out_close
 * closes it and renames it to path when every write succeeded, else removes it and returns ZZ_EIO naming
 * the file. */
FILE *zz_out_open(const char *path, char *tmp, size_t n, zz_err *err);
int zz_out_close(FILE *f, const char *tmp, const char *path, zz_err *err);

/* ----------------------------------------------------------- dates, codes */

/* Parses "YYYY-MM-DD" or "YYYYMMDD" into YYYYMMDD, checking the calendar (Feb 29 etc).
 * Returns 0 on success, -1 if malformed. */
int zz_date_parse(const char *s, int32_t *ymd);
/* Formats YYYYMMDD as "YYYY-MM-DD" into buf (at least 11 bytes); returns buf. */
char *zz_date_format(int32_t ymd, char *buf);
/* Days since 1970-01-01 and back; ISO weekday 1 = Monday .. 7 = Sunday. */
int32_t zz_date_to_days(int32_t ymd);
int32_t zz_days_to_date(int32_t days);
int zz_date_weekday(int32_t ymd);

/* Normalises "600000.SH", "SH600000", "sh.600000", "600000.sh" to "600000.SH" (exchanges SH, SZ,
 * BJ). Returns 0 on success, -1 if not a recognisable code. out must hold ZZ_CODE_LEN bytes. */
#define ZZ_CODE_LEN 16
int zz_code_normalise(const char *in, char out[ZZ_CODE_LEN]);

/* Index identifiers: "000300", "000300.SH", "csi300" ... -> PANEL_CSI300 etc, or -1. */
enum { PANEL_CSI300 = 0, PANEL_CSI500 = 1, PANEL_CSI1000 = 2, PANEL_N_INDEX = 3 };
int zz_index_parse(const char *s);
const char *zz_index_code(int index);  /* "000300" */
const char *zz_index_name(int index);  /* "csi300" */

/* ------------------------------------------------------------------ panel */

typedef enum { BOARD_MAIN = 0, BOARD_CHINEXT = 1, BOARD_STAR = 2, BOARD_BSE = 3 } panel_board;
/* Board from the code when stocks.csv does not say: 300/301 -> ChiNext, 688/689 -> STAR,
 * .BJ -> BSE, else main. */
panel_board panel_board_from_code(const char *code);
const char *panel_board_name(panel_board b);
/* Daily price-limit ratio for a board on a date (ST 5 %; ChiNext 20 % from 2020-08-24, else 10 %;
 * STAR 20 %; BSE 30 %; main 10 %). */
double panel_limit_ratio(panel_board b, int is_st, int32_t ymd);

typedef struct panel_stock {
  char code[ZZ_CODE_LEN];
  char name[64];
  panel_board board;
  int32_t list_date;   /* YYYYMMDD from stocks.csv; 0 if not given (panel_universe_mask then counts from
                          the first listed day) */
  int32_t delist_date; /* YYYYMMDD, 0 if still listed */
} panel_stock;

/* Daily fields, each a dense n_dates x n_stocks array of double. */
typedef enum {
  PF_OPEN, PF_HIGH, PF_LOW, PF_CLOSE, PF_VOLUME, PF_AMOUNT, PF_PRE_CLOSE, PF_VWAP, PF_ADJ,
  PF_UP_LIMIT, PF_DOWN_LIMIT, PF_FLOAT_MV, PF_TOTAL_MV, PF_N_FIELDS
} panel_field;
const char *panel_field_name(panel_field f);

/* Per stock-day flags. */
enum {
  PANEL_LISTED = 1u,     /* between list and delist dates (inclusive of list date) */
  PANEL_HAS_BAR = 2u,    /* a row existed in bars.csv */
  PANEL_SUSPENDED = 4u,  /* listed but not trading (no row, or suspended = 1) */
  PANEL_ST = 8u,         /* special treatment that day */
  PANEL_LIMIT_UP = 16u,  /* close at the up limit (close >= up_limit - 0.005) */
  PANEL_LIMIT_DOWN = 32u /* close at the down limit */
};

/* Fundamentals are sparse, point in time by announcement date. */
typedef enum {
  PFUND_FLOAT_SHARES, PFUND_TOTAL_SHARES, PFUND_BOOK_EQUITY, PFUND_NET_PROFIT_TTM, PFUND_REVENUE_TTM,
  PFUND_TOTAL_LIABILITIES, PFUND_TOTAL_ASSETS, PFUND_N_FIELDS
} panel_fund_field;

typedef struct panel_fundamentals {
  size_t n;            /* records, sorted by (stock, date) */
  int32_t *stock;      /* stock index */
  int32_t *date;       /* announcement date YYYYMMDD */
  double *v[PFUND_N_FIELDS]; /* NaN where not given */
  size_t *first;       /* n_stocks + 1 offsets: records of stock i are [first[i], first[i+1]) */
} panel_fundamentals;

/* Index membership and weights: snapshots on the dates index_weights.csv gives (often every
 * trading day, at least on review dates). A snapshot's weights are fractions summing to 1. */
typedef struct panel_index {
  int present;         /* the market has this index */
  double *close;       /* n_dates closes from index_bars.csv (NaN if missing) */
  int n_snap;
  int32_t *snap_t;     /* date index of each snapshot, ascending */
  size_t *snap_first;  /* n_snap + 1 offsets into member/weight */
  int32_t *member;     /* stock indices */
  double *weight;      /* fractions */
} panel_index;

/* An extra dataset from features/<name>.csv: n_dates x n_stocks x n_cols floats, NaN if missing. */
typedef struct panel_dataset {
  char name[64];
  int n_cols;
  char (*col_names)[64];
  float *values;       /* [(t * n_stocks + i) * n_cols + c] */
} panel_dataset;

typedef struct panel {
  int n_dates, n_stocks;
  int32_t *dates;             /* trading calendar, YYYYMMDD ascending */
  panel_stock *stocks;        /* sorted by code */
  double *f[PF_N_FIELDS];     /* daily fields, see panel_field */
  uint8_t *flags;             /* n_dates x n_stocks, PANEL_* bits */
  int n_industries;
  char (*industry_names)[64]; /* sorted; index -1 in `industry` = unclassified */
  int16_t *industry;          /* n_dates x n_stocks, point in time */
  panel_index index[PANEL_N_INDEX];
  panel_fundamentals fund;
  int n_datasets;
  panel_dataset *datasets;
  int from_cache;             /* 1 when panel_load read the binary cache instead of the CSVs */
  int has_is_st;              /* 1 when bars.csv has an is_st column (PANEL_ST is the vendor's flag) */
  int has_limits;             /* 1 when bars.csv has an up_limit column (else up_limit is derived) */
} panel;

typedef struct panel_load_opts {
  const char *cache_path;  /* NULL: <market dir>/.zhizeng.cache */
  int use_cache;           /* 0: always parse CSV and do not write a cache */
  int verbose;             /* warnings to stderr (gaps, stale data) */
} panel_load_opts;

/* Loads a market directory: a valid cache is read; otherwise the CSVs are parsed, validated
 * (SPEC 2.2) and the cache rewritten. On error *out is NULL, err says file:line:column: what, and
 * no cache file is left behind. */
int panel_load(const char *dir, const panel_load_opts *opts, panel **out, zz_err *err);
void panel_free(panel *p);

/* Index of a code (normalised) or -1; index of a date in the calendar or -1. */
int panel_find_stock(const panel *p, const char *code);
int panel_find_date(const panel *p, int32_t ymd);
/* Index of the last trading date <= ymd, or -1. */
int panel_date_at_or_before(const panel *p, int32_t ymd);

static inline size_t panel_at(const panel *p, int t, int i) { return (size_t)t * (size_t)p->n_stocks + (size_t)i; }
/* Adjusted close-to-close return of stock i on date t (t >= 1); NaN when either day is unlisted. */
double panel_return(const panel *p, int t, int i);
/* Snapshot of index weights in force at date t (the latest snapshot on or before t), or -1. */
int panel_index_snapshot(const panel *p, int index, int t);
/* Dense weights (fractions) of an index in force at date t into w[n_stocks]; members set to 1 in
 * is_member (may be NULL). Returns the number of members, 0 if none in force. */
int panel_index_weights(const panel *p, int index, int t, double *w, uint8_t *is_member);
/* The weights the index has at the close of date t: the snapshot in force, each member's weight
 * drifted with its adjusted close from the snapshot date to t and renormalised,
 * w_i(t) = w_i(s) R_i / sum_j w_j(s) R_j with R_i = close_i(t) adj_i(t) / (close_i(s) adj_i(s)).
 * A suspended member keeps its last close (R unchanged while suspended), so it keeps its drifted
 * weight; a member with no price at or since the snapshot keeps R = 1. Adjusted, not raw, closes:
 * a bonus issue or split (frequent in A-shares) leaves a member's cap unchanged, a cash dividend
 * lowers it by ~2 % a year (ignored). Same return value and arguments as panel_index_weights. */
int panel_index_weights_drifted(const panel *p, int index, int t, double *w, uint8_t *is_member);
/* Latest fundamental value announced on or before date ymd for stock i, or NaN. */
double panel_fund_asof(const panel *p, panel_fund_field f, int i, int32_t ymd);
/* Last trading day of each ISO week: writes date indices to out (n_dates capacity), returns count. */
int panel_week_ends(const panel *p, int *out);
/* Prints the ingest summary (date range, stocks, members per index at first and last date,
 * share of suspended stock-days, limit-up and limit-down counts). */
void panel_print_summary(const panel *p, FILE *f);

/* ------------------------------------------------------------ universe screen */

/* The research universe of the reference study (CSI All-Share): no ST / *ST stocks, no new listings.
 * One mask, applied the same way to training labels, scores, factor tests and the optimiser's buy list.
 * A stock-day (t, i) is eligible when all of:
 *   - listed on t (PANEL_LISTED);
 *   - not ST on t (when exclude_st): by the day's is_st flag (PANEL_ST) when bars.csv has is_st;
 *     otherwise derived from the day's up_limit when bars.csv gives up_limit: with pc = pre_close (the
 *     previous close when missing), ratios s = panel_limit_ratio(board, 1, date) and
 *     n = panel_limit_ratio(board, 0, date), the day is ST when up_limit is within a cent of
 *     round(pc * (1 + s), 2) and not within a cent of round(pc * (1 + n), 2), not ST in the opposite
 *     case, and otherwise (suspended, no limit or pre_close, an ex-rights day whose pre_close was
 *     derived, an IPO day, both within a cent: prices below ~0.4 CNY) keeps the previous day's state
 *     (not ST before the first decided day). Where ST stocks have the board's normal limit (STAR,
 *     ChiNext from 2020-08-24, BSE: s == n) the limits cannot tell, and the stock counts as not ST.
 *     With neither is_st nor up_limit, ST cannot be determined and is not excluded (src says so);
 *   - listed at least min_listed_days trading days: the age on t is the number of trading days from
 *     the listing day through t, both included (the listing day is day 1); eligible when
 *     age >= min_listed_days (default 60: the first 59 trading days are excluded, the 60th is
 *     eligible; 0 or 1: no age rule). The listing day is stocks[i].list_date (the first calendar date
 *     on or after it); trading days before the panel's first date are estimated as the weekdays
 *     (Mon-Fri) from list_date to the day before dates[0]. With no list_date, the first PANEL_LISTED
 *     day stands for it, except when that is dates[0]: the listing is then older than the panel and
 *     the age rule does not exclude the stock.
 * Only data of day t and before decide (t, i): the mask is causal. Suspension is not part of it (the
 * stages exclude suspended days on their own terms). */
typedef struct panel_universe_opts {
  int exclude_st;      /* 1 (default): ST / *ST stock-days are not eligible; 0: kept */
  int min_listed_days; /* 60 (default): eligible from the listing's 60th trading day; 0: no age rule */
} panel_universe_opts;
void panel_universe_init(panel_universe_opts *o);

/* Which ST rule a mask used: callers warn on PANEL_ST_UNKNOWN and stamp their report "ST not excluded". */
typedef enum {
  PANEL_ST_BY_FLAG = 0,   /* the is_st column of bars.csv */
  PANEL_ST_BY_LIMITS = 1, /* no is_st: derived from the 5 % up_limit */
  PANEL_ST_UNKNOWN = 2,   /* neither is_st nor up_limit: ST stocks are NOT excluded */
  PANEL_ST_KEPT = 3       /* exclude_st = 0: ST stocks kept on request */
} panel_st_source;
/* "ST excluded by is_st", "ST excluded by 5 % price limits (no is_st)",
 * "ST not excluded (no is_st, no up_limit)", "ST kept (--keep-st)". */
const char *panel_st_source_name(panel_st_source s);
/* The rule panel_universe_mask uses for this panel and options (o NULL: defaults), without the mask. */
panel_st_source panel_universe_st_source(const panel *p, const panel_universe_opts *o);
/* Writes eligible[n_dates x n_stocks] (date-major, 1 = eligible, see above); o NULL: defaults; src (may be
 * NULL) gets the ST rule used. ZZ_EUSAGE for min_listed_days < 0. */
int panel_universe_mask(const panel *p, const panel_universe_opts *o, uint8_t *eligible, panel_st_source *src,
                        zz_err *err);

/* ------------------------------------------------------------ synthetic market */

typedef enum {
  SYNTH_WEIGHTS_DAILY = 0,  /* every trading day */
  SYNTH_WEIGHTS_MONTHLY = 1 /* the first written day and the last trading day of each month */
} synth_weights_freq;
typedef enum {
  SYNTH_INDEX_TOTAL = 0, /* total return: close_t = close_t-1 (1 + sum_i w_i,t-1 r_i,t), r adjusted */
  SYNTH_INDEX_PRICE = 1  /* price index: cash dividends do not count (docs/synthetic_market.md) */
} synth_index_kind;

#define SYNTH_ALPHA_STRENGTH 0.005
typedef struct synth_opts {
  int n_stocks;        /* 1900 .. 6000, default 2400 */
  int32_t start, end;  /* YYYYMMDD, default 20100101 .. 20231231 */
  uint64_t seed;       /* default 1 */
  int n_industries;    /* default 31 */
  int truth_scores;    /* also write truth/expected_return.csv (the oracle's scores), default 0 */
  int oracle_paths;    /* Monte Carlo paths per sampled date for the oracle, 1 .. 1000; 0 = default 16 */
  int32_t oracle_anchor; /* the oracle samples every 10th trading day through the first date >= this one
                            (YYYYMMDD; 0 or before start: from the first written day), so that a run can
                            put them on its factor tests' dates */
  double alpha_strength; /* kappa: daily expected return per unit of the planted signal's demeaned memory,
                            0 .. 0.1, default SYNTH_ALPHA_STRENGTH (docs/synthetic_market.md, calibration) */
  /* Vendor conditions (docs/synthetic_market.md, "Vendor conditions"): what a market built from public
   * vendor data looks like. The defaults write the clean market, byte for byte as without them. */
  double industry_coverage; /* share of stocks with a row in industry.csv, 0 .. 1, default 1 */
  int singleton_industries; /* extra industries holding one stock each (CSI300 members), 0 .. 20, default 0 */
  int no_fundamentals;      /* 1: no fundamentals.csv (market values only in bars.csv), default 0 */
  int vendor_bars;          /* 1: bars.csv without adj_factor and vwap, no row on a suspended day, default 0 */
  synth_weights_freq weights;    /* index_weights.csv snapshots, default SYNTH_WEIGHTS_DAILY */
  int long_suspensions;     /* CSI300 / CSI500 members suspended 30-80 trading days, staying members, 0 .. 50 */
  double max_weight;        /* > 0: CSI300's largest member weighs more than this on the first written date
                               (its share counts scaled from the start), 0 .. 0.5, default 0 = off */
  synth_index_kind index_kind;   /* index_bars.csv closes, default SYNTH_INDEX_TOTAL (total return) */
} synth_opts;

typedef struct synth_report {
  int n_dates, n_stocks;
  double oracle_rankic_mean;  /* THE oracle (the ceiling): mean RankIC of E[alpha over T+1 -> T+11 | state
                                 at T] (Monte Carlo over the future) vs the realised T+1 -> T+11 return */
  double oracle_rankic_ir;    /* mean / std over the 10-day sampled dates */
  int n_ic_dates;
  double oracle_cond_rankic_mean; /* conditional oracle: expected alpha given the memory at T, ignoring */
  double oracle_cond_rankic_ir;   /* future signal innovations (not a ceiling; simple models beat it) */
  double drift_rankic_mean;       /* RankIC of the alpha actually applied in the window (diagnostic) */
  double csi300_max_weight;       /* CSI300's largest weight (fraction) on the first written date */
} synth_report;

void synth_default_opts(synth_opts *o);
/* Turns every vendor condition on (`zhizeng synth --vendor`): industry coverage 0.12, 2 singleton
 * industries, no fundamentals, vendor bars, monthly weights, 3 long suspensions, max weight 0.067,
 * price index. Leaves the other fields as they are. */
void synth_vendor_opts(synth_opts *o);
/* Writes a complete market directory (SPEC 2.1 files) to out_dir. Same options -> same bytes. */
int synth_write(const char *out_dir, const synth_opts *o, synth_report *rep, zz_err *err);

/* The oracle RankICs a synthetic market recorded in truth/oracle_rankic.csv, summarised over the sampled
 * dates from..to (YYYYMMDD, inclusive): what a model trained on that market could reach at most. */
typedef struct synth_oracle_summary {
  int present;               /* the market has truth/oracle_rankic.csv */
  int n;                     /* sampled dates in from..to */
  double rankic_mean, rankic_ir;           /* the oracle (the ceiling); IC_IR NaN with < 2 dates */
  double cond_rankic_mean;   /* the conditional oracle's mean (not a ceiling) */
} synth_oracle_summary;
/* Reads market_dir/truth/oracle_rankic.csv (written by synth_write). A market without it: ZZ_OK with
 * present = 0. A malformed file: ZZ_EDATA naming file, line and column. */
int synth_oracle_read(const char *market_dir, int32_t from, int32_t to, synth_oracle_summary *s, zz_err *err);

/* ---------------------------------------------------------------- shared statistics (zz_stats.c) */

/* The cross-sectional statistics every stage uses, implemented once. Ranks are average ranks (1-based;
 * tied values share the mean of their ranks), as scipy.stats.rankdata(method="average"). */

/* Bytes of workspace zz_spearman_ws and zz_rank_avg need for n values (n * 32 on LP64). */
size_t zz_stats_work_bytes(int n);

/* Average ranks of x[0..n-1] into rank[0..n-1]. NaN entries get rank NaN and the others are ranked
 * 1..m among themselves; -inf / +inf rank first / last. work: zz_stats_work_bytes(n) bytes, or NULL
 * to allocate it here. Returns ZZ_OK, or ZZ_ENOMEM (rank all NaN) when that allocation fails. */
int zz_rank_avg(const double *x, int n, double *rank, void *work);

/* Spearman rank correlation of a[n], b[n]: Pearson correlation of their average ranks, clamped to
 * [-1, 1]. NaN when n < 2, when either side is constant, or when any a[k] or b[k] is NaN (callers pass
 * the pairs they want, usually the finite ones); -inf / +inf are ranked like any other value. This is
 * scipy.stats.spearmanr(a, b) with nan_policy="propagate" (scipy 1.10 also answers NaN when +inf and
 * -inf both occur; here they are ranked). work: zz_stats_work_bytes(n) bytes, reused across calls
 * (nothing is allocated). */
double zz_spearman_ws(const double *a, const double *b, int n, void *work);
/* As zz_spearman_ws with a workspace allocated per call (NaN if that fails). */
double zz_spearman(const double *a, const double *b, int n);

/* Cross-sectional z-score of x[0..n-1] into z[0..n-1] (z may be x): over the finite entries, the mean
 * and the POPULATION standard deviation (divide by the count); z = (x - mean) / std for a finite entry,
 * NaN for a non-finite one. When all finite entries are equal (or there is only one) or the std is 0,
 * every finite entry gets 0, the neutral score. Returns the number of finite entries (0: z all NaN). */
int zz_zscore(const double *x, int n, double *z);

/* Factor units' mutual correlation (docs/model.md, "Factor units' mutual correlation"; the one definition
 * the study, `zhizeng evaluate --units` and the pipeline's report use). K >= 2 unit columns u[k][row]; date d
 * holds the rows start[d] .. start[d+1]-1 (start[0..n_dates]). On each date, over its rows kept (keep[row] != 0;
 * keep NULL: every row) where all K units are finite (at least 2 of them), the Pearson correlation rho_ab(d) of every pair a < b (centred sums; a
 * unit whose values on that date are all equal leaves the date out of its pairs); mean_ab = the mean of
 * rho_ab(d) over the dates where it is defined; the result *mean_abs = the mean of |mean_ab| over the pairs
 * with a defined mean_ab (NaN when none). pair (NULL: not wanted) receives the K x K matrix of mean_ab (1 on
 * the diagonal, NaN where undefined); *n_dates_used (may be NULL) the dates with at least 2 complete rows.
 * Returns ZZ_OK or ZZ_ENOMEM / ZZ_EUSAGE (K < 2) with a message. */
int zz_unit_correlation(int K, const double *const *u, const size_t *start, int n_dates, const uint8_t *keep,
                        double *mean_abs, double *pair, int *n_dates_used, zz_err *err);
/* The same, one date at a time (zz_unit_correlation is built on it): create for K >= 2 units; add one date's
 * complete rows x[r * K + k] (n rows, every value finite; a date with n < 2 is ignored); result as above. */
typedef struct zz_unit_corr zz_unit_corr;
int zz_unit_corr_create(zz_unit_corr **out, int K, zz_err *err);
int zz_unit_corr_add(zz_unit_corr *a, const double *x, size_t n, zz_err *err);
void zz_unit_corr_result(const zz_unit_corr *a, double *mean_abs, double *pair, int *n_dates);
void zz_unit_corr_free(zz_unit_corr *a);

/* ---------------------------------------------------------------- importers */

/* `zhizeng import qlib` (data/import_qlib.c, docs/market_data.md "From qlib data"): qlib's binary layout
 * (calendars/day.txt, instruments/<name>.txt, features/<code>/<field>.day.bin, float32 little-endian, first
 * value = start index in the calendar) to a market directory. Raw prices = round(field / factor, 2),
 * adj_factor = factor (so close * adj_factor is qlib's close up to rounding); raw volume = volume * factor
 * (volume_raw = 0) or as given (volume_raw = 1). Index closes from features/sh000300|sh000905|sh000852,
 * else index_bars_csv; memberships from instruments/csi300|csi500|csi1000.txt, weights from weights_csv
 * (tushare index_weight) or proxies: float-cap (float_mv/circ_mv fields) else equal weights, with their
 * tracking error against the index close stated. Everything is written into
 * out/.import.tmp, validated with panel_load, then renamed into out; on error nothing is left in out.
 * IMPORT.txt in out records source, options, derived fields and proxies. */
typedef struct qlib_import_opts {
  const char *src;            /* qlib data directory (required) */
  const char *out;            /* market directory to write: absent, empty, or a previous import (required) */
  int32_t start, end;         /* YYYYMMDD date range written; 0 = open */
  const char *weights_csv;    /* NULL: equal-weight proxies from instruments/csiNNN.txt */
  const char *index_bars_csv; /* date,index,close for indices without features/<index>/close.day.bin */
  const char *industry_csv;   /* code,industry; NULL: no industry.csv */
  int volume_raw;             /* 0 (default): qlib volume is adjusted (raw = volume * factor); 1: raw */
  int verbose;                /* notes (derived fields, proxies, skipped stocks) to stderr */
} qlib_import_opts;
void qlib_import_init(qlib_import_opts *o);
/* Imports and validates; on success *out (may be NULL) gets the loaded panel (caller frees). */
int qlib_import(const qlib_import_opts *o, panel **out, zz_err *err);

/* ---------------------------------------------------------------- tushare importer */

/* `zhizeng import tushare` (data/import_tushare.c, docs/market_data.md "From tushare exports"): tushare
 * CSV exports in src_dir, one or more files per API (daily.csv, daily_2019.csv, ...: NAME.csv or
 * NAME_*.csv), in tushare units (vol in lots, amount in thousand CNY, *_mv in 10,000 CNY), to a market
 * directory: bars.csv (daily + adj_factor + daily_basic + stk_limit + suspend_d + namechange),
 * index_bars.csv (index_daily), index_weights.csv (index_weight), stocks.csv (stock_basic), industry.csv
 * (SW level 1: index_member + index_classify) and IMPORT.txt. daily, index_daily and index_weight are
 * required. Written into out_dir.tmp.<pid>, validated with panel_load, renamed to out_dir (which must be
 * absent or an empty directory); on error nothing is left and err names file:line:column. */
typedef struct tushare_import_opts {
  int32_t start, end; /* YYYYMMDD date range read; 0 = open */
  int verbose;        /* panel_load's warnings to stderr */
} tushare_import_opts;
void tushare_import_init(tushare_import_opts *o);
/* On success *out (may be NULL) gets the loaded panel (caller frees). */
int tushare_import(const char *src_dir, const char *out_dir, const tushare_import_opts *o, panel **out, zz_err *err);

#endif
