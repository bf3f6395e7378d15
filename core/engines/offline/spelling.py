"""Chat spellings read as the words they stand for, before anything else looks at the question.

"wat shud i watch tonite" is "what should i watch tonight". Only whole words from
this list are replaced (titles keep their spelling: the tools match those against
the library, typos included); longer misspellings of the domain vocabulary are
corrected by the router with rapidfuzz.
"""

from __future__ import annotations

import re

CHAT_SPELLINGS: dict[str, str] = {
    "wat": "what", "wut": "what", "wht": "what", "whta": "what", "waht": "what",
    "shud": "should", "shld": "should", "shoud": "should", "sould": "should", "shoul": "should",
    "tonite": "tonight", "2nite": "tonight", "tonigth": "tonight", "tnight": "tonight",
    "u": "you", "ya": "you", "yu": "you", "ur": "your", "r": "are", "n": "and",
    "pls": "please", "plz": "please", "plse": "please", "thx": "thanks", "ty": "thanks",
    "rn": "right now", "atm": "at the moment", "abt": "about", "bc": "because", "cuz": "because",
    "hav": "have", "hve": "have", "ive": "i have", "alll": "all", "waht's": "what's",
    "recomend": "recommend", "reccomend": "recommend", "recommand": "recommend", "recommed": "recommend",
    "sugest": "suggest", "suggets": "suggest", "somthing": "something", "sth": "something",
    "smth": "something", "somethin": "something", "watchd": "watched", "wacth": "watch",
    "whach": "watch", "wathc": "watch", "wtach": "watch", "seen't": "not seen",
    "bandwith": "bandwidth", "bandwitdh": "bandwidth", "storag": "storage", "librry": "library",
    "libary": "library", "liberary": "library", "moviez": "movies", "movis": "movies", "moveis": "movies",
    "flims": "films", "shwos": "shows", "epsiode": "episode", "epiosde": "episode", "episdoe": "episode",
    "reqest": "request", "requst": "request", "reqeust": "request", "requets": "requests",
    "requestes": "requests", "aproved": "approved", "approvd": "approved", "declind": "declined",
    "hrs": "hours", "hr": "hour", "mins": "minutes", "yr": "year", "yrs": "years",
    "wk": "week", "wks": "weeks", "lst": "last", "mnth": "month", "mth": "month",
    "finsh": "finish", "finnish": "finish", "finised": "finished", "finshed": "finished",
    "abandonned": "abandoned", "genra": "genre", "favourit": "favourite",
    "favorit": "favorite", "watchtime": "watch time", "whos": "who's", "whats": "what's",
    "hows": "how's", "dont": "don't", "didnt": "didn't", "havent": "haven't", "hasnt": "hasn't",
    "isnt": "isn't", "wasnt": "wasn't", "cant": "can't", "im": "i'm", "gonna": "going to",
    "wanna": "want to", "gimme": "give me", "lemme": "let me", "dunno": "don't know",
}  # fmt: skip

_WORD = re.compile(r"[A-Za-z0-9']+|[^A-Za-z0-9']+")


def normalise(question: str) -> str:
    """The question with chat spellings replaced, case and punctuation otherwise kept."""
    out = []
    for piece in _WORD.findall(question.replace("’", "'")):
        replacement = CHAT_SPELLINGS.get(piece.lower())
        out.append(replacement if replacement is not None else piece)
    return "".join(out)
