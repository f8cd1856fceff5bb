"""Model calls in time order with running sums: a usage window's spend, tokens and
per-session shares over any time range, without walking the range's calls.

A dashboard asks limits.py the same questions on every poll (the current 5-hour block, the
last 7 days, the last 30 minutes, who used each window) while its live sessions append a
few calls. Walking every call of the week each poll made a poll's cost grow with uptime
(4 -> 10 ms of limits work within two minutes with 20 live sessions; with a real week of
history, tens of ms). Here the calls stay sorted with prefix sums per price group and per
session's price group, so a range costs a few bisects per group, and adding calls at the
end costs what was added. Sums are integers and prices are applied to whole groups, as
blocks.spend does, so every figure equals the one a walk over the calls gives.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence

from llm_sessions.core.accounting.activity import Call
from llm_sessions.core.accounting.blocks import FIVE_HOURS_MS, Block, Prices, five_hour_blocks, floor_hour, group_spend

GroupKey = tuple[str, int, str, str]  # model, prompt-size bucket, speed, day: one price each
Sums = tuple[int, int, int, int, int]  # input, output, cache_creation, cache_read, cache_1h
_ZERO: Sums = (0, 0, 0, 0, 0)


def _ms(call: Call) -> int:
    return call.ms


class _Run:
    """Prefix sums of the calls of one group: where they sit in the series, and the sums so far."""

    __slots__ = ("pos", "cum")

    def __init__(self) -> None:
        self.pos: list[int] = []
        self.cum: list[Sums] = [_ZERO]

    def add(self, i: int, c: Call) -> None:
        a = self.cum[-1]
        self.pos.append(i)
        self.cum.append((a[0] + c.input, a[1] + c.output, a[2] + c.cache_creation, a[3] + c.cache_read, a[4] + c.cache_1h))

    def between(self, lo: int, hi: int) -> Sums | None:
        """Sums of the calls at series positions [lo, hi); None when there are none."""
        pos = self.pos
        a = bisect_left(pos, lo)
        b = bisect_left(pos, hi, a)
        if a == b:
            return None
        x, y = self.cum[a], self.cum[b]
        return (y[0] - x[0], y[1] - x[1], y[2] - x[2], y[3] - x[3], y[4] - x[4])

    def cut(self, i: int) -> None:
        """Forget the calls at positions >= i."""
        k = bisect_left(self.pos, i)
        del self.pos[k:]
        del self.cum[k + 1 :]


def _sum_runs(runs: dict[GroupKey, _Run], lo: int, hi: int, family: str | None) -> dict[GroupKey, Sums]:
    out = {}
    for g, run in runs.items():
        if family is not None and family not in g[0].lower():
            continue
        s = run.between(lo, hi)
        if s is not None:
            out[g] = s
    return out


def _tokens(sums: dict[GroupKey, Sums]) -> int:
    return sum(s[0] + s[1] + s[2] + s[3] for s in sums.values())


class CallSeries:
    """Calls sorted by time, with prefix sums per price group and per session, and the
    5-hour block boundaries (blocks.five_hour_blocks' rule) found as calls arrive."""

    def __init__(self, calls: Iterable[Call] = ()) -> None:
        self.calls: list[Call] = []
        self.ms: list[int] = []
        self._groups: dict[GroupKey, _Run] = {}
        self._sessions: dict[str, dict[GroupKey, _Run]] = {}
        self._last: dict[str, int] = {}  # session -> position of its last call
        self._starts: list[int] = []  # positions where a 5-hour block starts
        self._start_ms: list[int] = []
        self._gaps: list[int] = []  # the block starts after a pause of more than 5 hours (or the first call)
        self.add(calls)

    def __len__(self) -> int:
        return len(self.calls)

    def add(self, calls: Iterable[Call]) -> None:
        """Add calls; those older than the newest known re-sort the tail they fall into."""
        self.update((), calls)

    def update(self, removed: Iterable[Call], added: Iterable[Call]) -> None:
        """Take out `removed` (calls of this series, by identity) and add `added`: the sums
        after the earliest place either touches are redone, the rest is kept."""
        new = sorted(added, key=_ms)
        p = len(self.calls)
        if new and self.ms and new[0].ms < self.ms[-1]:
            p = bisect_right(self.ms, new[0].ms)
        gone = set()
        for c in removed:
            i = bisect_left(self.ms, c.ms)
            while i < len(self.calls) and self.calls[i] is not c and self.ms[i] == c.ms:
                i += 1
            if i < len(self.calls) and self.calls[i] is c:
                gone.add(id(c))
                p = min(p, i)
        if p < len(self.calls):
            new = sorted([c for c in self.calls[p:] if id(c) not in gone] + new, key=_ms)
            self._cut(p)
        for c in new:
            self._append(c)

    def _append(self, c: Call) -> None:
        i = len(self.calls)
        self.calls.append(c)
        self.ms.append(c.ms)
        g = (c.model, c.bucket, c.speed, c.day)
        run = self._groups.get(g)
        if run is None:
            run = self._groups[g] = _Run()
        run.add(i, c)
        mine = self._sessions.get(c.session)
        if mine is None:
            mine = self._sessions[c.session] = {}
        run = mine.get(g)
        if run is None:
            run = mine[g] = _Run()
        run.add(i, c)
        self._last[c.session] = i
        gap = i == 0 or c.ms - self.ms[i - 1] > FIVE_HOURS_MS
        if gap or c.ms - self._start_ms[-1] > FIVE_HOURS_MS:
            self._starts.append(i)
            self._start_ms.append(floor_hour(c.ms))
            if gap:
                self._gaps.append(i)

    def _cut(self, p: int) -> None:
        """Forget the calls at positions >= p."""
        gone = {c.session for c in self.calls[p:]}
        del self.calls[p:]
        del self.ms[p:]
        for run in self._groups.values():
            run.cut(p)
        for sid in gone:
            runs = self._sessions[sid]
            for run in runs.values():
                run.cut(p)
            last = max((run.pos[-1] for run in runs.values() if run.pos), default=None)
            if last is None:
                del self._sessions[sid]
                self._last.pop(sid, None)
            else:
                self._last[sid] = last
        k = bisect_left(self._starts, p)
        del self._starts[k:]
        del self._start_ms[k:]
        del self._gaps[bisect_left(self._gaps, p) :]

    def view(self, since_ms: int | None = None, until_ms: int | None = None) -> CallView:
        """The calls stamped in [since_ms, until_ms] (either end open when None)."""
        lo = 0 if since_ms is None else bisect_left(self.ms, since_ms)
        hi = len(self.ms) if until_ms is None else bisect_right(self.ms, until_ms)
        return CallView(self, lo, max(lo, hi))


class CallView(Sequence[Call]):
    """A time range of a CallSeries: a sequence of its calls that answers sums by bisection."""

    __slots__ = ("series", "lo", "hi")

    def __init__(self, series: CallSeries, lo: int, hi: int) -> None:
        self.series = series
        self.lo = lo
        self.hi = hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.series.calls[self.lo : self.hi][i]
        n = self.hi - self.lo
        if not -n <= i < n:
            raise IndexError(i)
        return self.series.calls[self.lo + i % n]

    def __iter__(self):
        return iter(self.series.calls[self.lo : self.hi])

    def after(self, ms: int, *, inclusive: bool = True) -> CallView:
        """The calls of this view stamped at or after `ms` (after it when not inclusive)."""
        find = bisect_left if inclusive else bisect_right
        return CallView(self.series, max(self.lo, find(self.series.ms, ms, self.lo, self.hi)), self.hi)

    def upto(self, ms: int) -> CallView:
        """The calls of this view stamped at or before `ms`."""
        return CallView(self.series, self.lo, bisect_right(self.series.ms, ms, self.lo, self.hi))

    def sums(self, family: str | None = None) -> dict[GroupKey, Sums]:
        """Token sums per price group, of the models of `family` only when given."""
        return _sum_runs(self.series._groups, self.lo, self.hi, family)

    def tokens(self, family: str | None = None) -> int:
        return _tokens(self.sums(family))

    def spend(self, prices: Prices | None, family: str | None = None) -> float:
        return group_spend(self.sums(family), prices)

    def by_session(self, prices: Prices | None, family: str | None = None) -> list[tuple[str, int, float | None]]:
        """(session, tokens, USD or None without prices) of each session with calls here."""
        s = self.series
        out = []
        for sid, last in s._last.items():
            if last < self.lo:
                continue
            sums = _sum_runs(s._sessions[sid], self.lo, self.hi, family)
            if sums:
                out.append((sid, _tokens(sums), group_spend(sums, prices) if prices is not None else None))
        return out

    def current_block(self, now_ms: int) -> tuple[Block, CallView] | None:
        """The last 5-hour block of the calls up to `now_ms`, as blocks.five_hour_blocks finds
        it over the calls after the view's last pause of more than 5 hours: its span (its
        `calls` left empty) and its calls as a view."""
        v = self.upto(now_ms)
        if not len(v):
            return None
        s, last = v.series, v.hi - 1
        g = bisect_right(s._gaps, last) - 1
        if g >= 0 and s._gaps[g] >= v.lo:
            # a pause inside the view: blocks after it do not depend on what came before
            k = bisect_right(s._starts, last) - 1
            first, start_ms = s._starts[k], s._start_ms[k]
        else:  # no pause within the view: its blocks are counted from its first call, as a walk would
            b = five_hour_blocks(list(v))[-1]
            first, start_ms = v.hi - len(b.calls), b.start_ms
        return Block(start_ms, start_ms + FIVE_HOURS_MS, s.ms[first], s.ms[last], ()), CallView(s, first, v.hi)


def view_of(calls: Sequence[Call]) -> CallView:
    """`calls` as a view: itself when it is one, else a series built from them."""
    return calls if isinstance(calls, CallView) else CallSeries(calls).view()


__all__ = ["CallSeries", "CallView", "view_of"]
