"""The generator's random stream: Python's Mersenne Twister, with whole-number draws made from
one float each.

``random.Random`` draws an integer below n by rejection over ``getrandbits`` (one or more C
calls and a Python loop per draw), and ``randrange``/``choice`` wrap that in argument checks: a
few hundred nanoseconds, millions of times per sample. Here an integer below n (n up to 2**32)
is ``int(random() * n)``: one C call. Its bias is below 2**-20 for every n the generator uses
(the float has 53 bits), far under anything a sample can show. Same seed, same stream, same
values: the output stays deterministic, but the values differ from ``random.Random``'s.
"""

import random

_FLOAT_LIMIT = 1 << 32  # above this, the float's 53 bits are too few: the exact draw


class FastRandom(random.Random):
    """random.Random seeded the same way, whose integer draws cost one float each."""

    def _randbelow(self, n: int) -> int:  # what sample, shuffle and choices build on
        if n <= _FLOAT_LIMIT:
            return int(self.random() * n)
        return self._randbelow_with_getrandbits(n)

    def randrange(self, start, stop=None, step=1):
        if stop is None:
            start, stop = 0, start
        width = stop - start
        if step == 1 and 0 < width <= _FLOAT_LIMIT:
            return start + int(self.random() * width)
        return super().randrange(start, stop, step)

    def randint(self, a: int, b: int) -> int:
        return self.randrange(a, b + 1)

    def choice(self, seq):
        if not seq:
            raise IndexError("Cannot choose from an empty sequence")
        return seq[int(self.random() * len(seq))]

    def digits(self, count: int) -> str:
        """count decimal digits (leading zeros kept), from one draw when count <= 9."""
        if count <= 9:
            return f"{int(self.random() * 10**count):0{count}d}"
        return self.digits(9) + self.digits(count - 9)
