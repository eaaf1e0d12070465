/* nn_params.c — the model object: config, ONE contiguous parameter buffer with named views in PyTorch
 * state_dict order, parallel gradient and Adam buffers, PyTorch-like initialisation from a seed. */
#include "model.h"
#include "nn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nn_config nn_config_default(int input_size) {
  nn_config c;
  memset(&c, 0, sizeof c);
  c.cell = NN_GRU;
  c.layers = 1;
  c.hidden = 64;
  c.input_size = input_size;
  c.outputs = 1;
  c.head = NN_HEAD_UNIVARIATE;
  c.lambda = 1.0;
  for (int k = 0; k < NN_CLASSES; k++) c.class_weight[k] = 1.0;
  c.dropout = 0.1;
  c.act_epsilon = 0.1;
  c.act_max_steps = 30;
  c.act_tau = 1e-3;
  return c;
}

const char *nn_cell_name(nn_cell c) { return c == NN_ACT_LSTM ? "act_lstm" : c == NN_LSTM ? "lstm" : "gru"; }

int nn_cell_parse(const char *s) {
  if (!strcmp(s, "gru")) return NN_GRU;
  if (!strcmp(s, "lstm")) return NN_LSTM;
  if (!strcmp(s, "act_lstm")) return NN_ACT_LSTM;
  return -1;
}
const char *nn_head_name(nn_head_kind h) {
  return h == NN_HEAD_MULTIVARIATE ? "multivariate" : h == NN_HEAD_CLASS3 ? "class3" : "univariate";
}

int nn_head_parse(const char *s) {
  if (!strcmp(s, "univariate")) return NN_HEAD_UNIVARIATE;
  if (!strcmp(s, "multivariate")) return NN_HEAD_MULTIVARIATE;
  if (!strcmp(s, "class3")) return NN_HEAD_CLASS3;
  return -1;
}

int nn_class_weights_parse(const char *s, double w[NN_CLASSES], zz_err *err) {
  const char *q = s;
  double v[NN_CLASSES];
  for (int k = 0; k < NN_CLASSES; k++) {
    char *end;
    v[k] = strtod(q, &end);
    if (end == q || !isfinite(v[k]) || !(v[k] > 0) || *end != (k + 1 < NN_CLASSES ? ',' : '\0'))
      return zz_fail(err, ZZ_EUSAGE, "class weights '%s': expected three numbers > 0, 'down,neutral,up'", s);
    q = end + 1;
  }
  for (int k = 0; k < NN_CLASSES; k++) w[k] = v[k];
  return ZZ_OK;
}

int nn_config_check(const nn_config *c, zz_err *err) {
  if (c->cell != NN_GRU && c->cell != NN_LSTM && c->cell != NN_ACT_LSTM)
    return zz_fail(err, ZZ_EUSAGE, "model cell must be gru, lstm or act_lstm");
  if (c->layers < 1 || c->layers > 2)
    return zz_fail(err, ZZ_EUSAGE, "model layers must be 1 or 2, found %d", c->layers);
  if (c->cell == NN_ACT_LSTM) {
    if (c->layers != 1)
      return zz_fail(err, ZZ_EUSAGE, "the act_lstm cell has 1 layer (set model layers = 1), found %d", c->layers);
    if (!(c->act_epsilon > 0 && c->act_epsilon < 1))
      return zz_fail(err, ZZ_EUSAGE, "model act_epsilon must be in (0, 1), found %g", c->act_epsilon);
    if (c->act_max_steps < 1 || c->act_max_steps > 1000)
      return zz_fail(err, ZZ_EUSAGE, "model act_max_steps must be in 1..1000, found %d", c->act_max_steps);
    if (!(c->act_tau >= 0 && isfinite(c->act_tau)))
      return zz_fail(err, ZZ_EUSAGE, "model act_tau must be a finite number >= 0, found %g", c->act_tau);
  }
  if (c->hidden < 1 || c->hidden > 65536)
    return zz_fail(err, ZZ_EUSAGE, "model hidden size must be in 1..65536, found %d", c->hidden);
  if (c->input_size < 1 || c->input_size > 65536)
    return zz_fail(err, ZZ_EUSAGE, "model input_size must be in 1..65536, found %d", c->input_size);
  if (c->head != NN_HEAD_UNIVARIATE && c->head != NN_HEAD_MULTIVARIATE && c->head != NN_HEAD_CLASS3)
    return zz_fail(err, ZZ_EUSAGE, "model head must be univariate, multivariate or class3");
  if (c->head == NN_HEAD_UNIVARIATE && c->outputs != 1)
    return zz_fail(err, ZZ_EUSAGE, "the univariate head has 1 output, found outputs = %d", c->outputs);
  if (c->head == NN_HEAD_MULTIVARIATE && (c->outputs < 2 || c->outputs > 65536))
    return zz_fail(err, ZZ_EUSAGE, "the multivariate head needs outputs (K) in 2..65536, found %d", c->outputs);
  if (c->head == NN_HEAD_CLASS3 && c->outputs != NN_CLASSES)
    return zz_fail(err, ZZ_EUSAGE, "the class3 head has 3 outputs (down, neutral, up), found outputs = %d", c->outputs);
  for (int k = 0; k < NN_CLASSES; k++)
    if (!(c->class_weight[k] > 0 && isfinite(c->class_weight[k])))
      return zz_fail(err, ZZ_EUSAGE, "model class weight %d (%s) must be a finite number > 0, found %g", k,
                     k == NN_CLASS_DOWN ? "down" : k == NN_CLASS_NEUTRAL ? "neutral" : "up", c->class_weight[k]);
  if (!(c->lambda >= 0 && isfinite(c->lambda)))
    return zz_fail(err, ZZ_EUSAGE, "model lambda must be a finite number >= 0, found %g", c->lambda);
  if (!(c->dropout >= 0 && c->dropout < 1))
    return zz_fail(err, ZZ_EUSAGE, "model dropout must be in [0, 1), found %g", c->dropout);
  return ZZ_OK;
}

static void add_view(nn_model *m, const char *name, int d0, int d1) {
  nn_param_view *v = &m->views[m->n_views++];
  snprintf(v->name, sizeof v->name, "%s", name);
  v->offset = m->n_params;
  v->ndim = d1 > 0 ? 2 : 1;
  v->shape[0] = d0;
  v->shape[1] = d1 > 0 ? d1 : 0;
  v->size = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
  m->n_params += v->size;
}

int nn_create(nn_model **out, const nn_config *cfg, uint64_t seed, zz_err *err) {
  *out = NULL;
  int rc = nn_config_check(cfg, err);
  if (rc) return rc;
  nn_model *m = calloc(1, sizeof *m);
  if (!m) return zz_fail(err, ZZ_ENOMEM, "out of memory allocating a model");
  m->cfg = *cfg;
  int H = cfg->hidden, G = cfg->cell == NN_GRU ? 3 : 4;
  char name[32];
  for (int l = 0; l < cfg->layers; l++) {
    /* the ACT cell's input carries the first-ponder-step flag as one more column */
    int in = l == 0 ? cfg->input_size + (cfg->cell == NN_ACT_LSTM) : H;
    snprintf(name, sizeof name, "rnn.weight_ih_l%d", l);
    add_view(m, name, G * H, in);
    snprintf(name, sizeof name, "rnn.weight_hh_l%d", l);
    add_view(m, name, G * H, H);
    snprintf(name, sizeof name, "rnn.bias_ih_l%d", l);
    add_view(m, name, G * H, 0);
    snprintf(name, sizeof name, "rnn.bias_hh_l%d", l);
    add_view(m, name, G * H, 0);
  }
  if (cfg->cell == NN_ACT_LSTM) { /* the halting unit p = sigma(act.weight h + act.bias) */
    add_view(m, "act.weight", 1, H);
    add_view(m, "act.bias", 1, 0);
  }
  add_view(m, "head.weight", cfg->outputs, H);
  add_view(m, "head.bias", cfg->outputs, 0);
  m->params = calloc(m->n_params, sizeof(float));
  m->grads = calloc(m->n_params, sizeof(float));
  m->adam_m = calloc(m->n_params, sizeof(float));
  m->adam_v = calloc(m->n_params, sizeof(float));
  if (!m->params || !m->grads || !m->adam_m || !m->adam_v) {
    size_t n = m->n_params;
    nn_free(m);
    return zz_fail(err, ZZ_ENOMEM, "out of memory allocating %zu model parameters", n);
  }
  nn_init(m, seed);
  *out = m;
  return ZZ_OK;
}

void nn_free(nn_model *m) {
  if (!m) return;
  free(m->params);
  free(m->grads);
  free(m->adam_m);
  free(m->adam_v);
  free(m->preprocessing);
  free(m);
}

void nn_init(nn_model *m, uint64_t seed) {
  uint64_t s = seed;
  /* PyTorch: every RNN tensor ~ U(-1/sqrt(H), 1/sqrt(H)); nn.Linear(H, K): kaiming_uniform(a = sqrt(5))
   * gives weight bound 1/sqrt(fan_in), and bias bound 1/sqrt(fan_in); fan_in = H for both. */
  double bound = 1.0 / sqrt((double)m->cfg.hidden);
  for (size_t k = 0; k < m->n_params; k++) m->params[k] = (float)((2.0 * nn_u01(nn_splitmix64(&s)) - 1.0) * bound);
  memset(m->grads, 0, m->n_params * sizeof(float));
  memset(m->adam_m, 0, m->n_params * sizeof(float));
  memset(m->adam_v, 0, m->n_params * sizeof(float));
  m->adam_step = 0;
}

const nn_param_view *nn_param_find(const nn_model *m, const char *name) {
  for (int k = 0; k < m->n_views; k++)
    if (!strcmp(m->views[k].name, name)) return &m->views[k];
  return NULL;
}

int nn_set_preprocessing(nn_model *m, const char *s, zz_err *err) {
  char *c = NULL;
  if (s) {
    c = strdup(s);
    if (!c) return zz_fail(err, ZZ_ENOMEM, "out of memory copying the preprocessing description");
  }
  free(m->preprocessing);
  m->preprocessing = c;
  return ZZ_OK;
}

int nn_copy_params(nn_model *dst, const nn_model *src, zz_err *err) {
  if (dst->n_params != src->n_params || memcmp(&dst->cfg, &src->cfg, sizeof dst->cfg) != 0)
    return zz_fail(err, ZZ_EUSAGE, "cannot copy parameters between models of different configurations");
  memcpy(dst->params, src->params, src->n_params * sizeof(float));
  return ZZ_OK;
}
