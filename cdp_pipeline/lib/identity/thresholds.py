"""Which scored pairs become links: one threshold for pairs the model could weigh on e-mail or
phone, and one calibrated each run for pairs it could judge only on name, birth date and address.

A record rich in identifiers (e-mail, phone) is linked at ``match_threshold`` (0.99): where
contact details could be compared, a household sharing a surname, an address and sometimes an
inbox is the usual way for the model to be wrong, so the bar stays high. A pair with neither an
e-mail nor a phone on both records but a birth date on both ("sparse": a CRM extract without
contact details, a store's customer file) is judged on exactly the fields the model weighs best,
and a fixed 0.99 starves it: FEBRL-class data lose one true pair in twenty there. So is a pair
without a birth date on both whose first names and addresses agree at some level (an ESP
member without a birthday beside the CRM record of the same name and street), unless
its first names are two names and the data shows households (``sparse_sql``). For those pairs
the threshold is chosen each run from the model itself: the lowest probability at which the
sparse links the model would make still have an expected precision (the mean of their match
probabilities) of at least ``sparse_target_precision``, never below ``sparse_threshold_floor``
and never above ``match_threshold``.

Splink scores every blocked pair down to the floor; all of them are kept between nights
(``identity.scored_pairs``), so the calibration sees the same pairs whether a night rescored
everything or only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from cdp_pipeline.lib.identity.config import SplinkConfig

SCORED_EDGES = "temp._id_scored_edges"  # every pair scored at or above the floor
LINK_EDGES = "temp._id_prob_edges"  # the pairs that become probabilistic links


def sparse_sql(households: bool = True, two_names_one_household: int | None = None) -> str:
    """Which pairs are "sparse", from Splink's comparison vector (-1: a null level, one side
    without the value; 0: "else"): no e-mail and no phone on both records, and either a birth
    date on both, or first names and addresses that agree at some level (not "else").

    Without a birth date, two first names on one surname and address are what a household looks
    like, and the model, adding surname and address up as independent, does not tell a household
    from one person with a replaced first name. Whether such pairs are households is what the
    data says where contacts can tell (``splink_model.households_seen``: two first names on one
    surname and street whose e-mails or phones say two people): where it does (``households``),
    first names that are two names ("else") stay at match_threshold (the hard cases: 33 such
    pairs at 0.75-0.97, a 100,000-customer sample: 149 at 0.51-0.97, none of them one person);
    where nothing can tell (a CRM extract without contacts: FEBRL, where they are one person
    whose first name was replaced), the model's view stands. A name alone, on two addresses or
    without one (an ESP member without address or birthday), is a namesake as often as not (the
    10k sample: 9 false pairs at 0.50-0.94 without an address; the 100k sample: 21 false and 8
    true on two addresses), so the addresses must agree too. Where nothing can tell, a record
    without a first name is weighed the same way: it is no more a sign of a second person than a
    replaced one (FEBRL-class data: "Pascoe, 3 Kanooka Street" without a first name or birth date
    beside the same surname and street with both, 0.93-0.99, one person).

    The same holds with a birth date on both: two first names on one surname, birth date and street
    (``two_names_one_household``: the comparison vector value of the model's level for them,
    ``splink_model.TWO_NAMES_ONE_HOUSEHOLD``, when the run added it) stay at match_threshold where
    the data shows households. That level's probability is the share of such pairs whose contacts
    can tell that share one, an upper bound of how often they are one person (twins share a family
    inbox or landline too), not a calibrated probability, and the sparse threshold reads the sparse
    links' probabilities as calibrated (their mean as the expected precision). Contact-less twins in
    a CRM extract (same surname, birth date and address, no e-mail or phone) scored 0.93 on the
    hard-case fixture's model, where five twin pairs of eleven share a family inbox, and were linked
    at a sparse threshold below that (`test_parent_child_twins_risks.py`).
    """
    names = "gamma_first_name_match > 0" if households else "gamma_first_name_match >= -1"
    twins = (
        f" AND gamma_first_name_match <> {int(two_names_one_household)}"
        if households and two_names_one_household is not None
        else ""
    )
    return (
        f"(gamma_email = -1 AND gamma_phone = -1{twins}"
        f" AND (gamma_birth_date <> -1 OR ({names} AND gamma_address > 0)))"
    )


SPARSE_SQL = sparse_sql()


def prediction_floor(sp: SplinkConfig) -> float:
    """The lowest probability a pair is scored and kept at."""
    return min(sp.match_threshold, sp.sparse_threshold_floor)


@dataclass
class Thresholds:
    match_threshold: float
    sparse_threshold: float
    sparse_expected_precision: float | None  # mean probability of the sparse links (None: none)
    sparse_links: int

    def as_metadata(self) -> dict:
        return {
            "match_threshold": self.match_threshold,
            "sparse_pair_threshold": round(self.sparse_threshold, 4),
            "sparse_expected_precision": None
            if self.sparse_expected_precision is None
            else round(self.sparse_expected_precision, 4),
            "sparse_links": self.sparse_links,
        }


def calibrated_sparse_threshold(probabilities: list[float], sp: SplinkConfig) -> float:
    """The lowest probability p (floor <= p <= match_threshold) such that the sparse pairs scored
    at or above p have a mean probability of at least the target; ``match_threshold`` when even
    the best pairs do not reach it. The mean of the top k of a falling sequence only falls as k
    grows, so the answer is the k-th value for the largest k that still reaches the target."""
    ranked = sorted((p for p in probabilities if p >= sp.sparse_threshold_floor), reverse=True)
    best, total = None, 0.0
    for k, p in enumerate(ranked, start=1):
        total += p
        if total / k >= sp.sparse_target_precision:
            best = p
    if best is None:
        return sp.match_threshold
    return min(sp.match_threshold, best)


def apply_thresholds(con: duckdb.DuckDBPyConnection, sp: SplinkConfig) -> Thresholds:
    """Keep every scored pair in ``SCORED_EDGES``; leave in ``LINK_EDGES`` those above their threshold."""
    # LINK_EDGES is written in (rid_l, rid_r) order (splink_model.py), which the copy keeps
    # (DuckDB preserves insertion order): sorting it again cost a quiet night 0.2 CPU s at 1M
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SCORED_EDGES.split('.')[-1]} AS SELECT * FROM {LINK_EDGES}")
    sparse = [
        r[0] for r in con.execute(f"SELECT match_probability::DOUBLE FROM {SCORED_EDGES} WHERE sparse").fetchall()
    ]
    t_sparse = calibrated_sparse_threshold(sparse, sp)
    con.execute(
        f"""DELETE FROM {LINK_EDGES}
                    WHERE match_probability < CASE WHEN sparse THEN $ts ELSE $t END""",
        {"ts": t_sparse, "t": sp.match_threshold},
    )
    kept = [p for p in sparse if p >= t_sparse]
    return Thresholds(
        match_threshold=sp.match_threshold,
        sparse_threshold=t_sparse,
        sparse_expected_precision=sum(kept) / len(kept) if kept else None,
        sparse_links=len(kept),
    )
