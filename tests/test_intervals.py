"""Property tests of the watched-interval arithmetic."""

from hypothesis import given
from hypothesis import strategies as st

from learntrace.tracking import intervals as iv

DURATION = 600_000
points = st.integers(min_value=0, max_value=DURATION)
segment = st.tuples(points, points).map(lambda p: (min(p), max(p)))
segments = st.lists(segment, max_size=30)



@given(segments)
def test_normalise_is_sorted_disjoint_and_keeps_length_of_the_union(parts):
    merged = iv.normalise(parts)
    assert all(a_end < b_start for (_a, a_end), (b_start, _b) in zip(merged, merged[1:], strict=False))
    assert all(start < end for start, end in merged)
    millis = set()
    for start, end in parts:
        millis.update(range(start, end, 97))  # sample points
    assert all(any(s <= m < e for s, e in merged) for m in millis)
    assert iv.length(merged) <= sum(end - start for start, end in parts)
    assert iv.length(merged) <= DURATION


@given(segments, segments)
def test_new_pieces_are_exactly_what_the_union_grows_by(coverage, played):
    coverage = iv.normalise(coverage)
    pieces = iv.new_pieces(played, coverage)
    assert iv.length(iv.union(coverage, pieces)) == iv.length(coverage) + iv.length(pieces)
    assert iv.union(coverage, pieces) == iv.union(coverage, played)
    assert iv.length(pieces) <= iv.length(iv.normalise(played))


@given(segments, segments)
def test_watching_again_adds_nothing(first, again):
    coverage = iv.union([], first)
    assert iv.new_pieces([s for s in first], coverage) == []
    assert iv.length(iv.new_pieces(again, iv.union(coverage, again))) == 0


@given(st.lists(segment, max_size=10), st.integers(min_value=0, max_value=DURATION))
def test_take_never_exceeds_the_budget(parts, budget):
    pieces = iv.new_pieces(parts, [])
    taken = iv.take(pieces, budget)
    assert iv.length(taken) == min(budget, iv.length(pieces))


@given(segments)
def test_contiguous_reach_is_covered(parts):
    coverage = iv.normalise(parts)
    reach = iv.contiguous_from_zero(coverage, tolerance=0)
    assert reach == 0 or (coverage[0][0] == 0 and reach <= DURATION)


def test_normalise_sorts_joins_touching_and_overlapping_and_drops_empty_intervals():
    assert iv.normalise([(5, 10), (0, 3), (3, 4), (8, 12), (20, 20), (15, 14), (30, 31)]) == [(0, 4), (5, 12),
                                                                                             (30, 31)]
    assert iv.normalise([(0, 10), (2, 5)]) == [(0, 10)]  # one inside the other keeps the outer end
    assert iv.normalise([(1.9, 3.2), ("4", "6")]) == [(1, 3), (4, 6)]
    assert iv.union([(0, 5)], [(5, 7), (9, 10)]) == [(0, 7), (9, 10)]
    assert iv.length([(0, 4), (5, 12)]) == 11


def test_uncovered_returns_exactly_the_gaps_of_a_segment():
    coverage = [(10, 20), (30, 40)]
    assert iv.uncovered((0, 100), coverage) == [(0, 10), (20, 30), (40, 100)]
    assert iv.uncovered((15, 35), coverage) == [(20, 30)]
    assert iv.uncovered((10, 20), coverage) == []
    assert iv.uncovered((12, 18), coverage) == []
    assert iv.uncovered((20, 30), coverage) == [(20, 30)]  # touching coverage on both sides adds the gap
    assert iv.uncovered((0, 10), [(10, 20)]) == [(0, 10)]
    assert iv.uncovered((45, 50), coverage) == [(45, 50)]
    assert iv.uncovered((0, 25), [(0, 10), (10, 30)]) == []


def test_new_pieces_keep_the_order_played_and_count_overlaps_between_segments_once():
    assert iv.new_pieces([(50, 60), (0, 10)], []) == [(50, 60), (0, 10)]
    assert iv.new_pieces([(0, 10), (5, 15)], []) == [(0, 10), (10, 15)]
    assert iv.new_pieces([(0, 30)], [(10, 20)]) == [(0, 10), (20, 30)]
    assert iv.new_pieces([(0, 10), (0, 10)], [(0, 5)]) == [(5, 10)]


def test_take_cuts_exactly_at_the_budget():
    pieces = [(0, 10), (20, 30)]
    assert iv.take(pieces, 15) == [(0, 10), (20, 25)]
    assert iv.take(pieces, 10) == [(0, 10)]
    assert iv.take(pieces, 0) == []
    assert iv.take(pieces, 25) == [(0, 10), (20, 30)]
    assert iv.take(pieces, 5) == [(0, 5)]


def test_contiguous_reach_allows_gaps_of_one_second_by_default():
    assert iv.contiguous_from_zero([]) == 0
    assert iv.contiguous_from_zero([(0, 5_000), (6_000, 9_000)]) == 9_000  # a gap of exactly 1 s is bridged
    assert iv.contiguous_from_zero([(0, 5_000), (6_001, 9_000)]) == 5_000
    assert iv.contiguous_from_zero([(1_000, 4_000)]) == 4_000  # the first second may be missed
    assert iv.contiguous_from_zero([(1_001, 4_000)]) == 0
    assert iv.contiguous_from_zero([(0, 5_000), (5_500, 7_000), (20_000, 30_000)]) == 7_000
    assert iv.contiguous_from_zero([(0, 5_000), (5_500, 7_000)], tolerance=0) == 5_000
    assert iv.contiguous_from_zero([(0, 5_000), (5_000, 7_000)], tolerance=0) == 7_000
