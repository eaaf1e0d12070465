/* nn_adam.c — torch.optim.Adam (no weight decay, amsgrad off) and clip_grad_value_, single loops over the
 * contiguous parameter / gradient / moment buffers. */
#include "model.h"

#include <math.h>

nn_adam_config nn_adam_default(void) {
  nn_adam_config c = {1e-3, 0.9, 0.999, 1e-8};
  return c;
}

void nn_clip_grad_value(nn_model *m, float clip) {
  for (size_t k = 0; k < m->n_params; k++) {
    float g = m->grads[k];
    m->grads[k] = g > clip ? clip : (g < -clip ? -clip : g);
  }
}

void nn_adam_step(nn_model *m, const nn_adam_config *c) {
  m->adam_step++;
  double t = (double)m->adam_step;
  double bc1 = 1.0 - pow(c->beta1, t), bc2 = 1.0 - pow(c->beta2, t);
  double step_size = c->lr / bc1, sq_bc2 = sqrt(bc2);
  float b1 = (float)c->beta1, b2 = (float)c->beta2;
  for (size_t k = 0; k < m->n_params; k++) {
    float g = m->grads[k];
    float mk = b1 * m->adam_m[k] + (1.0f - b1) * g;
    float vk = b2 * m->adam_v[k] + (1.0f - b2) * g * g;
    m->adam_m[k] = mk;
    m->adam_v[k] = vk;
    double denom = sqrt((double)vk) / sq_bc2 + c->eps;
    m->params[k] = (float)((double)m->params[k] - step_size * (double)mk / denom);
  }
}
