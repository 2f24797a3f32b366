"""Every path and knob of the platform, read from ``CDP_*`` environment variables.

Settings are read when asked for (``get_settings()``), never cached at import, so a
test or a CLI flag can point the whole pipeline somewhere else by setting variables.
The README's configuration table is generated from ``SETTINGS_DOC`` below; keep the
two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_DIR = PACKAGE_DIR / "config"

SOURCES = ("crm", "esp", "sms", "web", "pos")


def machine_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# name -> (default, meaning). Defaults that are paths are relative to CDP_DATA_DIR.
SETTINGS_DOC: dict[str, tuple[str, str]] = {
    "CDP_DATA_DIR": ("./data", "root of landing/, warehouse/, exports/, inbox/, reports/"),
    "CDP_LANDING_DIR": ("$CDP_DATA_DIR/landing", "where source systems drop extract files"),
    "CDP_WAREHOUSE": ("$CDP_DATA_DIR/warehouse/cdp.duckdb", "the published, analyst-facing DuckDB file"),
    "CDP_BUILD_DB": (
        "(warehouse folder)/build/(warehouse name)_build.duckdb",
        "the pipeline's private working database; each warehouse has its own "
        "($CDP_DATA_DIR/warehouse/build/cdp_build.duckdb for the default one)",
    ),
    "CDP_EXPORT_DIR": (
        "$CDP_DATA_DIR/exports",
        "audience export files per destination; for a CDP_WAREHOUSE "
        "other than the default: (warehouse folder)/(warehouse name)_exports",
    ),
    "CDP_INBOX_DIR": ("$CDP_DATA_DIR/inbox", "review decisions, erasure requests, consent acknowledgements"),
    "CDP_REPORTS_DIR": ("$CDP_DATA_DIR/reports", "model JSON and HTML charts written by runs"),
    "CDP_CONFIG_DIR": (
        "(package)/config",
        "YAML configuration: identity rules, name variants, survivorship, segments, destinations; a file "
        "missing there is the packaged one's, and an identity.yaml, name_variants.yaml or survivorship.yaml "
        "there holds only the keys it changes (docs/operations.md, Configuration files)",
    ),
    "CDP_DEFAULT_REGION": ("SE", "region assumed for phone numbers written without a country code"),
    "CDP_TIMEZONE": ("Europe/Stockholm", "business time zone: schedule, local timestamps, 'as of' dates"),
    "CDP_CURRENCY": (
        "SEK",
        "the warehouse currency (an ISO 4217 code): an amount written without a currency and every store "
        "receipt are in it, and the money traits (total_spend, average_order_value) count only orders in it",
    ),
    "CDP_DUCKDB_MEMORY_LIMIT": ("4GB", "DuckDB memory_limit for the build connection"),
    "CDP_DUCKDB_THREADS": ("2", "DuckDB threads for the build connection"),
    "CDP_RAW_PARSE_WORKERS": (
        "(the machine's cores)",
        "processes that read and parse the raw step's landing files while the step writes them "
        "(1: parsed in the step's own process; a run with under 64 MB of raw files always is)",
    ),
    "CDP_MATCH_THRESHOLD": (
        "0.99",
        "Splink match probability at or above which two records with an e-mail or phone to compare are linked "
        "(pairs judged on name, birth date and address alone: a threshold calibrated each run, docs/identity.md)",
    ),
    "CDP_ENGINE": (
        "duckdb",
        "where Splink training and prediction run: duckdb (in process) or spark "
        "(Splink's Spark backend; needs the `spark` extra and Java 17; docs/spark.md)",
    ),
    "CDP_SPARK_MASTER": (
        "local[*]",
        "Spark master when CDP_ENGINE=spark: local[*], spark://host:7077, yarn, k8s://...",
    ),
    "CDP_SPARK_CONF": ("", "extra Spark properties as key=value;key=value (e.g. spark.executor.memory=8g)"),
    "CDP_SPARK_CHECKPOINT_DIR": (
        "(build db folder)/spark_checkpoints",
        "Spark checkpoint/work folder; on a cluster a path every node reaches (hdfs://, s3a://, a shared mount)",
    ),
    "CDP_MODEL_RETRAIN_DAYS": (
        "7",
        "retrain the identity model when it is this many days of data old (0: every "
        "night); between retrains a night scores only changed records",
    ),
    "CDP_COMPACT_DAYS": (
        "7",
        "the build database is compacted (DuckDB merges row groups, drops deleted "
        "rows) on a full refresh and when this many days passed since the last time; "
        "other runs skip it (1: every run)",
    ),
    "CDP_ID_CHANGE_WARN_SHARE": ("0.05", "warn when more than this share of customer IDs change between runs"),
    "CDP_SUPPRESSION_SALT_FILE": (
        "$CDP_DATA_DIR/secrets/suppression_salt",
        "secret salt of the erased-identifier hashes (created 0600 on first erasure)",
    ),
    "CDP_SAMPLE_CUSTOMERS": ("10000", "people in the generated sample (make run)"),
    "CDP_SAMPLE_DAYS": ("30", "days of landing files in the generated sample"),
    "CDP_SAMPLE_SEED": ("42", "seed of the generated sample"),
}


class SettingsError(ValueError):
    """A ``CDP_*`` variable holds a value the platform cannot use; the message names it."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int_env(name: str, default: str, *, minimum: int) -> int:
    raw = _env(name, default)
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _share_env(name: str, default: str) -> float:
    """A probability or a share: a number from 0 to 1."""
    raw = _env(name, default)
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number from 0 to 1, not {raw!r}") from None
    if not 0 <= value <= 1:
        raise SettingsError(f"{name} must be a number from 0 to 1, not {raw!r}")
    return value


def _timezone_env(name: str, default: str) -> str:
    """An IANA zone name. An unknown one would make every local timestamp unreadable and the
    schedule fail, so it is refused here, by name."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    raw = _env(name, default).strip()
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise SettingsError(f"{name} must be a time zone name such as Europe/Stockholm or UTC, not {raw!r}") from None
    return raw


def _region_env(name: str, default: str) -> str:
    """A two-letter region phone numbers are read in (an unknown one reads none of them)."""
    import phonenumbers

    raw = _env(name, default).strip().upper()
    if raw not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"{name} must be a two-letter region code such as SE or GB, not {raw!r}")
    return raw


# ISO 4217 codes of the currencies legal tender somewhere today: CLDR's territory currencies (babel's
# ``territory_currencies`` without an end date, tender), written out because reading babel's data costs
# ~17 ms CPU in every process that reads the settings (test_settings.py compares the two). Not a retired
# code (DEM), a metal (XAU) or a code for testing (XTS, XXX).
CURRENCIES_IN_USE = frozenset(
    (
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD "
        "CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
        "GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD "
        "KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO "
        "NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE "
        "SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST "
        "XAF XCD XCG XOF XPF YER ZAR ZMW ZWG"
    ).split()
)


def _currency_env(name: str, default: str) -> str:
    """The warehouse currency: a code no order could be in would leave every customer's spend 0,
    so it is refused here, by name."""
    raw = _env(name, default).strip()
    if raw.upper() not in CURRENCIES_IN_USE:
        raise SettingsError(f"{name} must be an ISO 4217 currency code in use, such as SEK, EUR or USD, not {raw!r}")
    return raw.upper()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    warehouse: Path
    build_db: Path
    export_dir: Path
    inbox_dir: Path
    reports_dir: Path
    config_dir: Path
    default_region: str = "SE"
    timezone: str = "Europe/Stockholm"
    currency: str = "SEK"
    duckdb_memory_limit: str = "4GB"
    duckdb_threads: int = 2
    raw_parse_workers: int = 1
    match_threshold: float = 0.99
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    spark_conf: str = ""
    spark_checkpoint_dir: str = ""
    id_change_warn_share: float = 0.05
    model_retrain_days: int = 7
    compact_days: int = 7
    sample_customers: int = 10_000
    sample_days: int = 30
    sample_seed: int = 42
    extra: dict = field(default_factory=dict)

    @property
    def truth_file(self) -> Path:
        """Where `make run` writes the generated sample's known answers."""
        return self.data_dir / "sample_truth" / "truth.csv"

    def ensure_dirs(self) -> None:
        for p in (
            self.landing_dir,
            self.warehouse.parent,
            self.build_db.parent,
            self.export_dir,
            self.inbox_dir,
            self.reports_dir,
        ):
            p.mkdir(parents=True, exist_ok=True)

    def duckdb_config(self) -> dict:
        return {"memory_limit": self.duckdb_memory_limit, "threads": self.duckdb_threads}


def get_settings() -> Settings:
    data_dir = Path(_env("CDP_DATA_DIR", "./data")).resolve()

    def path(name: str, default: Path) -> Path:
        return Path(_env(name, str(default))).resolve()

    engine = _env("CDP_ENGINE", "duckdb").strip().lower()
    if engine not in ("duckdb", "spark"):
        raise SettingsError(f"CDP_ENGINE must be 'duckdb' or 'spark', not {engine!r}")
    # A warehouse brings its own build state and exports (lib/common/run_state.py says why): derived from
    # its path, so the default warehouse keeps the folders it always had.
    default_warehouse = data_dir / "warehouse" / "cdp.duckdb"
    warehouse = path("CDP_WAREHOUSE", default_warehouse)
    build_db = path("CDP_BUILD_DB", warehouse.parent / "build" / f"{warehouse.stem}_build.duckdb")
    export_dir = path(
        "CDP_EXPORT_DIR",
        data_dir / "exports"
        if warehouse == default_warehouse.resolve()
        else warehouse.parent / f"{warehouse.stem}_exports",
    )
    checkpoint_dir = _env("CDP_SPARK_CHECKPOINT_DIR", str(build_db.parent / "spark_checkpoints"))
    if "://" not in checkpoint_dir:  # a URI (hdfs://, s3a://) is kept as written
        checkpoint_dir = str(Path(checkpoint_dir).resolve())

    return Settings(
        data_dir=data_dir,
        landing_dir=path("CDP_LANDING_DIR", data_dir / "landing"),
        warehouse=warehouse,
        build_db=build_db,
        export_dir=export_dir,
        inbox_dir=path("CDP_INBOX_DIR", data_dir / "inbox"),
        reports_dir=path("CDP_REPORTS_DIR", data_dir / "reports"),
        config_dir=path("CDP_CONFIG_DIR", DEFAULT_CONFIG_DIR),
        default_region=_region_env("CDP_DEFAULT_REGION", "SE"),
        timezone=_timezone_env("CDP_TIMEZONE", "Europe/Stockholm"),
        currency=_currency_env("CDP_CURRENCY", "SEK"),
        duckdb_memory_limit=_env("CDP_DUCKDB_MEMORY_LIMIT", "4GB"),
        duckdb_threads=_int_env("CDP_DUCKDB_THREADS", "2", minimum=1),
        raw_parse_workers=_int_env("CDP_RAW_PARSE_WORKERS", str(machine_cores()), minimum=1),
        match_threshold=_share_env("CDP_MATCH_THRESHOLD", "0.99"),
        engine=engine,
        spark_master=_env("CDP_SPARK_MASTER", "local[*]"),
        spark_conf=_env("CDP_SPARK_CONF", ""),
        spark_checkpoint_dir=checkpoint_dir,
        id_change_warn_share=_share_env("CDP_ID_CHANGE_WARN_SHARE", "0.05"),
        model_retrain_days=_int_env("CDP_MODEL_RETRAIN_DAYS", "7", minimum=0),
        compact_days=_int_env("CDP_COMPACT_DAYS", "7", minimum=0),
        sample_customers=_int_env("CDP_SAMPLE_CUSTOMERS", "10000", minimum=1),
        sample_days=_int_env("CDP_SAMPLE_DAYS", "30", minimum=1),
        sample_seed=_int_env("CDP_SAMPLE_SEED", "42", minimum=0),
    )


def check_config_files(config_dir: Path) -> None:
    """Read every YAML file of ``config_dir`` the night reads (identity rules, name variants,
    survivorship, segments, destinations) as its step will, so a file that is not YAML, an unknown
    key or a value of the wrong type stops the run before any step writes
    (``lib.common.config_files.ConfigError``, naming the file and the key), not hours into the night.
    Called when the code location loads (``defs/resources.py``) and by ``cdp run`` before it starts.
    The loaders are imported here: they are heavier than the settings."""
    from cdp_pipeline.lib.activation.destinations import load_destinations
    from cdp_pipeline.lib.golden.survivorship import load_survivorship_config
    from cdp_pipeline.lib.identity.config import load_identity_config
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.segments.definitions import load_segment_definitions

    load_identity_config(config_dir=config_dir)
    load_name_variants(config_dir)
    load_survivorship_config(config_dir)
    load_segment_definitions(config_dir)
    load_destinations(config_dir)
