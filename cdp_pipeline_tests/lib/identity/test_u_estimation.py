"""u estimation: Splink's random-sampling estimate, to the last digit, for less CPU."""

import copy
import logging

from splink import DuckDBAPI, Linker

from cdp_pipeline.lib.identity.name_keys import write_first_name_table
from cdp_pipeline.lib.identity.name_variants import load_name_variants
from cdp_pipeline.lib.identity.splink_model import (
    ONE_NAME_SWAPPED,
    SPLINK_INPUT,
    SWAPPED,
    U_MIN_COUNT_PER_LEVEL,
    _estimate_u,
    _one_name_swapped_u,
    _sampled_level_counts,
    _u_chunks_on_value_pairs,
    splink_settings,
)

from .synthetic import build_synthetic_splink_input


def _splink_input(con, config):
    return build_synthetic_splink_input(con, config)


def test_u_is_splinks_random_sampling_estimate_to_the_last_digit(con, config):
    sdf = _splink_input(con, config)
    sp = config.splink
    untrained = Linker(sdf, splink_settings(config), log_level=logging.WARNING).misc.save_model_to_json()
    ours = copy.deepcopy(untrained)
    _estimate_u(ours, sdf, config, "duckdb")

    # Splink's own estimate, every comparison sampled by Splink (the swapped-names levels take
    # their comparison's exact-match u)
    reference = Linker(sdf, splink_settings(config, swapped=False), log_level=logging.WARNING)
    reference.training.estimate_u_using_random_sampling(max_pairs=sp.u_max_pairs, seed=sp.seed)
    expected = {
        (c["output_column_name"], level.get("label_for_charts")): level.get("u_probability")
        for c in reference.misc.save_model_to_json()["comparisons"]
        for level in c["comparison_levels"]
    }
    compared = 0
    for comparison, before in zip(ours["comparisons"], untrained["comparisons"]):
        name = comparison["output_column_name"]
        labels = [lv["label_for_charts"] for lv in comparison["comparison_levels"]]
        exact = next((label for label in labels if label.startswith("Exact match")), None)
        for level, old in zip(comparison["comparison_levels"], before["comparison_levels"]):
            if level.get("is_null_level"):
                continue
            label = level["label_for_charts"]
            if label == ONE_NAME_SWAPPED:  # counted from the names' frequencies (test below)
                assert level.get("u_probability") == (_one_name_swapped_u(sdf) or old.get("u_probability"))
                continue
            want = expected[(name, exact if label == SWAPPED else label)]
            if want is None:  # never observed: left as it was
                assert level.get("u_probability") == old.get("u_probability"), (name, label)
            else:
                assert level["u_probability"] == want, (name, label)
                compared += 1
    assert compared >= 20

    # both ways were taken: comparisons whose every level is common (Splink stops early on
    # them, so Splink samples them) and comparisons with a rare level (counted in one pass)
    settings = splink_settings(config, swapped=False).get_settings("duckdb")
    counts = _sampled_level_counts(sdf, settings, sp.u_max_pairs, sp.seed)
    early = [
        all(
            per.get(int(lv.comparison_vector_value), 0) >= U_MIN_COUNT_PER_LEVEL
            for lv in cc._comparison_levels_excluding_null
        )
        for cc, per in zip(settings.comparisons, counts)
    ]
    assert any(early) and not all(early)


def test_splinks_chunks_graded_on_value_pairs_give_splinks_u(con, config, monkeypatch):
    """``_u_chunks_on_value_pairs``: Splink's own u sampling, each chunk counted per pair of
    distinct values, gives Splink's u for every comparison, stopping early (the default) or
    grading every chunk; Splink's chunk function is never called inside the block."""
    from splink.internals import estimate_u

    sdf = _splink_input(con, config)
    sp = config.splink
    creator = splink_settings(config, swapped=False)

    def u_values(min_count, max_pairs):
        linker = Linker(sdf, copy.deepcopy(creator), log_level=logging.WARNING)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs, seed=sp.seed, min_count_per_level=min_count
        )
        return [
            (c["output_column_name"], level.get("label_for_charts"), level.get("u_probability"))
            for c in linker.misc.save_model_to_json()["comparisons"]
            for level in c["comparison_levels"]
        ]

    records = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]
    # every record sampled, and a sample of about a third of them (Splink's hash of the id)
    for max_pairs in (sp.u_max_pairs, records * records / 20):
        for min_count in (U_MIN_COUNT_PER_LEVEL, 5, None):
            expected = u_values(min_count, max_pairs)
            with monkeypatch.context() as m:
                m.setattr(estimate_u, "_accumulate_u_counts_from_chunk_and_check_min_count", _not_called)
                with _u_chunks_on_value_pairs():
                    got = u_values(min_count, max_pairs)
            assert got == expected, (max_pairs, min_count)
            assert sum(u is not None for _, _, u in got) >= 20


def _not_called(**_):
    raise AssertionError("Splink's chunk function was called")


def test_level_counts_are_over_every_pair_of_the_sample(con, config):
    """Counted per pair of distinct values, weighted: the same as grading every pair of records."""
    sdf = _splink_input(con, config)
    settings = splink_settings(config, swapped=False).get_settings("duckdb")
    everyone = 1e9  # more pairs than there are: the sample is every record
    counts = _sampled_level_counts(sdf, settings, everyone, 42)
    records = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]
    email = next(i for i, cc in enumerate(settings.comparisons) if cc.output_column_name == "email")
    assert sum(counts[email].values()) == records * (records - 1) // 2
    # the e-mail's levels counted directly over every pair of records
    direct = dict(
        con.execute(f"""
            SELECT CASE WHEN l.email IS NULL OR r.email IS NULL THEN -1 WHEN l.email = r.email THEN 2
                        WHEN damerau_levenshtein(l.email, r.email) <= 1
                             AND translate(l.email, '._-', '') <> translate(r.email, '._-', '') THEN 1
                        ELSE 0 END AS level, count(*)
            FROM {SPLINK_INPUT} l JOIN {SPLINK_INPUT} r ON l.unique_id < r.unique_id GROUP BY level
        """).fetchall()
    )
    assert counts[email] == direct
    assert direct[2] > 0 and direct[1] > 0


def test_first_names_differ_is_the_plain_negation_of_every_one_name_test(con):
    """The family-inbox test (``first_names_differ_sql``), written for speed with equal names
    first, is exactly "both first names there and NOT (any one-name condition)", NULLs included,
    over every pair of a grid of names, some without a surname."""
    from cdp_pipeline.lib.identity.name_keys import FIRST_NAMES, MODEL_COLUMNS
    from cdp_pipeline.lib.identity.splink_model import first_names_differ_sql, one_name_conditions

    firsts = ["erik", "erika", "eric", "anna", "anna karin", "karin", "p o", "per olof", "kristina", "stina"]
    firsts += ["bo", "boo", "eo", "berg", "mikael", "a", None]
    con.execute("CREATE TABLE names (first_name_match VARCHAR, last_name_match VARCHAR)")
    con.executemany("INSERT INTO names VALUES (?, ?)", [(f, s) for f in firsts for s in ("berg", "erik", None)])
    write_first_name_table(con, "SELECT DISTINCT first_name_match FROM names", load_name_variants())
    side = lambda s: ", ".join(  # noqa: E731
        [f"n.first_name_match AS first_name_match_{s}", f"n.last_name_match AS last_name_match_{s}"]
        # "erik" as a last name is a name written surname first ("berg" is a surname)
        + [f"n.last_name_match = 'erik' AS last_name_is_given_{s}"]
        + [f"k.{field} AS {column}_{s}" for field, column in MODEL_COLUMNS.items()]
    )
    pairs = f"""SELECT * FROM (SELECT {side("l")} FROM names n LEFT JOIN {FIRST_NAMES} k ON k.name = n.first_name_match)
                CROSS JOIN (SELECT {side("r")} FROM names n LEFT JOIN {FIRST_NAMES} k ON k.name = n.first_name_match)"""
    plain = (
        "first_name_match_l IS NOT NULL AND first_name_match_r IS NOT NULL AND NOT ("
        + " OR ".join(f"({c})" for c in one_name_conditions())
        + ")"
    )
    rows = con.execute(f"""
        SELECT first_name_match_l, last_name_match_l, first_name_match_r, last_name_match_r,
               {first_names_differ_sql()} AS differ, {plain} AS plain
        FROM ({pairs})
    """).fetchall()
    assert len(rows) == (len(firsts) * 3) ** 2
    assert [r for r in rows if r[4] is not r[5]] == []
    differ = {(r[0], r[2]) for r in rows if r[4]}
    assert ("erik", "anna") in differ and ("anna", "erik") in differ and ("karin", "kristina") in differ
    for one_person in [("anna karin", "anna"), ("erik", "erik"), ("kristina", "stina"), ("bo", "boo"), ("erik", None)]:
        assert one_person not in differ


def _address_u(model: dict, label: str = "street and postcode exact"):
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == "address")
    return next(
        lv.get("u_probability") for lv in comparison["comparison_levels"] if lv.get("label_for_charts") == label
    )


def test_u_sample_grows_with_the_records():
    """A value one household holds is shared by a share of random pairs that falls as 1 / records:
    a sample of fixed size stops seeing it (10M records: no pair with one street and postcode in
    ten million), so the sample holds at least u_pairs_per_record pairs per record."""
    from cdp_pipeline.lib.identity.config import SplinkConfig
    from cdp_pipeline.lib.identity.splink_model import u_sample_pairs

    sp = SplinkConfig(u_max_pairs=1e7, u_pairs_per_record=20)
    assert u_sample_pairs(sp, 488_795) == 1e7  # the 1M sample's model: as before
    assert u_sample_pairs(sp, 4_889_153) == 97_783_060  # the 10M sample's
    assert u_sample_pairs(SplinkConfig(u_max_pairs=5e4, u_pairs_per_record=0), 10**9) == 5e4


def test_a_level_the_sample_misses_is_seen_with_pairs_per_record(con, config):
    sdf = _splink_input(con, config)
    records = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]
    untrained = Linker(sdf, splink_settings(config), log_level=logging.WARNING).misc.save_model_to_json()
    from cdp_pipeline.lib.identity.splink_model import u_sample_pairs

    # a fixed sample of a few hundred pairs holds no pair at one street and postcode: the level
    # keeps Splink's default u, and the training notes say so
    few = config.with_splink(u_max_pairs=300, u_pairs_per_record=0)
    fixed, notes = copy.deepcopy(untrained), []
    _estimate_u(fixed, sdf, few, "duckdb", max_pairs=u_sample_pairs(few.splink, records), unseen=notes)
    assert _address_u(fixed) == _address_u(untrained)
    assert any("address 'street and postcode exact' not seen in 300 sampled pairs" in n for n in notes)

    # pairs per record: every pair of these records, and the level's u is its share of them
    scaled = config.with_splink(u_max_pairs=300, u_pairs_per_record=records)
    grown, notes = copy.deepcopy(untrained), []
    _estimate_u(grown, sdf, scaled, "duckdb", max_pairs=u_sample_pairs(scaled.splink, records), unseen=notes)
    same, compared = con.execute(f"""
        SELECT count(*) FILTER (WHERE l.street = r.street AND l.postcode = r.postcode),
               count(*) FILTER (WHERE NOT ((l.street IS NULL OR r.street IS NULL) AND (l.postcode IS NULL OR r.postcode IS NULL)
                                           AND (l.city IS NULL OR r.city IS NULL)))
        FROM {SPLINK_INPUT} l JOIN {SPLINK_INPUT} r ON l.unique_id < r.unique_id""").fetchall()[0]
    assert same > 0
    assert _address_u(grown) == same / compared
    assert not [n for n in notes if "street and postcode exact" in n]


def test_a_comparison_seen_often_enough_in_a_tenth_is_not_graded_further(con, config):
    """``enough``: the comparisons Splink samples itself (every level seen ``enough`` times) are
    told apart from a tenth of the value pairs; every other comparison's counts stay exact."""
    sdf = _splink_input(con, config)
    sp = config.splink
    settings = splink_settings(config, swapped=False).get_settings("duckdb")
    full = _sampled_level_counts(sdf, settings, sp.u_max_pairs, sp.seed)
    for enough in (1, U_MIN_COUNT_PER_LEVEL):
        quick = _sampled_level_counts(sdf, settings, sp.u_max_pairs, sp.seed, enough=enough)
        partial = 0
        for cc, all_pairs, counted in zip(settings.comparisons, full, quick):
            levels = [int(lv.comparison_vector_value) for lv in cc._comparison_levels_excluding_null]
            reached = all(all_pairs.get(level, 0) >= enough for level in levels)
            # the caller's test (every level seen enough times) answers the same on either count
            assert all(counted.get(level, 0) >= enough for level in levels) == reached
            if counted != all_pairs:
                partial += 1
                assert reached and sum(counted.values()) < sum(all_pairs.values())
        if enough == 1:
            assert partial > 0  # the tenth does the work for some comparison


def test_keyed_counts_are_every_pairs_counts(con):
    """``U_PAIR_KEYS``: grading only the value pairs that share a key (u_keyed_counts.py) gives
    the counts of grading every pair, on values one edit apart every way (a typo, a letter
    dropped, two digits swapped, ö for o), day and month swapped, a street exact or similar,
    and values with NULLs in some of the address's columns."""
    from splink import SettingsCreator

    from cdp_pipeline.lib.identity.splink_model import (
        STREET_NAME_SQL,
        U_PAIR_KEYS,
        _address_comparison,
        _birth_date_comparison,
        _one_typo_comparison,
    )

    emails = ["anna.berg@x.se", "anna.berg@x.es", "annaberg@x.se", "anan.berg@x.se", "åsa@x.se", "asa@x.se", None]
    phones = ["+46701234567", "+46701234576", "+4670123456", "+46701234568", None]
    dates = [
        "1980-03-04",
        "1980-04-03",
        "1980-03-05",
        "1981-03-04",
        "1980-03-14",
        None,
        "1980-02-29",
        "1980-03-01",
        "1979-12-04",
        "1980-01-04",
    ]
    # "storgatan" (the house number missing) and "kungsvägen 10" / "kungsvägen 3" reach the street
    # name's level beside a postcode and town that are not close; "1" (a house number alone) the
    # house number's level beside "storgatan 1"; "jondol place" beside "75 jondol place" (a house
    # number written first and missing) the street name's level in a close postcode or town
    streets = ["storgatan 1", "storgatan 2", "storgatn 1", "kungsvägen 10", None, "storgatan", "kungsvägen 3", "1"]
    streets += ["75 jondol place", "jondol place"]
    postcodes = ["11122", "11123", "11212", "22100", None]
    cities = ["malmö", "malmo", "lund", "lunds", None, "stockholm"]
    rows = [
        (i, emails[i % 7], phones[i % 5], dates[i % 10], streets[(i // 2) % 10], postcodes[(i // 3) % 5], cities[i % 6])
        for i in range(90)
    ]
    con.execute("""CREATE TABLE u_values (unique_id INTEGER, email VARCHAR, phone VARCHAR, birth_date DATE,
                   street VARCHAR, postcode VARCHAR, city VARCHAR)""")
    con.executemany("INSERT INTO u_values VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    # the street's name without its house number, as build_splink_input makes it
    con.execute("ALTER TABLE u_values ADD COLUMN street_name VARCHAR")
    con.execute(f"UPDATE u_values SET street_name = {STREET_NAME_SQL.format(street='street')}")
    sdf = DuckDBAPI(connection=con).register("u_values")
    comparisons = [
        _birth_date_comparison(),
        _address_comparison(),
        _one_typo_comparison("email", transpositions=True, separators="._-"),
        _one_typo_comparison("phone", transpositions=True),
    ]
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons).get_settings("duckdb")
    everyone = 1e9
    graded = _sampled_level_counts(sdf, settings, everyone, 42)
    keyed = _sampled_level_counts(sdf, settings, everyone, 42, keys=U_PAIR_KEYS)
    assert keyed == graded
    for cc, counts in zip(settings.comparisons, graded):
        assert cc.output_column_name in U_PAIR_KEYS
        assert sum(counts.values()) == 90 * 89 // 2
        # every level is reached, so every key had pairs to put up
        assert all(counts.get(int(lv.comparison_vector_value), 0) > 0 for lv in cc.comparison_levels), counts
    # and on a sample of the records (Splink's seeded filter), as u estimation draws it
    assert _sampled_level_counts(sdf, settings, 900, 42, keys=U_PAIR_KEYS) == _sampled_level_counts(
        sdf, settings, 900, 42
    )


def test_one_name_swapped_u_is_the_share_of_pairs_with_one_records_first_name_the_others_surname(con):
    # six records with a surname: 15 pairs. "james" is a first name twice and a surname once (2
    # pairs), "thomas" a first name once and a surname once, on one record (Thomas Thomas: no
    # pair with itself); a record without a surname is in no pair the surname compares
    con.execute("CREATE TABLE names (unique_id INTEGER, first_name_match VARCHAR, last_name_match VARCHAR)")
    con.executemany(
        "INSERT INTO names VALUES (?, ?, ?)",
        [
            (1, "james", "smith"),
            (2, "james", "brown"),
            (3, "anna", "james"),
            (4, "thomas", "thomas"),
            (5, None, "lee"),
            (6, "lee", None),
            (7, "maria", "lopez"),
        ],
    )
    sdf = DuckDBAPI(connection=con).register("names")
    assert _one_name_swapped_u(sdf) == 2 / 15
    con.execute("DELETE FROM names WHERE last_name_match = 'james'")
    assert _one_name_swapped_u(sdf) is None
