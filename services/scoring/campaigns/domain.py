"""Pure rules of a campaign's report: estimates for the whole register from a stratified random
sample, with their margins of error. No I/O, no clock.

The sample is stratified: in stratum h the register holds N_h holders, of whom r_h took part (the
invited who consented and were verified). Non-response is taken to be at random within a stratum,
so each respondent stands for N_h / r_h holders (their weight). A mean over the register is the
stratified estimator  Σ W_h ȳ_h  with W_h = N_h / N, its variance  Σ W_h² (1 − r_h/N_h) s_h² / r_h
(Cochran, Sampling Techniques, ch. 5); a mean within a group (an age band, a district) is a ratio of
two such estimates, its variance by linearisation. Margins are for 95 % confidence (±1.96 standard
errors). A stratum without respondents cannot be estimated: its share of the register is left out
and reported (`covered`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the normal quantile for a two-sided 95 % interval


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float  # its standard error

    @property
    def margin(self) -> float:
        """Half the width of the 95 % interval."""
        return Z95 * self.se

    def doc(self, digits: int = 4) -> dict[str, float]:
        return {"value": round(self.value, digits), "margin": round(self.margin, digits), "se": round(self.se, digits)}


@dataclass(frozen=True)
class Sample:
    """Respondents' strata (index into the plan) and the register's size of every stratum."""

    stratum: np.ndarray  # per respondent
    sizes: np.ndarray  # per stratum: N_h

    @property
    def respondents(self) -> np.ndarray:
        """r_h per stratum."""
        return np.bincount(self.stratum, minlength=len(self.sizes))

    @property
    def present(self) -> np.ndarray:
        return self.respondents > 0

    @property
    def covered(self) -> float:
        """The share of the register in strata with respondents: what the estimates speak for."""
        total = self.sizes.sum()
        return float(self.sizes[self.present].sum() / total) if total else 0.0

    def weights(self) -> np.ndarray:
        """Per respondent: how many holders of the register they stand for (N_h / r_h)."""
        per_stratum = self.sizes / np.maximum(self.respondents, 1)
        return np.asarray(per_stratum[self.stratum], dtype=np.float64)


def mean(y: np.ndarray, sample: Sample) -> Estimate:
    """The register's mean of y, from the respondents' values (in the order of `sample.stratum`)."""
    y = np.asarray(y, dtype=np.float64)
    r = sample.respondents
    present = sample.present
    if not present.any():
        return Estimate(float("nan"), float("nan"))
    sizes = sample.sizes.astype(np.float64)
    w = np.where(present, sizes, 0.0) / sizes[present].sum()
    sums = np.bincount(sample.stratum, weights=y, minlength=len(sizes))
    means = np.divide(sums, r, out=np.zeros_like(sums), where=r > 0)
    squares = np.bincount(sample.stratum, weights=(y - means[sample.stratum]) ** 2, minlength=len(sizes))
    # A stratum of one respondent has no spread to measure: it adds nothing to the variance.
    s2 = np.divide(squares, r - 1, out=np.zeros_like(squares), where=r > 1)
    fpc = np.where(present, 1.0 - r / np.maximum(sizes, 1.0), 0.0)
    variance = float(np.sum(np.divide(w**2 * fpc * s2, r, out=np.zeros_like(s2), where=r > 0)))
    return Estimate(float(np.sum(w * means)), float(np.sqrt(max(variance, 0.0))))


def ratio(y: np.ndarray, x: np.ndarray, sample: Sample) -> Estimate:
    """The register's Σy / Σx (e.g. a group's mean: y = value × in-group, x = in-group), its
    standard error by linearisation: the stratified variance of (y − R x) / x̄."""
    y, x = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    mx = mean(x, sample).value
    if not mx or np.isnan(mx):
        return Estimate(float("nan"), float("nan"))
    value = mean(y, sample).value / mx
    return Estimate(value, mean((y - value * x) / mx, sample).se)


def quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    """The weighted quantile: the smallest value at or below which at least `q` of the weight lies."""
    if len(values) == 0:
        return None
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    at = int(np.searchsorted(cum, q * cum[-1] - 1e-9))
    return float(values[order][min(at, len(values) - 1)])
