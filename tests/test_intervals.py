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
