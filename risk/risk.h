/* risk.h — zhizeng's Barra-style (CNE5) equity risk model: style and industry exposures, daily
 * cross-sectional factor-return regressions, factor covariance and specific variance, and the
 * cross-sectional neutralisation used by the model's labels. See docs/risk_model.md.
 *
 * All arrays are double; cross-sections are one date's n_stocks values of a panel (data/data.h). */
#ifndef ZZ_RISK_H
#define ZZ_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"

/* ------------------------------------------------------------ neutralisation */

/* Residual of the OLS regression of y on industry dummies and log_cap for one date's cross-section
 * of n stocks: resid = y - (a_industry + b * log_cap). Rows with valid[i] == 0 (valid may be NULL:
 * all valid) or non-finite y / log_cap are excluded and get resid = NaN. industry[i] in
 * [0, n_industries) or -1 (= unclassified, its own dummy); the intercept lies in the dummies.
 * When log_cap does not vary within industries its coefficient is 0. Returns ZZ_OK, ZZ_EUSAGE for
 * an industry out of range, ZZ_ENOMEM. */
int risk_neutralise(int n, const double *y, const uint8_t *valid, const int16_t *industry,
                    int n_industries, const double *log_cap, double *resid, zz_err *err);

#endif
