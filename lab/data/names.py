"""Real names for a character-level language model: the name lists of the 1990 US census, as shipped by the
`names` package (installed with the lab; nothing is downloaded).

The package keeps each list as a text file, one name per line with its frequency columns after it: 88,799
surnames, and male and female first names that together hold 5,163 different ones. Names are lower-cased, and
any with a character other than the letters a–z is left out, so every character is one of 26 letters.
"""

from __future__ import annotations

import functools
import importlib.resources

LISTS = {"surnames": ("dist.all.last",), "first_names": ("dist.female.first", "dist.male.first")}


@functools.cache
def load_names(which: str = "surnames") -> tuple[str, ...]:
    """Every distinct name of one census list, lower case, sorted: "surnames" (88,799) or "first_names" (5,163)."""
    if which not in LISTS:
        raise ValueError(f"The 'which' parameter must be one of {list(LISTS)}. Got {which!r} instead.")
    found = set()
    for file in LISTS[which]:
        text = importlib.resources.files("names").joinpath(file).read_text(encoding="ascii")
        for line in text.splitlines():
            name = line.split(" ", 1)[0].strip().lower()
            if name.isalpha() and name.isascii():
                found.add(name)
    return tuple(sorted(found))
