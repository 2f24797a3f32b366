"""Sample-data generator: realistic Nordic extracts for crm, esp, sms, web and pos in the
formats of docs/sources.md, with the truth (which person owns each identity record) and a
manifest of deliberately broken rows. Plain Python; used by `cdp sample`."""

from .generate import SOURCES, generate_sample

__all__ = ["SOURCES", "generate_sample"]
