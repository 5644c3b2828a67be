"""A campaign's estimates from a stratified sample: the figures worked out by hand on small data,
and the 95 % margin covering the true mean about 95 % of the time on a known population."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.scoring.campaigns import domain


def test_a_stratified_mean_and_its_margin_by_hand():
    # Stratum 0: 100 holders, respondents 1, 2, 3 (mean 2, s² 1); stratum 1: 300, respondents 10, 10, 12, 12
    # (mean 11, s² 4/3). W = 0.25, 0.75.
    sample = domain.Sample(np.array([0, 0, 0, 1, 1, 1, 1]), np.array([100, 300]))
    e = domain.mean(np.array([1, 2, 3, 10, 10, 12, 12]), sample)
    assert e.value == pytest.approx(0.25 * 2 + 0.75 * 11)  # 8.75
    variance = 0.25**2 * (1 - 3 / 100) * 1 / 3 + 0.75**2 * (1 - 4 / 300) * (4 / 3) / 4
    assert e.se == pytest.approx(math.sqrt(variance))
    assert e.margin == pytest.approx(1.959963984540054 * math.sqrt(variance))


def test_weights_are_holders_per_respondent():
    sample = domain.Sample(np.array([0, 0, 1, 1, 1, 1]), np.array([100, 300]))
    assert sample.weights().tolist() == [50, 50, 75, 75, 75, 75]
    assert sample.weights().sum() == 400  # the register, whole


def test_a_census_of_every_stratum_has_no_margin():
    sample = domain.Sample(np.array([0, 0, 1, 1, 1]), np.array([2, 3]))
    e = domain.mean(np.array([4.0, 6.0, 1.0, 2.0, 3.0]), sample)
    assert e.value == pytest.approx((10 + 6) / 5) and e.se == 0.0


def test_a_stratum_without_respondents_is_left_out_and_said_so():
    sample = domain.Sample(np.array([0, 0]), np.array([100, 300]))
    assert sample.covered == pytest.approx(0.25)
    assert domain.mean(np.array([1.0, 3.0]), sample).value == pytest.approx(2.0)


def test_a_group_mean_is_a_ratio_of_estimates():
    # Two strata of equal size; the group is the first respondent of each stratum.
    sample = domain.Sample(np.array([0, 0, 1, 1]), np.array([50, 50]))
    y = np.array([10.0, 0.0, 30.0, 0.0])
    x = np.array([1.0, 0.0, 1.0, 0.0])
    assert domain.ratio(y * x, x, sample).value == pytest.approx(20.0)
    assert domain.ratio(y * x, x, sample).se > 0


def test_a_weighted_quantile():
    values = np.array([10.0, 20.0, 30.0, 40.0])
    assert domain.quantile(values, np.array([1.0, 1.0, 1.0, 1.0]), 0.5) == 20.0
    assert domain.quantile(values, np.array([1.0, 1.0, 1.0, 5.0]), 0.5) == 40.0
    assert domain.quantile(np.array([]), np.array([]), 0.5) is None


def test_the_margin_covers_the_true_mean_about_95_percent_of_the_time():
    """A known register of three unequal strata; 400 stratified samples of 30 a stratum."""
    rng = np.random.default_rng(20)
    register = [rng.normal(100, 10, 2000), rng.normal(150, 40, 500), rng.gamma(2.0, 30.0, 1500)]
    truth = np.concatenate(register).mean()
    sizes = np.array([len(s) for s in register])
    covered = 0
    for _ in range(400):
        values = np.concatenate([rng.choice(s, 30, replace=False) for s in register])
        sample = domain.Sample(np.repeat(np.arange(3), 30), sizes)
        e = domain.mean(values, sample)
        covered += abs(e.value - truth) <= e.margin
    assert 0.91 <= covered / 400 <= 0.99, covered
