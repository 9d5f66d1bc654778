"""mx.lr_scheduler against MXNet's formulas written out here."""
import math

import pytest

import mx
from mx import lr_scheduler as lrs


def test_factor_scheduler():
    s = lrs.FactorScheduler(step=3, factor=0.5, base_lr=1.0)
    for n in range(1, 20):
        # the rate drops after every `step` updates: n in (k*step, (k+1)*step] -> factor**k
        assert s(n) == pytest.approx(0.5 ** ((n - 1) // 3)), n


def test_factor_scheduler_stop_and_resume():
    s = lrs.FactorScheduler(step=1, factor=0.1, stop_factor_lr=1e-3, base_lr=1.0)
    assert s(1) == 1.0
    assert s(2) == pytest.approx(0.1)
    assert s(50) == pytest.approx(1e-3)  # jumps ahead (resume) and floors at stop_factor_lr
    s2 = lrs.FactorScheduler(step=10, factor=0.5, base_lr=0.8)
    assert s2(35) == pytest.approx(0.8 * 0.5 ** 3)


def test_factor_scheduler_warmup_linear_and_constant():
    s = lrs.FactorScheduler(step=5, factor=0.5, base_lr=1.0, warmup_steps=4, warmup_begin_lr=0.2)
    for n in range(4):
        assert s(n) == pytest.approx(0.2 + (1.0 - 0.2) * n / 4)
    assert s(4) == pytest.approx(1.0)
    s = lrs.FactorScheduler(step=5, factor=0.5, base_lr=1.0, warmup_steps=4, warmup_begin_lr=0.2,
                            warmup_mode="constant")
    assert [s(n) for n in range(4)] == [0.2] * 4


def test_multifactor_scheduler():
    s = lrs.MultiFactorScheduler(step=[3, 7, 10], factor=0.1, base_lr=2.0)
    for n in range(1, 16):
        k = sum(1 for st in (3, 7, 10) if n > st)
        assert s(n) == pytest.approx(2.0 * 0.1 ** k), n
    s = lrs.MultiFactorScheduler(step=[5], factor=0.5, base_lr=1.0, warmup_steps=2,
                                 warmup_begin_lr=0.5)
    assert s(0) == pytest.approx(0.5) and s(1) == pytest.approx(0.75)
    assert s(5) == 1.0 and s(6) == 0.5


def test_poly_scheduler():
    s = lrs.PolyScheduler(max_update=10, base_lr=1.0, pwr=2, final_lr=0.1)
    for n in range(0, 15):
        m = min(n, 10)
        assert s(n) == pytest.approx(0.1 + 0.9 * (1 - m / 10) ** 2), n
    s = lrs.PolyScheduler(max_update=12, base_lr=1.0, pwr=1, warmup_steps=2, warmup_begin_lr=0.0)
    assert s(0) == 0.0 and s(1) == pytest.approx(0.5)
    for n in range(2, 13):
        assert s(n) == pytest.approx((1 - (n - 2) / 10.0)), n


def test_cosine_scheduler():
    s = lrs.CosineScheduler(max_update=20, base_lr=0.5, final_lr=0.05)
    for n in range(0, 25):
        m = min(n, 20)
        assert s(n) == pytest.approx(0.05 + 0.45 * (1 + math.cos(math.pi * m / 20)) / 2), n
    s = lrs.CosineScheduler(max_update=13, base_lr=1.0, warmup_steps=3, warmup_begin_lr=0.1,
                            warmup_mode="linear")
    assert s(0) == pytest.approx(0.1) and s(2) == pytest.approx(0.1 + 0.9 * 2 / 3)
    for n in range(3, 14):
        assert s(n) == pytest.approx((1 + math.cos(math.pi * (n - 3) / 10)) / 2), n


def test_scheduler_errors():
    with pytest.raises(ValueError, match="step must be greater"):
        lrs.FactorScheduler(step=0)
    with pytest.raises(ValueError, match="Factor must be no more than 1"):
        lrs.FactorScheduler(step=2, factor=2)
    with pytest.raises(ValueError, match="increasing"):
        lrs.MultiFactorScheduler(step=[3, 3])
    with pytest.raises(ValueError, match="greater or equal than 1"):
        lrs.MultiFactorScheduler(step=[0, 3])
    with pytest.raises(ValueError, match="strictly positive"):
        lrs.PolyScheduler(max_update=0)
    with pytest.raises(ValueError, match="strictly positive"):
        lrs.CosineScheduler(max_update=0)
    with pytest.raises(ValueError, match="linear and constant"):
        lrs.FactorScheduler(step=2, warmup_mode="cubic")
    with pytest.raises(ValueError, match="warmup_begin_lr"):
        lrs.FactorScheduler(step=2, base_lr=0.1, warmup_begin_lr=0.5)
    with pytest.raises(ValueError, match="positive or 0"):
        lrs.FactorScheduler(step=2, warmup_steps=-1)
    with pytest.raises(NotImplementedError):
        lrs.LRScheduler()(1)


def test_scheduler_drives_optimizer():
    s = lrs.CosineScheduler(max_update=4, base_lr=0.4, final_lr=0.0)
    o = mx.optimizer.SGD(lr_scheduler=s)
    upd = mx.optimizer.get_updater(o)
    w = mx.nd.zeros((1,))
    expected = 0.0
    for t in range(1, 6):
        upd(0, mx.nd.ones((1,)), w)
        expected -= 0.4 * (1 + math.cos(math.pi * min(t, 4) / 4)) / 2
        assert w.asnumpy()[0] == pytest.approx(expected, abs=1e-6)
        assert o.learning_rate == pytest.approx(0.4 * (1 + math.cos(math.pi * min(t, 4) / 4)) / 2)
