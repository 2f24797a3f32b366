"""A CDP_* variable the platform cannot use is refused when settings are read, by name."""

import pytest

from cdp_pipeline.cli import main
from cdp_pipeline.settings import CURRENCIES_IN_USE, SettingsError, get_settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CDP_TIMEZONE", "Mars/Olympus_Mons", "CDP_TIMEZONE must be a time zone name"),
        ("CDP_DEFAULT_REGION", "XQ", "CDP_DEFAULT_REGION must be a two-letter region code"),
        ("CDP_DUCKDB_THREADS", "two", "CDP_DUCKDB_THREADS must be a whole number, not 'two'"),
        ("CDP_DUCKDB_THREADS", "0", "CDP_DUCKDB_THREADS must be at least 1"),
        ("CDP_MATCH_THRESHOLD", "99", "CDP_MATCH_THRESHOLD must be a number from 0 to 1"),
        ("CDP_ID_CHANGE_WARN_SHARE", "5%", "CDP_ID_CHANGE_WARN_SHARE must be a number from 0 to 1"),
        ("CDP_COMPACT_DAYS", "-1", "CDP_COMPACT_DAYS must be at least 0"),
        ("CDP_ENGINE", "flink", "CDP_ENGINE must be 'duckdb' or 'spark'"),
        (
            "CDP_CURRENCY",
            "kronor",
            "CDP_CURRENCY must be an ISO 4217 currency code in use, such as SEK, EUR or USD, not",
        ),
        ("CDP_CURRENCY", "XTS", "CDP_CURRENCY must be an ISO 4217 currency code"),  # ISO's code for testing
        ("CDP_CURRENCY", "DEM", "CDP_CURRENCY must be an ISO 4217 currency code"),  # retired in 2002
    ],
)
def test_an_unusable_value_is_refused_by_name(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        get_settings()


def test_usable_values_are_read_and_normalised(monkeypatch):
    for name, value in {
        "CDP_TIMEZONE": "UTC",
        "CDP_DEFAULT_REGION": " gb ",
        "CDP_DUCKDB_THREADS": " 4 ",
        "CDP_MATCH_THRESHOLD": "0.95",
        "CDP_COMPACT_DAYS": "1",
        "CDP_CURRENCY": " usd ",
    }.items():
        monkeypatch.setenv(name, value)
    s = get_settings()
    assert (s.timezone, s.default_region, s.duckdb_threads, s.match_threshold, s.compact_days, s.currency) == (
        "UTC",
        "GB",
        4,
        0.95,
        1,
        "USD",
    )


def test_the_currency_is_sek_unless_set(monkeypatch):
    monkeypatch.delenv("CDP_CURRENCY", raising=False)
    assert get_settings().currency == "SEK"


def test_the_cli_says_which_variable_is_wrong_and_exits_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CDP_TIMEZONE", "Europe/Stokholm")
    assert main(["customer", "C0001"]) == 2
    err = capsys.readouterr().err
    assert "cdp: CDP_TIMEZONE must be a time zone name such as Europe/Stockholm or UTC, not 'Europe/Stokholm'" in err
    assert "Traceback" not in err


def test_the_currencies_in_use_are_cldrs_legal_tender_today():
    """settings.CURRENCIES_IN_USE is babel's territory currencies without an end date (after a babel upgrade:
    write them out again)."""
    from babel.core import get_global

    assert CURRENCIES_IN_USE == {
        code
        for currencies in get_global("territory_currencies").values()
        for code, _start, end, tender in currencies
        if end is None and tender
    }
    assert {"SEK", "USD", "EUR", "XOF"} <= CURRENCIES_IN_USE and not {"DEM", "XAU", "XTS", "XXX"} & CURRENCIES_IN_USE
