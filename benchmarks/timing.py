"""Measurement: calibrated batches, warm-up, interleaved rounds, medians of per-call time."""

from __future__ import annotations

import gc
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns

# A batch runs the measured work `n` times; `units` is how many calls one repetition makes (1 for
# a parse, the number of records for one pass of a predicate over the records).
Batch = Callable[[int], object]


@dataclass(frozen=True)
class Config:
    rounds: int
    round_ns: int  # wanted duration of one timed round
    import_runs: int
    quick: bool = False


# Many short rounds rather than a few long ones: on a shared VM the host's throttling comes in
# bursts of a few hundred milliseconds, and short interleaved rounds spread it over everyone.
FULL = Config(rounds=41, round_ns=20_000_000, import_runs=7)
QUICK = Config(rounds=7, round_ns=5_000_000, import_runs=3, quick=True)


@dataclass
class Contestant:
    name: str
    batch: Batch
    units: int = 1


@dataclass
class Stats:
    """Per-call times in nanoseconds, one per round."""

    samples: list[float] = field(default_factory=list)
    reps: int = 0  # repetitions per round
    units: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the rounds were."""
        return (self.high - self.low) / self.median if self.median else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "median_ns": self.median,
            "min_ns": self.low,
            "max_ns": self.high,
            "rounds_ns": self.samples,
            "repetitions_per_round": self.reps,
            "calls_per_repetition": self.units,
        }


def _timed(batch: Batch, reps: int) -> int:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = perf_counter_ns()
        batch(reps)
        return perf_counter_ns() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def calibrate(batch: Batch, target_ns: int) -> int:
    """Repetitions that make one round last about ``target_ns`` (doubles as the warm-up)."""
    batch(1)  # first calls may build caches (catalogql builds its parser on first use)
    batch(1)
    reps = 1
    while True:
        elapsed = _timed(batch, reps)
        if elapsed >= target_ns // 4 or reps >= 1 << 24:
            break
        reps *= 4 if elapsed < target_ns // 40 else 2
    return max(1, math.ceil(reps * target_ns / max(elapsed, 1)))


def measure(contestants: list[Contestant], config: Config) -> dict[str, Stats]:
    """Time the contestants side by side.

    Each is calibrated and warmed up, then the rounds are interleaved (round r runs every
    contestant once, in an order rotated each round) so that drift in the machine's speed hits
    them all alike. A sample is the round's time divided by the number of calls in it.
    """
    stats: dict[str, Stats] = {}
    for c in contestants:
        reps = calibrate(c.batch, config.round_ns)
        _timed(c.batch, reps)  # one full-size warm-up round
        stats[c.name] = Stats(reps=reps, units=c.units)
    order = list(contestants)
    for _ in range(config.rounds):
        for c in order:
            s = stats[c.name]
            s.samples.append(_timed(c.batch, s.reps) / (s.reps * c.units))
        order = order[1:] + order[:1]
    return stats


def paired_ratio(numerator: Stats, denominator: Stats) -> float:
    """The median over rounds of numerator / denominator, each pair timed in the same round.

    Steadier than the ratio of the two medians when the machine's speed drifts.
    """
    pairs = zip(numerator.samples, denominator.samples, strict=True)
    return statistics.median(a / b for a, b in pairs)


def repeat_call(fn: Callable[[str], object], arg: str) -> Batch:
    def batch(n: int) -> None:
        for _ in range(n):
            fn(arg)

    return batch


def repeat_thunk(fn: Callable[[], object]) -> Batch:
    def batch(n: int) -> None:
        for _ in range(n):
            fn()

    return batch


def time_once_ns(fn: Callable[[], object], runs: int) -> list[int]:
    """Wall time of ``runs`` separate calls of an expensive ``fn`` (milliseconds and up)."""
    out = []
    for _ in range(runs):
        start = perf_counter_ns()
        fn()
        out.append(perf_counter_ns() - start)
    return out


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def noise_probe(
    work: Callable[[], object], seconds: float, slice_ns: int = 2_000_000
) -> dict[str, float]:
    """Run ``work`` in slices of about ``slice_ns`` for ``seconds``; doubles as the warm-up.

    On a quiet machine every slice takes about as long as the fastest; on a throttled VM many
    take two or three times as long. Returns the share of slices over 1.25x the fastest and the
    median slice over the fastest.
    """
    reps = calibrate(lambda n: [work() for _ in range(n)], slice_ns)
    times: list[int] = []
    deadline = perf_counter_ns() + int(seconds * 1e9)
    while perf_counter_ns() < deadline:
        start = perf_counter_ns()
        for _ in range(reps):
            work()
        times.append(perf_counter_ns() - start)
    fastest = min(times)
    return {
        "slices": len(times),
        "slow_share": sum(t > 1.25 * fastest for t in times) / len(times),
        "median_over_fastest": statistics.median(times) / fastest,
    }
