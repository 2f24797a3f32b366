"""The cheap test before the edit distances: every pair one edit apart passes it."""

import random

import duckdb

from cdp_pipeline.lib.identity.splink_model import _one_edit_necessary

ALPHABET = "abeå@.x"


def _one_edit(rng: random.Random, s: str) -> str:
    i = rng.randint(0, len(s))
    op = rng.choice("isdt")
    if op == "i":
        return s[:i] + rng.choice(ALPHABET) + s[i:]
    if op == "s" and i < len(s):
        return s[:i] + rng.choice(ALPHABET) + s[i + 1 :]
    if op == "d" and i < len(s):
        return s[:i] + s[i + 1 :]
    if op == "t" and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s


def _passes(pairs: list[tuple[str, str]]) -> list[bool]:
    con = duckdb.connect()
    con.execute("CREATE TABLE p (i INT, v_l VARCHAR, v_r VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", [(i, a, b) for i, (a, b) in enumerate(pairs)])
    condition = _one_edit_necessary("v").get_comparison_level("duckdb").sql_condition
    return [r[0] for r in con.execute(f"SELECT {condition} FROM p ORDER BY i").fetchall()]


def test_every_pair_one_edit_apart_passes():
    rng = random.Random(7)
    pairs = []
    for _ in range(3000):
        a = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14)))
        pairs.append((a, _one_edit(rng, a)))
    assert all(_passes(pairs))


def test_random_addresses_that_share_neither_end_fail():
    assert _passes(
        [
            ("anna.berg@gmail.com", "lars.holm@telia.se"),  # length 19 / 18, nothing shared at either end
            ("anna.berg@gmail.com", "anna.berg@gmail.co.uk"),  # two characters longer
            ("anna.berg@gmail.com", "anna.berg@gmial.com"),  # a swap: both ends agree
            ("+46701234567", "+46701234576"),
        ]
    ) == [False, False, True, True]
