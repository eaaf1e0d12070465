"""Random enhanced-index optimisation problems in the SPEC 11.1 directory format, and an independent
second-order-cone formulation of the same problem for cvxopt (used by ref_cvxopt.py and
bench/bench_optimize.py). Everything here is derived from SPEC 7 / 11.1, not from zhizeng's code."""
import os

import numpy as np


def make_problem(n, members, n_style=10, n_ind=28, seed=1, te_max=0.05, floor=0.8, prev=False,
                 turnover=0.2, untradable=0.0, active_max=0.01, weight_max=0.05, style_bound=0.5,
                 industry_bound=0.02, country=True, prev_far=False, unclassified=0.0, big_weight=0.0,
                 singleton_tiny_spec=False, prev_cash=0.0):
    """unclassified: share of stocks without an industry (one "unclassified" group, bounded by
    unclassified_bound); big_weight: the largest member's benchmark weight set to this (above
    weight_max: the cap must not sit below it); singleton_tiny_spec: one member alone in its industry
    with a specific variance of 1e-31 (what a risk model gives when the industry factor absorbs the
    stock's whole return)."""
    rng = np.random.default_rng(seed)
    codes = ["%06d.SH" % (600000 + i) if i % 2 == 0 else "%06d.SZ" % (1 + i) for i in range(n)]
    score = rng.standard_normal(n)
    bench = np.zeros(n)
    mem = rng.choice(n, size=members, replace=False)
    wm = rng.lognormal(0.0, 1.0, size=members)
    wm /= wm.sum()
    cap = min(0.04, weight_max * 0.8)
    for _ in range(50):
        wm = np.minimum(wm, cap)
        wm /= wm.sum()
    bench[mem] = wm
    if big_weight > 0:  # one member far above the absolute cap, the rest scaled down
        top = mem[int(np.argmax(wm))]
        rest = bench.sum() - bench[top]
        bench *= (1 - big_weight) / rest
        bench[top] = big_weight
    style = rng.standard_normal((n, n_style))
    style[:, 0] = 0.6 * style[:, 0] + 0.8 * np.log(1e-4 + bench * 50 + rng.random(n)) / 3  # size-like
    ind = rng.integers(0, n_ind, size=n)
    ind[:n_ind] = np.arange(n_ind)  # every industry has a stock
    style_names = ["style%02d" % k for k in range(n_style)]
    ind_names = ["ind%02d" % j for j in range(n_ind)]
    spec_override = {}
    if singleton_tiny_spec:  # a member alone in a new industry, with the degenerate variance
        i1 = int(mem[0])
        ind_names.append("ind_single")
        ind[i1] = n_ind
        n_ind += 1
        spec_override[i1] = 1.2e-31
    if unclassified > 0:  # most of the market without an industry, as on vendor data
        ind_names.append("unclassified")
        k = rng.random(n) < unclassified
        k[:n_ind] = False
        for i in spec_override:
            k[i] = False
        ind[k] = n_ind
        n_ind += 1
    names = style_names + ind_names + (["country"] if country else [])
    nf = len(names)
    vol = np.concatenate([rng.uniform(0.02, 0.06, n_style), rng.uniform(0.05, 0.15, n_ind),
                          [0.2] if country else []])
    G = rng.standard_normal((nf, nf)) * 0.5
    C = G @ G.T + np.eye(nf) * nf * 0.25
    d = np.sqrt(np.diag(C))
    C = C / np.outer(d, d)
    F = np.outer(vol, vol) * C
    F = (F + F.T) / 2
    spec = rng.uniform(0.2, 0.5, n) ** 2
    for i, v in spec_override.items():
        spec[i] = v
    w0 = None
    if prev:
        if prev_far:  # an old book: another random benchmark-like portfolio
            w0 = np.zeros(n)
            k = rng.choice(n, size=max(members // 2, 10), replace=False)
            w0[k] = rng.random(len(k)) + 0.1
        else:
            w0 = bench * rng.uniform(0.6, 1.4, n)
            extra = rng.choice(n, size=max(n // 20, 2), replace=False)
            w0[extra] += rng.uniform(0.0, 0.004, len(extra))
        w0 /= w0.sum()
        w0 *= 1.0 - prev_cash  # a real book holds some cash: sum(w0) = 1 - cash0
    can_buy = np.ones(n, dtype=int)
    can_sell = np.ones(n, dtype=int)
    if untradable > 0:
        k = int(round(untradable * n))
        nb = rng.choice(n, size=k, replace=False)
        ns = rng.choice(n, size=k, replace=False)
        can_buy[nb] = 0
        can_sell[ns] = 0
    return dict(codes=codes, score=score, bench=bench, style=style, style_names=style_names, ind=ind,
                ind_names=ind_names, names=names, F=F, spec=spec, prev=w0, can_buy=can_buy,
                can_sell=can_sell, country=country,
                limits=dict(style_bound=style_bound, industry_bound=industry_bound, te_max=te_max,
                            constituent_floor=floor, turnover_max=turnover, active_max=active_max,
                            weight_max=weight_max, cash=0.0))


def read_problem(d):
    """A SPEC 11.1 directory into the dictionary make_problem returns (for the shared cases)."""
    import configparser
    import csv

    def rows(name):
        with open(os.path.join(d, name), newline="") as f:
            r = list(csv.reader(f))
        return r[0], r[1:]

    _, a = rows("alpha.csv")
    codes = [x[0].strip() for x in a]
    pos = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    score = np.array([float(x[1]) for x in a])

    def weights(name):
        w = np.zeros(n)
        if not os.path.exists(os.path.join(d, name)):
            return None
        for x in rows(name)[1]:
            w[pos[x[0].strip()]] = float(x[1])
        return w

    bench = weights("benchmark.csv")
    prev = weights("previous.csv")
    h, ex = rows("exposures.csv")
    style_names = [x.strip() for x in h[1:]]
    style = np.zeros((n, len(style_names)))
    for x in ex:
        style[pos[x[0].strip()]] = [float(v) for v in x[1:]]
    ind_names, ind = [], np.zeros(n, dtype=int)
    for x in rows("industry.csv")[1]:
        name = x[1].strip() or "unclassified"
        if name.lower() == "unclassified":
            name = "unclassified"
        if name not in ind_names:
            ind_names.append(name)
        ind[pos[x[0].strip()]] = ind_names.index(name)
    h, fr = rows("factor_cov.csv")
    cols = [x.strip() for x in h[1:]]
    country = "country" in cols
    names = style_names + ind_names + (["country"] if country else [])
    F = np.zeros((len(names), len(names)))
    for x in fr:
        if x[0].strip() not in names:
            raise ValueError("factor_cov.csv: unknown factor %s" % x[0])
        a_ = names.index(x[0].strip())
        for j, c in enumerate(cols):
            F[a_, names.index(c)] = float(x[j + 1])
    spec = np.zeros(n)
    for x in rows("specific_var.csv")[1]:
        spec[pos[x[0].strip()]] = float(x[1])
    can_buy, can_sell = np.ones(n, dtype=int), np.ones(n, dtype=int)
    if os.path.exists(os.path.join(d, "tradable.csv")):
        for x in rows("tradable.csv")[1]:
            i = pos[x[0].strip()]
            can_buy[i], can_sell[i] = int(x[1]), int(x[2])
    lim = dict(style_bound=0.5, industry_bound=0.02, te_max=0.05, constituent_floor=0.8, turnover_max=0.2,
               active_max=0.01, weight_max=0.05, cash=0.0)
    cp = configparser.ConfigParser()
    cp.read(os.path.join(d, "limits.ini"))
    if cp.has_section("limits"):
        for k, v in cp.items("limits"):
            lim[k] = float(v)
    return dict(codes=codes, score=score, bench=bench, style=style, style_names=style_names, ind=ind,
                ind_names=ind_names, names=names, F=F, spec=spec, prev=prev, can_buy=can_buy,
                can_sell=can_sell, country=country, limits=lim)


def repaired_spec(P):
    """SPEC 7 round 2 / docs/optimizer.md: specific variances below spec_var_floor (1e-4) are raised."""
    return np.maximum(P["spec"], P["limits"].get("spec_var_floor", 1e-4))


def group_bounds(P, L):
    """Active-weight bound of each industry group: unclassified_bound (0.05) for "unclassified"."""
    return np.array([L.get("unclassified_bound", 0.05) if nm.lower() == "unclassified" else L["industry_bound"]
                     for nm in P["ind_names"]])


def write_problem(P, d, tradable=True):
    os.makedirs(d, exist_ok=True)
    r = repr
    n = len(P["codes"])
    with open(os.path.join(d, "alpha.csv"), "w") as f:
        f.write("code,score\n")
        for i in range(n):
            f.write("%s,%s\n" % (P["codes"][i], r(float(P["score"][i]))))
    with open(os.path.join(d, "benchmark.csv"), "w") as f:
        f.write("code,weight\n")
        for i in range(n):
            if P["bench"][i] > 0:
                f.write("%s,%s\n" % (P["codes"][i], r(float(P["bench"][i]))))
    if P["prev"] is not None:
        with open(os.path.join(d, "previous.csv"), "w") as f:
            f.write("code,weight\n")
            for i in range(n):
                if P["prev"][i] > 0:
                    f.write("%s,%s\n" % (P["codes"][i], r(float(P["prev"][i]))))
    with open(os.path.join(d, "exposures.csv"), "w") as f:
        f.write("code," + ",".join(P["style_names"]) + "\n")
        for i in range(n):
            f.write(P["codes"][i] + "," + ",".join(r(float(x)) for x in P["style"][i]) + "\n")
    with open(os.path.join(d, "industry.csv"), "w") as f:
        f.write("code,industry\n")
        for i in range(n):
            f.write("%s,%s\n" % (P["codes"][i], P["ind_names"][P["ind"][i]]))
    with open(os.path.join(d, "factor_cov.csv"), "w") as f:
        f.write("factor," + ",".join(P["names"]) + "\n")
        for a, name in enumerate(P["names"]):
            f.write(name + "," + ",".join(r(float(x)) for x in P["F"][a]) + "\n")
    with open(os.path.join(d, "specific_var.csv"), "w") as f:
        f.write("code,var\n")
        for i in range(n):
            f.write("%s,%s\n" % (P["codes"][i], r(float(P["spec"][i]))))
    if tradable:
        with open(os.path.join(d, "tradable.csv"), "w") as f:
            f.write("code,can_buy,can_sell\n")
            for i in range(n):
                f.write("%s,%d,%d\n" % (P["codes"][i], P["can_buy"][i], P["can_sell"][i]))
    with open(os.path.join(d, "limits.ini"), "w") as f:
        f.write("[limits]\n")
        for k, v in P["limits"].items():
            f.write("%s = %s\n" % (k, r(float(v))))


def exposure_matrix(P):
    """n x nf exposures: styles, one-hot industries, country."""
    n = len(P["codes"])
    X = np.zeros((n, len(P["names"])))
    ns = len(P["style_names"])
    X[:, :ns] = P["style"]
    X[np.arange(n), ns + P["ind"]] = 1.0
    if P["country"]:
        X[:, -1] = 1.0
    return X


def stock_bounds(P):
    L = P["limits"]
    b = P["bench"]
    hi = np.minimum(b + L["active_max"], np.maximum(L["weight_max"], b))  # the cap never below w_b
    lo = np.zeros_like(b)
    w0 = P["prev"] if P["prev"] is not None else np.zeros_like(b)
    nb = P["can_buy"] == 0
    hi[nb] = np.minimum(hi[nb], w0[nb])
    if P["prev"] is not None:
        nsell = P["can_sell"] == 0
        lo[nsell] = np.maximum(lo[nsell], w0[nsell])
    hi = np.maximum(hi, lo)  # a position that cannot be sold may stay above the cap
    return lo, hi


def te(P, w):
    X = exposure_matrix(P)
    a = w - P["bench"]
    e = X.T @ a
    return float(np.sqrt(e @ P["F"] @ e + np.sum(repaired_spec(P) * a * a)))


def check_constraints(P, w, lim=None):
    """Largest violation of each limit (fractions), and TE / te_max."""
    L = lim or P["limits"]
    lo, hi = stock_bounds(P)
    X = exposure_matrix(P)
    a = w - P["bench"]
    ns = len(P["style_names"])
    nind = len(P["ind_names"])
    e = X.T @ a
    v = {}
    v["bounds"] = float(max(np.max(lo - w), np.max(w - hi), 0.0))
    v["budget"] = abs(float(w.sum()) - (1 - L.get("cash", 0.0)))
    v["style"] = float(max(np.max(np.abs(e[:ns])) - L["style_bound"], 0.0)) if ns else 0.0
    v["industry"] = float(max(np.max(np.abs(e[ns:ns + nind]) - group_bounds(P, L)), 0.0))
    v["floor"] = float(max(L["constituent_floor"] - w[P["bench"] > 0].sum(), 0.0))
    if P["prev"] is not None:  # cash is a position: 1/2 (sum|w - w0| + |cash - cash0|)
        dc = abs((1.0 - w.sum()) - (1.0 - P["prev"].sum()))
        v["turnover"] = float(max(0.5 * (np.abs(w - P["prev"]).sum() + dc) - L["turnover_max"], 0.0))
    else:
        v["turnover"] = 0.0
    v["te_ratio"] = te(P, w) / L["te_max"] if L["te_max"] > 0 else 0.0
    return v


def sparse_kkt_solver(Gv, Gr, Gc, gshape, Av, Ar, Ac, ashape, dims):
    """A KKT solver for cvxopt's conelp that keeps the reduced system sparse (cvxopt's own solvers
    for cone programs are dense): S = G' W^-1 W^-T G is built with scipy.sparse, using
    W_k^-1 = (2 Jv v'J - J) / beta for each second-order cone, factored by SuperLU; the equality
    rows are eliminated through the small dense K = A S^-1 A'."""
    import scipy.linalg as sla
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla
    from cvxopt import matrix, misc

    G = sp.csr_matrix((np.asarray(Gv, float), (np.asarray(Gr), np.asarray(Gc))), shape=gshape)
    A = sp.csr_matrix((np.asarray(Av, float), (np.asarray(Ar), np.asarray(Ac))), shape=ashape)
    ml = dims["l"]
    qd = np.asarray(dims["q"], dtype=int)
    Gl = G[:ml]
    Gq = G[ml:]
    nq = int(qd.sum())
    cone_of_row = np.repeat(np.arange(len(qd)), qd)
    first = np.concatenate([[0], np.cumsum(qd)[:-1]])
    jsign = -np.ones(nq)
    jsign[first] = 1.0
    B = sp.csr_matrix((np.ones(nq), (np.arange(nq), cone_of_row)), shape=(nq, len(qd)))

    def factor(W):
        di = np.array(W["di"]).ravel()
        Gls = sp.diags(di) @ Gl
        parts = [Gls]
        if nq:
            v = np.concatenate([np.array(vk).ravel() for vk in W["v"]])
            beta = np.array([float(bk) for bk in W["beta"]])
            jv = jsign * v
            R = B.T @ (sp.diags(jv) @ Gq)             # (Jv)' G_k, one row per cone
            Gqs = 2.0 * (sp.diags(jv) @ (B @ R)) - sp.diags(jsign) @ Gq
            Gqs = sp.diags(1.0 / beta[cone_of_row]) @ Gqs
            parts.append(Gqs)
        Gs = sp.vstack(parts).tocsr()
        S = (Gs.T @ Gs).tocsr()
        # the sparse saddle-point system [S A'; A 0], factored by SuperLU (dense rows of A are few)
        Kkt = sp.bmat([[S, A.T], [A, None]], format="csc")
        lu = spla.splu(Kkt, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))
        nx = S.shape[0]

        def solve(x, y, z):
            # r = bx + G' W^-1 W^-T bz
            zz = matrix(z)
            misc.scale(zz, W, trans="T", inverse="I")
            zs = np.array(zz).ravel()
            rhs = np.concatenate([np.array(x).ravel() + Gs.T @ zs, np.array(y).ravel()])
            sol = lu.solve(rhs)
            sol += lu.solve(rhs - Kkt @ sol)  # one step of iterative refinement
            ux, uy = sol[:nx], sol[nx:]
            wz = Gs @ ux - zs
            x[:] = matrix(ux)
            y[:] = matrix(uy)
            z[:] = matrix(wz)

        return solve

    return factor


def solve_cvxopt(P, lim=None, tol=1e-9):
    """The same problem as a second-order cone program for cvxopt's conelp, kept sparse so that
    thousands of stocks stay fast: exposures e = X'w, factor coordinates u = L'X'(w - wb) / te_max and
    the dense sums (budget, floor, turnover, TE budget) are equality rows with slacks; the TE cone is
    lifted as |u|^2 <= t0 and D_i a_i^2 / te_max^2 <= z_i (rotated 3-cones), t0 + sum z <= 1.
    Returns (weights, objective, seconds)."""
    import time

    from cvxopt import matrix, solvers, spmatrix

    L = lim or P["limits"]
    n = len(P["codes"])
    X = exposure_matrix(P)
    ns = len(P["style_names"])
    nind = len(P["ind_names"])
    lo, hi = stock_bounds(P)
    T = L["te_max"]
    use_te = T > 0
    turn = P["prev"] is not None
    floor = L["constituent_floor"] > 0
    try:
        Lc = np.linalg.cholesky(P["F"])
    except np.linalg.LinAlgError:  # positive semi-definite (e.g. a factor with no variance): any square root
        ev, V = np.linalg.eigh((P["F"] + P["F"].T) / 2)
        Lc = V * np.sqrt(np.clip(ev, 0, None))
    M = Lc.T @ X.T  # nf x n
    nf = M.shape[0]
    ne = ns + nind
    # variable layout
    off = {}
    k = 0
    for name, size in (("w", n), ("b", n if turn else 0), ("s", n if turn else 0), ("e", ne), ("z", n if use_te else 0),
                       ("u", nf if use_te else 0), ("t0", 1 if use_te else 0), ("sT", 1 if turn else 0),
                       ("sF", 1 if floor else 0), ("sE", 1 if use_te else 0)):
        off[name] = k
        k += size
    nx = k
    Gr, Gc, Gv, h = [], [], [], []
    r = 0

    def grow(cs, vs, rhs):
        nonlocal r
        Gr.extend([r] * len(cs))
        Gc.extend(cs)
        Gv.extend(vs)
        h.append(rhs)
        r += 1

    Ar, Ac, Av, b = [], [], [], []
    ra = 0

    def arow(cs, vs, rhs):
        nonlocal ra
        Ar.extend([ra] * len(cs))
        Ac.extend(cs)
        Av.extend(vs)
        b.append(rhs)
        ra += 1

    W = off["w"]
    fixed = hi - lo <= 1e-15  # no interior: equality rows, not a pair of inequalities
    for i in range(n):
        if not fixed[i]:
            grow([W + i], [-1.0], -lo[i])
            grow([W + i], [1.0], hi[i])
    eb = X.T @ P["bench"]
    gb = group_bounds(P, L)
    for g in range(ne):
        bound = L["style_bound"] if g < ns else gb[g - ns]
        grow([off["e"] + g], [1.0], eb[g] + bound)
        grow([off["e"] + g], [-1.0], -eb[g] + bound)
    if turn:  # buys and sells: w - b + s = w0 (equality rows below), b, s >= 0
        for i in range(n):
            grow([off["b"] + i], [-1.0], 0.0)
            grow([off["s"] + i], [-1.0], 0.0)
        grow([off["sT"]], [-1.0], 0.0)
    if floor:
        grow([off["sF"]], [-1.0], 0.0)
    if use_te:
        grow([off["sE"]], [-1.0], 0.0)
    nl = r
    qdims = []
    if use_te:
        # |u|^2 <= t0:  | (2u, t0 - 1) | <= t0 + 1
        grow([off["t0"]], [-1.0], 1.0)
        for f in range(nf):
            grow([off["u"] + f], [-2.0], 0.0)
        grow([off["t0"]], [-1.0], -1.0)
        qdims.append(nf + 2)
        sd = np.sqrt(repaired_spec(P)) / T
        for i in range(n):
            grow([off["z"] + i], [-1.0], 1.0)
            grow([W + i], [-2.0 * sd[i]], -2.0 * sd[i] * P["bench"][i])
            grow([off["z"] + i], [-1.0], -1.0)
            qdims.append(3)
    # equalities
    arow(list(range(W, W + n)), [1.0] * n, 1.0 - L.get("cash", 0.0))
    for i in np.nonzero(fixed)[0]:
        arow([W + int(i)], [1.0], lo[i])
    for g in range(ne):
        nz = np.nonzero(X[:, g])[0]
        arow([off["e"] + g] + [W + i for i in nz], [1.0] + list(-X[nz, g]), 0.0)
    if use_te:
        mb = M @ P["bench"] / T
        for f in range(nf):
            arow([off["u"] + f] + list(range(W, W + n)), [1.0] + list(-M[f] / T), -mb[f])
        arow([off["t0"], off["sE"]] + list(range(off["z"], off["z"] + n)), [1.0, 1.0] + [1.0] * n, 1.0)
    if turn:
        for i in range(n):
            arow([W + i, off["b"] + i, off["s"] + i], [1.0, -1.0, 1.0], P["prev"][i])
        # cash counted as a position: |cash - cash0| is fixed by the budget and uses turnover
        dc = abs(L.get("cash", 0.0) - (1.0 - float(P["prev"].sum())))
        arow([off["sT"]] + list(range(off["b"], off["b"] + 2 * n)), [1.0] + [1.0] * (2 * n),
             2 * L["turnover_max"] - dc)
    if floor:
        m = [W + i for i in range(n) if P["bench"][i] > 0]
        arow(m + [off["sF"]], [1.0] * len(m) + [-1.0], L["constituent_floor"])
    G = spmatrix([float(x) for x in Gv], Gr, [int(x) for x in Gc], (r, nx))
    A = spmatrix([float(x) for x in Av], Ar, [int(x) for x in Ac], (ra, nx))
    h = [float(x) for x in h]
    b = [float(x) for x in b]
    c = np.zeros(nx)
    c[W:W + n] = -P["score"]
    dims = {"l": nl, "q": qdims, "s": []}
    solvers.options["show_progress"] = False
    solvers.options["abstol"] = tol
    solvers.options["reltol"] = tol
    solvers.options["feastol"] = tol
    solvers.options["maxiters"] = 200
    t0 = time.perf_counter()
    kkt = sparse_kkt_solver(Gv, Gr, Gc, (r, nx), Av, Ar, Ac, (ra, nx), dims)
    sol = solvers.conelp(matrix(c), G, matrix(h), dims, A, matrix(b), kktsolver=kkt)
    dt = time.perf_counter() - t0
    rg = sol["relative gap"]
    near = (sol["status"] == "unknown" and rg is not None and rg < max(1e-6, 10 * tol)
            and sol["primal infeasibility"] < max(1e-7, 10 * tol) and sol["dual infeasibility"] < max(1e-7, 10 * tol))  # stalled just short of tol: accurate enough for 1e-3
    if sol["status"] != "optimal" and not near:
        raise RuntimeError("cvxopt: %s after %d iterations (gap %.3g, relative gap %s, primal infeasibility %.3g, "
                           "dual infeasibility %.3g)" % (sol["status"], sol["iterations"], sol["gap"],
                                                         sol["relative gap"], sol["primal infeasibility"],
                                                         sol["dual infeasibility"]))
    w = np.array(sol["x"]).ravel()[W:W + n]
    solve_cvxopt.iterations = sol["iterations"]
    return w, float(P["score"] @ w), dt


def read_weights(path, codes):
    pos = {c: i for i, c in enumerate(codes)}
    w = np.full(len(codes), np.nan)
    with open(path) as f:
        assert f.readline().strip() == "code,weight"
        for line in f:
            c, v = line.strip().split(",")
            w[pos[c]] = float(v)
    assert not np.isnan(w).any(), "weights file misses codes"
    return w


def read_diag(path):
    out, sec = {}, ""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                sec = line[1:-1]
            elif "=" in line:
                k, v = line.split("=", 1)
                out[sec + "." + k.strip()] = v.strip()
    return out
