"""Arithmetic of watched intervals: half-open [start, end) in integer milliseconds of media.

Integers keep the arithmetic exact: the union of what a person watched never grows by
rounding, so coverage can never exceed the media's duration."""

Interval = tuple[int, int]


def normalise(intervals) -> list[Interval]:
    """Sorted, non-empty, non-overlapping; touching intervals are joined."""
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in intervals if int(e) > int(s)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def union(a, b) -> list[Interval]:
    return normalise(list(a) + list(b))


def length(intervals) -> int:
    return sum(end - start for start, end in intervals)


def uncovered(segment: Interval, coverage: list[Interval]) -> list[Interval]:
    """The parts of `segment` not in `coverage` (which must be normalised)."""
    start, end = segment
    pieces = []
    for covered_start, covered_end in coverage:
        if covered_end <= start:
            continue
        if covered_start >= end:
            break
        if covered_start > start:
            pieces.append((start, covered_start))
        start = max(start, covered_end)
        if start >= end:
            break
    if start < end:
        pieces.append((start, end))
    return pieces


def new_pieces(segments, coverage: list[Interval]) -> list[Interval]:
    """What `segments` add to `coverage`, in the order they were played, without double counting
    segments that overlap each other."""
    seen = list(coverage)
    pieces: list[Interval] = []
    for segment in segments:
        for piece in uncovered(segment, normalise(seen)):
            pieces.append(piece)
            seen.append(piece)
    return pieces


def take(pieces: list[Interval], budget: int) -> list[Interval]:
    """The first `budget` milliseconds of `pieces`, in order (the rest is cut)."""
    taken = []
    for start, end in pieces:
        if budget <= 0:
            break
        end = min(end, start + budget)
        taken.append((start, end))
        budget -= end - start
    return taken


def contiguous_from_zero(coverage: list[Interval], tolerance: int = 1000) -> int:
    """How far the viewer has watched without gaps from the start (what "no skipping" allows)."""
    reach = 0
    for start, end in coverage:
        if start > reach + tolerance:
            break
        reach = max(reach, end)
    return reach
