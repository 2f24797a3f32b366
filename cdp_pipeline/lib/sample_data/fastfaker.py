"""Faker generators with the per-call overhead of the population's hot calls taken out.

The population draws a few million first names, last names, street addresses, postcodes and
cities. Faker spends most of that time not in drawing but around it: ``random_element``
rebuilds the cumulative weights of a name list of thousands on every call, and
``Generator.parse`` runs a regular expression with a callback per template. ``fast_generator``
returns the locale's own Generator, seeded as ``seed_instance`` seeds it but drawing from a
``FastRandom`` (fastrandom.py: an integer draw is one float), with three of its internals
replaced by equivalents that make the same draws from that stream in the same order, so every
value (and the random stream after it) is the one plain Faker gives on the same stream for the
pinned version; ``test_sample_data.py`` checks that on draws per locale.
"""

from bisect import bisect
from collections import OrderedDict
from itertools import accumulate

from faker import Faker
from faker.generator import Generator, _re_token
from faker.providers import BaseProvider

from .fastrandom import FastRandom


def fast_generator(locale: str, seed: int) -> Generator:
    """Faker(locale), seeded with seed_instance(seed), as its Generator with the fast paths."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    (generator,) = fake._factories  # the one locale's Generator, which its providers call back
    generator.random = FastRandom(seed)  # seeded as seed_instance seeds: integer draws from one float
    if any(provider.generator is not generator for provider in generator.providers):
        raise RuntimeError("faker's layout changed: check fastfaker against the pinned version")
    for provider in generator.providers:
        provider.random_element = _random_element(provider)
        if all(getattr(type(provider), name) is getattr(BaseProvider, name) for name in _NUMERIFY_CALLS):
            provider.numerify = _numerify(provider)
    generator.parse = _parse(generator)
    return generator


def _random_element(provider):
    """BaseProvider.random_element (random_elements with length=1, unique=False): an
    OrderedDict draws its keys by weight (random.choices, here with the cumulative weights
    kept), anything else one element with random.choice."""
    rng = provider.generator.random
    random = rng.random
    use_weighting = provider.__use_weighting__
    weighted: dict[int, tuple] = {}

    def random_element(elements=("a", "b", "c")):
        if isinstance(elements, dict):
            entry = weighted.get(id(elements))
            if entry is None or entry[0] is not elements:
                if not isinstance(elements, OrderedDict):
                    raise ValueError("Use OrderedDict only to avoid dependency on PYTHONHASHSEED (See #363).")
                keys = tuple(elements.keys())
                entry = (elements, keys, list(accumulate(elements.values())) if use_weighting else None)
                weighted[id(elements)] = entry
            _, keys, cum_weights = entry
            if cum_weights is None:
                return keys[int(random() * len(keys))]  # rng.choice(keys), FastRandom's draw
            # rng.choices(keys, cum_weights=cum_weights, k=1)[0], without its call
            return keys[bisect(cum_weights, random() * cum_weights[-1], 0, len(keys) - 1)]
        return rng.choice(elements if isinstance(elements, (tuple, list, str)) else tuple(elements))

    return random_element


# numerify and the digit draws it makes: replaced only where a provider keeps all of Faker's own.
_NUMERIFY_CALLS = (
    "numerify",
    "random_digit",
    "random_digit_not_null",
    "random_digit_above_two",
    "random_digit_or_empty",
    "random_digit_not_null_or_empty",
)


def _numerify(provider):
    """BaseProvider.numerify: every '#' (left to right) a digit 0-9, then every '%' 1-9, every
    '$' 2-9, every '!' a digit or nothing, every '@' 1-9 or nothing, each drawn as Faker's
    random_digit* draw it (randint(a, b) is a + _randbelow(b - a + 1)); the places of the
    marks kept per text instead of five regular-expression passes with a callback per mark."""
    random = provider.generator.random.random  # a FastRandom's: _randbelow(n) is int(random() * n)
    plans: dict[str, tuple] = {}

    def numerify(text: str = "###") -> str:
        plan = plans.get(text)
        if plan is None:
            plan = plans[text] = tuple(
                (mark, tuple(index for index, char in enumerate(text) if char == mark)) for mark in "#%$!@"
            )
        chars = list(text)
        for mark, places in plan:
            for index in places:
                if mark == "#":
                    chars[index] = _DIGITS[int(random() * 10)]
                elif mark == "%":
                    chars[index] = _DIGITS[1 + int(random() * 9)]
                elif mark == "$":
                    chars[index] = _DIGITS[2 + int(random() * 8)]
                elif mark == "!":
                    chars[index] = _DIGITS[int(random() * 10)] if int(random() * 2) else ""
                else:
                    chars[index] = _DIGITS[1 + int(random() * 9)] if int(random() * 2) else ""
        return "".join(chars)

    return numerify


_DIGITS = "0123456789"


def _parse(generator: Generator):
    """Generator.parse: each '{{ token }}' replaced, left to right, by str(generator.token());
    the templates are split once instead of by a regular expression on every call."""
    original = generator.parse
    templates: dict[str, tuple | None] = {}

    def parse(text: str) -> str:
        template = templates.get(text, False)
        if template is False:
            parts, position = [], 0
            for match in _re_token.finditer(text):
                if match.group(2):  # an argument group: leave it to Faker
                    parts = None
                    break
                parts.append((text[position : match.start()], match.group(1)))
                position = match.end()
            template = templates[text] = None if parts is None else (tuple(parts), text[position:])
        if template is None:
            return original(text)
        parts, tail = template
        out = []
        for literal, name in parts:
            out.append(literal)
            out.append(str(getattr(generator, name)()))
        out.append(tail)
        return "".join(out)

    return parse
