/* cmd_model.c — `zhizeng model export|import|forward`: exchange network weights with PyTorch as
 * safetensors (SPEC 11.2) and run one forward (and backward) pass on given inputs. */
#include "cli.h"
#include "data.h"
#include "model.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f) {
  fprintf(f,
          "usage: zhizeng model export  --model NATIVE --out FILE.safetensors\n"
          "       zhizeng model import  --in FILE.safetensors --out NATIVE\n"
          "       zhizeng model forward --model M --input X --output Y [--threads 1|2]\n"
          "       zhizeng model step    --model M --input X --steps S --output Y [--clip 3] [--lr 1e-3]\n"
          "       zhizeng model lrp     --model M --input X --output FILE.csv [--eps 1e-3]\n\n"
          "Model files: zhizeng's native binary model, or safetensors with PyTorch's names (rnn.weight_ih_l0,\n"
          "rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, _l1, act.weight, act.bias, head.weight, head.bias)\n"
          "and __metadata__ cell (gru|lstm|act_lstm), layers, hidden, input_size, outputs, head\n"
          "(univariate|multivariate|class3), lambda, class_weights (class3: 'down,neutral,up', default 1,1,1),\n"
          "act_epsilon, act_max_steps, act_tau (act_lstm: defaults 0.1, 30, 1e-3).\n\n"
          "forward: X (safetensors) holds x [N, T, F] and optionally y [N]. Y receives h [N, K] (head outputs\n"
          "  before batch-norm), score [N] (h for K = 1, c = mean of the batch-normed columns for K > 1) and,\n"
          "  when y is given, loss [1] (training-mode batch-norm over the N rows, dropout off) and\n"
          "  grad.<parameter name> for every parameter.\n"
          "  class3 head (K = 3, rows down, neutral, up): h holds the logits, score = P(up) - P(down) of their\n"
          "  softmax, y holds class ids 0/1/2 and loss is the mean cross-entropy (weighted by class_weights as\n"
          "  PyTorch's cross_entropy(weight=...)).\n"
          "  act_lstm cell (1 layer; rnn.weight_ih_l0 [4H, F+1], its last column the first-ponder-step flag):\n"
          "  loss also holds the ponder cost act_tau / N * sum over rows and time steps of (N(t) + R(t)).\n"
          "step: S training steps on the one batch of X (forward, backward, clip_grad_value at --clip, Adam\n"
          "  with --lr, betas 0.9/0.999, eps 1e-8, dropout off); Y receives the parameters after each\n"
          "  step as step<k>.<name> and the losses as loss [S].\n"
          "lrp: LRP relevances (epsilon rule, in double; docs/model.md \"LRP explanations\") of the explained output\n"
          "  of every row of x [N, T, F] (gru/lstm cells). FILE.csv: kind,row,step,feature,value with kind rel (one\n"
          "  row per row x time step x feature), bias (feature 0, 1, 2: layer 1, layer 2, head) and out (the\n"
          "  explained output: univariate h, multivariate c with the batch-norm of the N rows as a fixed affine\n"
          "  map, class3 the logit difference up - down); step and feature are 0 where they do not apply.\n");
}

static int load_any(nn_model **m, const char *path, zz_err *err) {
  FILE *f = fopen(path, "rb");
  char magic[8] = {0};
  if (f) {
    size_t r = fread(magic, 1, 8, f);
    (void)r;
    fclose(f);
  }
  if (!memcmp(magic, "ZZMODEL", 8)) return nn_load(m, path, NULL, NULL, err);
  return nn_import_safetensors(m, path, err);
}

static int add_tensor(st_tensor **t, int *n, const char *name, int ndim, const int64_t *shape, const float *data,
                      zz_err *err) {
  st_tensor *a = realloc(*t, (size_t)(*n + 1) * sizeof *a);
  if (!a) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  *t = a;
  st_tensor *x = &a[(*n)++];
  memset(x, 0, sizeof *x);
  x->name = strdup(name);
  x->ndim = ndim;
  x->numel = 1;
  for (int d = 0; d < ndim; d++) {
    x->shape[d] = shape[d];
    x->numel *= (size_t)shape[d];
  }
  x->data = malloc((x->numel ? x->numel : 1) * sizeof(float));
  if (!x->name || !x->data) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  memcpy(x->data, data, x->numel * sizeof(float));
  return ZZ_OK;
}

static void free_tensors(st_tensor *t, int n) {
  for (int k = 0; k < n; k++) {
    free(t[k].name);
    free(t[k].data);
  }
  free(t);
}

static int add_params(st_tensor **t, int *n, const nn_model *m, const char *prefix, const float *buf, zz_err *err) {
  int rc = ZZ_OK;
  for (int k = 0; k < m->n_views && !rc; k++) {
    const nn_param_view *v = &m->views[k];
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, v->name);
    int64_t sh[2] = {v->shape[0], v->shape[1]};
    rc = add_tensor(t, n, name, v->ndim, sh, buf + v->offset, err);
  }
  return rc;
}

/* Reads x [N, T, F] (F = input size) and optional y [N]. */
static int read_input(const char *path, const nn_model *m, st_file **in, const st_tensor **x, const st_tensor **y,
                      zz_err *err) {
  int rc = st_read(in, path, err);
  if (rc) return rc;
  *x = st_find(*in, "x");
  *y = st_find(*in, "y");
  if (!*x) return zz_fail(err, ZZ_EDATA, "%s: expected a tensor 'x' [N, T, F]", path);
  if ((*x)->ndim != 3 || (*x)->shape[2] != m->cfg.input_size || (*x)->shape[0] < 1 || (*x)->shape[1] < 1)
    return zz_fail(err, ZZ_EDATA, "%s: tensor 'x': expected [N, T, %d] with N, T >= 1, found %d dimensions", path,
                   m->cfg.input_size, (*x)->ndim);
  if (*y && ((*y)->ndim != 1 || (*y)->shape[0] != (*x)->shape[0]))
    return zz_fail(err, ZZ_EDATA, "%s: tensor 'y': expected [%lld], the N of x", path, (long long)(*x)->shape[0]);
  return ZZ_OK;
}

static int do_forward(const char *mpath, const char *ipath, const char *opath, int threads, int steps, float clip,
                      double lr, zz_err *err) {
  nn_model *m = NULL;
  nn_work *w = NULL;
  st_file *in = NULL;
  st_tensor *ot = NULL;
  int no = 0, rc;
  float *h = NULL, *score = NULL, *losses = NULL;
  const st_tensor *x, *y;
  if ((rc = load_any(&m, mpath, err))) goto done;
  if ((rc = read_input(ipath, m, &in, &x, &y, err))) goto done;
  if ((rc = nn_work_create(&w, threads, err))) goto done;
  int N = (int)x->shape[0], T = (int)x->shape[1], K = m->cfg.outputs;
  h = malloc((size_t)N * K * sizeof(float));
  score = malloc((size_t)N * sizeof(float));
  losses = malloc((size_t)(steps > 0 ? steps : 1) * sizeof(float));
  if (!h || !score || !losses) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  if (steps > 0) {
    if (!y) {
      rc = zz_fail(err, ZZ_EDATA, "%s: 'model step' needs a tensor 'y' [N]", ipath);
      goto done;
    }
    nn_adam_config ac = nn_adam_default();
    ac.lr = lr;
    for (int s = 0; s < steps; s++) {
      double loss;
      if ((rc = nn_forward(m, w, x->data, N, T, 0, 0, NULL, NULL, err)) ||
          (rc = nn_backward(m, w, y->data, &loss, err)))
        goto done;
      losses[s] = (float)loss;
      nn_clip_grad_value(m, clip);
      nn_adam_step(m, &ac);
      char prefix[32];
      snprintf(prefix, sizeof prefix, "step%d.", s + 1);
      if ((rc = add_params(&ot, &no, m, prefix, m->params, err))) goto done;
    }
    int64_t sh[1] = {steps};
    rc = add_tensor(&ot, &no, "loss", 1, sh, losses, err);
  } else {
    /* with y the gradients follow: the forward keeps its state for nn_backward; without, scoring only */
    if ((rc = y ? nn_forward(m, w, x->data, N, T, 0, 0, h, score, err) : nn_score(m, w, x->data, N, T, h, score, err)))
      goto done;
    int64_t shh[2] = {N, K}, shs[1] = {N};
    if ((rc = add_tensor(&ot, &no, "h", 2, shh, h, err)) || (rc = add_tensor(&ot, &no, "score", 1, shs, score, err)))
      goto done;
    if (y) {
      double loss;
      if ((rc = nn_backward(m, w, y->data, &loss, err))) goto done;
      float lf = (float)loss;
      int64_t one[1] = {1};
      if ((rc = add_tensor(&ot, &no, "loss", 1, one, &lf, err)) || (rc = add_params(&ot, &no, m, "grad.", m->grads, err)))
        goto done;
    }
  }
  rc = st_write(opath, no, ot, 0, NULL, NULL, err);
done:
  free_tensors(ot, no);
  free(h);
  free(score);
  free(losses);
  st_free(in);
  nn_work_free(w);
  nn_free(m);
  return rc;
}

static int do_lrp(const char *mpath, const char *ipath, const char *opath, double eps, zz_err *err) {
  nn_model *m = NULL;
  st_file *in = NULL;
  const st_tensor *x, *y;
  double *rel = NULL, *bias = NULL, *out = NULL;
  int rc;
  if ((rc = load_any(&m, mpath, err)) || (rc = read_input(ipath, m, &in, &x, &y, err))) goto done;
  const int N = (int)x->shape[0], T = (int)x->shape[1], F = m->cfg.input_size;
  rel = malloc(sizeof *rel * (size_t)N * T * F);
  bias = malloc(sizeof *bias * (size_t)N * NN_LRP_PARTS);
  out = malloc(sizeof *out * (size_t)N);
  if (!rel || !bias || !out) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = nn_lrp(m, x->data, N, T, NULL, eps, rel, bias, out, err))) goto done;
  char tmp[4200], b[40];
  FILE *f = zz_out_open(opath, tmp, sizeof tmp, err);
  if (!f) {
    rc = err->code ? err->code : ZZ_EIO;
    goto done;
  }
  fprintf(f, "kind,row,step,feature,value\n");
  for (int i = 0; i < N; i++) {
    for (int t = 0; t < T; t++)
      for (int k = 0; k < F; k++)
        fprintf(f, "rel,%d,%d,%d,%s\n", i, t, k, zz_fmt_double(b, sizeof b, rel[((size_t)i * T + t) * F + k]));
    for (int k = 0; k < NN_LRP_PARTS; k++)
      fprintf(f, "bias,%d,0,%d,%s\n", i, k, zz_fmt_double(b, sizeof b, bias[(size_t)i * NN_LRP_PARTS + k]));
    fprintf(f, "out,%d,0,0,%s\n", i, zz_fmt_double(b, sizeof b, out[i]));
  }
  rc = zz_out_close(f, tmp, opath, err);
done:
  free(rel), free(bias), free(out);
  st_free(in);
  nn_free(m);
  return rc;
}

int cmd_model(int argc, char **argv) {
  if (argc < 2 || cli_wants_help(argc, argv)) {
    if (argc < 2) {
      help(stderr);
      return ZZ_EUSAGE;
    }
    help(stdout);
    return 0;
  }
  const char *action = argv[1];
  const char *model = NULL, *input = NULL, *output = NULL, *in = NULL, *out = NULL;
  int threads = 1, steps = 0;
  double clip = 3.0, lr = 1e-3, eps = 1e-3;
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},  {"input", required_argument, 0, 'x'},
                                       {"output", required_argument, 0, 'y'}, {"in", required_argument, 0, 'i'},
                                       {"out", required_argument, 0, 'o'},    {"threads", required_argument, 0, 't'},
                                       {"steps", required_argument, 0, 's'},  {"clip", required_argument, 0, 'c'},
                                       {"lr", required_argument, 0, 'l'},     {"eps", required_argument, 0, 'e'},
                                       {0, 0, 0, 0}};
  optind = 1;
  opterr = 0;
  int c;
  char *end;
  while ((c = getopt_long(argc - 1, argv + 1, ":", opts, NULL)) != -1) {
    switch (c) {
      case 'm': model = optarg; break;
      case 'x': input = optarg; break;
      case 'y': output = optarg; break;
      case 'i': in = optarg; break;
      case 'o': out = optarg; break;
      case 't':
        threads = (int)strtol(optarg, &end, 10);
        if (*end || (threads != 1 && threads != 2)) return cli_usage_error("model", "--threads must be 1 or 2");
        break;
      case 's':
        steps = (int)strtol(optarg, &end, 10);
        if (*end || steps < 1 || steps > 100000) return cli_usage_error("model", "--steps must be in 1..100000");
        break;
      case 'c':
        clip = strtod(optarg, &end);
        if (*end || !(clip > 0)) return cli_usage_error("model", "--clip must be a positive number");
        break;
      case 'l':
        lr = strtod(optarg, &end);
        if (*end || !(lr > 0)) return cli_usage_error("model", "--lr must be a positive number");
        break;
      case 'e':
        eps = strtod(optarg, &end);
        if (*end || !(eps >= 0) || eps > 1e300) return cli_usage_error("model", "--eps must be a number >= 0");
        break;
      case ':': return cli_usage_error("model", "option %s needs a value", argv[optind]);
      default: return cli_usage_error("model", "unknown option %s", argv[optind]);
    }
  }
  if (optind + 1 < argc) return cli_usage_error("model", "unexpected argument '%s'", argv[optind + 1]);
  zz_err err = {0, ""};
  int rc;
  if (!strcmp(action, "export")) {
    if (!model || !out) return cli_usage_error("model", "export needs --model NATIVE and --out FILE.safetensors");
    nn_model *m;
    rc = load_any(&m, model, &err);
    if (!rc) {
      rc = nn_export_safetensors(m, out, &err);
      nn_free(m);
    }
  } else if (!strcmp(action, "import")) {
    if (!in || !out) return cli_usage_error("model", "import needs --in FILE.safetensors and --out NATIVE");
    nn_model *m;
    rc = nn_import_safetensors(&m, in, &err);
    if (!rc) {
      rc = nn_save(m, out, NULL, 0, &err);
      nn_free(m);
    }
  } else if (!strcmp(action, "forward") || !strcmp(action, "step")) {
    int is_step = !strcmp(action, "step");
    if (!model || !input || !output)
      return cli_usage_error("model", "%s needs --model M, --input X and --output Y", action);
    if (is_step && steps < 1) return cli_usage_error("model", "step needs --steps S");
    rc = do_forward(model, input, output, threads, is_step ? steps : 0, (float)clip, lr, &err);
  } else if (!strcmp(action, "lrp")) {
    if (!model || !input || !output) return cli_usage_error("model", "lrp needs --model M, --input X and --output FILE.csv");
    rc = do_lrp(model, input, output, eps, &err);
  } else {
    return cli_usage_error("model", "unknown action '%s' (expected export, import, forward, step or lrp)", action);
  }
  if (rc) fprintf(stderr, "zhizeng model %s: %s\n", action, err.msg);
  return zz_exit_code(rc);
}
