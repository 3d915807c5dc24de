"""Fixed reference values of what digests and signatures are taken of: the three canonical encodings
of a fact, the seal header of each encoding, PostgreSQL's texts of numbers, and the RFC 6962 Merkle
tree. A change to any byte here would make old seals fail to verify, or let Python and PostgreSQL
drift apart and raise false tamper alarms; these tests need no database, so mutation testing runs
them for every mutant of canonical.py and merkle.py."""

import datetime as dt
import hashlib
import uuid
from decimal import Decimal

import pytest

from learntrace.evidence import canonical, merkle

BEIJING = dt.timezone(dt.timedelta(hours=8))
MOMENT = dt.datetime(2026, 3, 1, 8, 5, 7, 4200, tzinfo=BEIJING)  # 00:05:07.0042 UTC


def test_encoding_1_is_sorted_compact_json_with_plain_values():
    body = {"source": "creditedtime", "id": 7, "seconds": 90, "occurred_at": MOMENT,
            "details": {"b": [1, -2.5], "a": "学"}, "credits": Decimal("1.50"), "ok": True, "none": None}
    encoded = canonical.fact_bytes(body)
    assert encoded == ('{"credits":"1.50","details":{"a":"学","b":[1,-2.5]},"id":7,"none":null,'
                       '"occurred_at":"2026-03-01 08:05:07.004200+08:00","ok":true,"seconds":90,'
                       '"source":"creditedtime"}').encode()
    assert hashlib.sha256(encoded).hexdigest() == "8738b33a5b704417a0d91b28268b2d29903ae5cc532abdfb8bf10ec7d5dd27e8"


def test_encoding_2_is_a_json_array_of_texts_escaped_like_postgresql():
    values = [5, 3, "in", MOMENT, None, "", 'a"b\\c\n\x01', "dev", uuid.UUID(int=1), -2.5, 1e15, None]
    texts = ["checkinevent", 12, *[canonical.value_text(value) for value in values]]
    assert texts == ["checkinevent", 12, "5", "3", "in", "2026-03-01T00:05:07.004200Z", None, "", 'a"b\\c\n\x01',
                     "dev", "00000000-0000-0000-0000-000000000001", "-2.5", "1e+15", None]
    encoded = canonical.fact_texts_bytes(texts)
    assert encoded == (b'["checkinevent",12,"5","3","in","2026-03-01T00:05:07.004200Z",null,"",'
                       b'"a\\"b\\\\c\\n\\u0001","dev","00000000-0000-0000-0000-000000000001","-2.5","1e+15",null]')
    assert hashlib.sha256(encoded).hexdigest() == "a4167332bc0a3f0d18aa65ffb192c8b682fb314381e7a01308aee77212d56bdb"


def test_encoding_2_keeps_non_ascii_text_as_utf8():
    assert canonical.fact_texts_bytes(["reflectionevent", 1, "学习心得"]) == '["reflectionevent",1,"学习心得"]'.encode()


HEADER = {"number": 3, "created_at": "2026-03-01T00:05:07.004200Z", "fact_count": 2, "root": "ab" * 32,
          "previous_hash": canonical.GENESIS, "key_id": "k1"}


def test_a_seal_of_encoding_1_covers_the_fields_it_had_and_no_more():
    header = canonical.seal_header(**HEADER, drained=True)  # encoding 1 is the default: the first seals
    assert header == (b'{"created_at":"2026-03-01T00:05:07.004200Z","fact_count":2,"key_id":"k1","number":3,'
                      b'"previous_hash":"' + b"0" * 64 + b'","root":"' + b"ab" * 32 + b'"}')
    assert canonical.seal_header(**HEADER, encoding=1, drained=False) == header
    assert hashlib.sha256(header).hexdigest() == "a6e9a55dd0cac390e448a10620fa29fd8efc721166ffbfcda6772f0f9dcbc7dc"


def test_a_seal_of_encoding_2_covers_its_encoding_and_whether_it_drained_the_queue():
    header = canonical.seal_header(**HEADER, encoding=2, drained=True)
    assert header == (b'{"created_at":"2026-03-01T00:05:07.004200Z","drained":true,"encoding":2,"fact_count":2,'
                      b'"key_id":"k1","number":3,"previous_hash":"' + b"0" * 64 + b'","root":"' + b"ab" * 32 + b'"}')
    assert hashlib.sha256(header).hexdigest() == "43366e21259109b11a6aac9e8159dae32f103c7630c722ea08de949bc4c77d6b"
    assert b'"drained":false' in canonical.seal_header(**HEADER, encoding=2)


def test_a_seal_of_encoding_3_says_so_in_its_header():
    header = canonical.seal_header(**HEADER, encoding=3, drained=True)
    assert header == (b'{"created_at":"2026-03-01T00:05:07.004200Z","drained":true,"encoding":3,"fact_count":2,'
                      b'"key_id":"k1","number":3,"previous_hash":"' + b"0" * 64 + b'","root":"' + b"ab" * 32 + b'"}')
    assert hashlib.sha256(header).hexdigest() == "c7893ce512ce513bbdf3ca9118ff56c1dc7f2e4146d228a751113493ea2fd8b0"
    assert canonical.ENCODING == 3


def test_encoding_3_adds_a_beats_compact_details_to_credited_time_as_hex():
    assert canonical.fields("creditedtime", 3) == [*canonical.FIELDS["creditedtime"], "beat"]
    assert canonical.fields("creditedtime", 2) == canonical.fields("creditedtime", 1) == canonical.FIELDS[
        "creditedtime"]
    assert all(canonical.fields(source, 3) == names for source, names in canonical.FIELDS.items()
               if source != "creditedtime")
    beat = bytes.fromhex("010002b0ea01b0ea0100c413b0e403a413b0ea01b0ea0100")  # test_beat_details.py's video beat
    values = [7, 3, "video", 2, 15, MOMENT, "tracking", MOMENT, uuid.UUID(int=5), 4]
    texts = ["creditedtime", "42", *map(canonical.value_text, values), canonical.json_text(None),
             canonical.value_text(memoryview(beat))]
    encoded = canonical.fact_texts_bytes(texts)
    assert encoded == (b'["creditedtime","42","7","3","video","2","15","2026-03-01T00:05:07.004200Z","tracking",'
                       b'"2026-03-01T00:05:07.004200Z","00000000-0000-0000-0000-000000000005","4","null",'
                       b'"010002b0ea01b0ea0100c413b0e403a413b0ea01b0ea0100"]')
    assert hashlib.sha256(encoded).hexdigest() == "ec8ba64f4aa51522bac6f83177a839c86b0a5bcccea6913ac45bb633a02c679b"
    assert canonical.value_text(b"") == "" and canonical.value_text(b"\x00\xff") == "00ff"


def test_times_are_utc_with_microseconds():
    assert canonical.utc(MOMENT) == "2026-03-01T00:05:07.004200Z"
    assert canonical.moment_text(MOMENT) == "2026-03-01T00:05:07.004200Z"
    assert canonical.moment_text(dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "0999-01-02T03:04:05.000000Z"


# As PostgreSQL 16 prints these double precision values (SET extra_float_digits = 1).
FLOATS = [
    (0.0, "0"), (-0.0, "-0"), (1.0, "1"), (100.0, "100"), (0.1, "0.1"), (-0.25, "-0.25"), (-2.5, "-2.5"),
    (-0.001, "-0.001"), (-1234.5, "-1234.5"),
    (123.456, "123.456"), (0.0001, "0.0001"), (0.00009, "9e-05"), (1e-05, "1e-05"), (-1.5e-07, "-1.5e-07"),
    (1e14, "100000000000000"), (999999999999999.9, "999999999999999.9"), (1e15, "1e+15"), (-1e15, "-1e+15"),
    (1.5e15, "1.5e+15"), (2.5e20, "2.5e+20"), (5e-324, "5e-324"),
    (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (float("nan"), "NaN"),
]


@pytest.mark.parametrize(("value", "text"), FLOATS)
def test_floats_are_printed_as_postgresql_prints_a_double(value, text):
    assert canonical.value_text(value) == text


def test_plain_values_have_one_text_each():
    assert [canonical.value_text(v) for v in (None, True, False, 0, -7, Decimal("1.50"), "x")] == [
        None, "true", "false", "0", "-7", "1.50", "x"]


# As PostgreSQL prints the jsonb that Django writes with json.dumps (numbers without an exponent,
# no negative zero, keys by length then bytes).
JSON = [
    ([-2.5, -0.001, -1e-7, -0.0, 1e16, 1.5e15, 0.1, -12345678.125],
     "[-2.5, -0.001, -0.0000001, 0.0, 10000000000000000, 1500000000000000.0, 0.1, -12345678.125]"),
    ({"bb": -1.5, "a": [1, "x\u0001\\"], "ccc": {"é": None, "z": False}},
     '{"a": [1, "x\\u0001\\\\"], "bb": -1.5, "ccc": {"z": false, "é": null}}'),
    ((True, None, "学", 2 ** 70), '[true, null, "学", 1180591620717411303424]'),
    ([float("nan"), float("inf"), float("-inf")], "[NaN, Infinity, -Infinity]"),
    ({}, "{}"), ([], "[]"),
]


@pytest.mark.parametrize(("value", "text"), JSON)
def test_json_values_are_printed_as_postgresql_prints_a_jsonb(value, text):
    assert canonical.json_text(value) == text


def test_a_value_json_cannot_hold_is_refused():
    with pytest.raises(TypeError, match="not a JSON value: set"):
        canonical.json_text({1, 2})


def test_a_fact_in_a_seals_list_is_source_id_and_leaf_hash():
    assert canonical.ENTRY.pack(3, 258, b"\x07" * 32) == b"\x03" + (258).to_bytes(8, "big") + b"\x07" * 32


# RFC 6962: leaves and nodes hashed with different prefixes, split at the largest power of two below n.
LEAVES = [merkle.leaf_hash(bytes([i])) for i in range(7)]
ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    2: "a20bf9a7cc2dc8a08f5f415a71b19f6ac427bab54d24eec868b5d3103449953a",
    3: "3b6cccd7e3e023ff393006f030315ee7ad9eb111b022b41fba7e5b7a3973f688",
    5: "b855b42d6c30f5b087e05266783fbd6e394f7b926013ccaa67700a8b0c5a596f",
    7: "3560191803028444b232018ac047fdb561c09c23a7a6876c85e08b5e4d48e9f3",
}


def test_leaf_and_node_hashes_have_their_prefixes():
    assert merkle.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("count", sorted(ROOTS))
def test_roots_are_rfc_6962s(count):
    assert merkle.root(LEAVES[:count]).hex() == ROOTS[count]


def test_inclusion_proofs_name_each_sibling_and_its_side():
    n01, n23, n45 = (merkle.node_hash(LEAVES[i], LEAVES[i + 1]) for i in (0, 2, 4))
    n0123, n456 = merkle.node_hash(n01, n23), merkle.node_hash(n45, LEAVES[6])
    root = merkle.root(LEAVES)
    assert merkle.inclusion_proof(LEAVES, 2) == [("R", LEAVES[3]), ("L", n01), ("R", n456)]
    assert merkle.inclusion_proof(LEAVES, 6) == [("L", n45), ("L", n0123)]
    assert merkle.inclusion_proof(LEAVES, 5) == [("L", LEAVES[4]), ("R", LEAVES[6]), ("L", n0123)]
    assert merkle.inclusion_proof(LEAVES[:1], 0) == []
    for index in range(7):
        assert merkle.verify_inclusion(LEAVES[index], merkle.inclusion_proof(LEAVES, index), root)
    assert not merkle.verify_inclusion(LEAVES[3], merkle.inclusion_proof(LEAVES, 2), root)
    swapped = [("L" if side == "R" else "R", sibling) for side, sibling in merkle.inclusion_proof(LEAVES, 2)]
    assert not merkle.verify_inclusion(LEAVES[2], swapped, root)


def test_small_trees_have_the_shortest_proofs():
    first, second = LEAVES[0], LEAVES[1]
    assert merkle.inclusion_proof(LEAVES[:2], 0) == [("R", second)]
    assert merkle.inclusion_proof(LEAVES[:2], 1) == [("L", first)]
    assert merkle.inclusion_proof(LEAVES[:4], 3) == [("L", LEAVES[2]), ("L", merkle.node_hash(first, second))]


@pytest.mark.parametrize("count", range(1, 10))
def test_every_leaf_of_a_tree_proves_its_inclusion_and_no_other_leaf_does(count):
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(count)]
    root = merkle.root(leaves)
    for index in range(count):
        proof = merkle.inclusion_proof(leaves, index)
        assert merkle.verify_inclusion(leaves[index], proof, root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"slipped in"), proof, root)
