"""Reducing a question to the words that carry its meaning, whatever words the asker chose.

"Which films haven't I seen?" and "what movies have I not watched" both become
``movie not watch self``: contractions are expanded, synonyms and phrasings are
mapped to one canonical word, filler words are dropped. The router compares
these canonical forms with the tools' examples.
"""

from __future__ import annotations

import re

_CONTRACTIONS = [
    (r"\bwon'?t\b", "will not"),
    (r"\bcan'?t\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"n't\b", " not"),
    (r"\bhavent\b", "have not"),
    (r"\bhasnt\b", "has not"),
    (r"\bdidnt\b", "did not"),
    (r"\bdont\b", "do not"),
    (r"\bdoesnt\b", "does not"),
    (r"\bisnt\b", "is not"),
    (r"\baren'?t\b", "are not"),
    (r"'s\b", ""),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"'m\b", " am"),
    (r"\bim\b", "i am"),
    (r"\bive\b", "i have"),
    (r"\bwhats\b", "what"),
    (r"\bwhos\b", "who"),
]

# Multi-word phrasings first (longest first when applied), then single words.
PHRASES: dict[str, str] = {
    "logged in": "login",
    "log in": "login",
    "logged on": "login",
    "signed in": "login",
    "sign in": "login",
    "signed on": "login",
    "been on": "login",
    "been around": "login",
    "shown up": "login",
    "showed up": "login",
    "turned down": "decline",
    "shot down": "decline",
    "knocked back": "decline",
    "asked for": "request",
    "ask for": "request",
    "put in": "request",
    "made request": "request",
    "how long": "howlong",
    "how much time": "howlong",
    "how quickly": "howlong",
    "how fast": "howlong",
    "how many": "howmany",
    "number of": "howmany",
    "count of": "howmany",
    "what time": "when",
    "time of day": "when hour",
    "which hour": "when hour",
    "what hour": "when hour",
    "of day": "hour",
    "gave up on": "abandon",
    "gave up": "abandon",
    "give up": "abandon",
    "given up": "abandon",
    "stopped watching": "abandon",
    "quit watching": "abandon",
    "dropped off": "abandon",
    "never finished": "abandon",
    "not finish": "abandon",
    "left unfinished": "abandon",
    "half watched": "abandon",
    "half finished": "abandon",
    "all users": "everyone",
    "all members": "everyone",
    "other users": "others",
    "other people": "others",
    "other members": "others",
    "everyone else": "others",
    "everybody else": "others",
    "the others": "others",
    "rest of": "others",
    "server wide": "everyone",
    "across server": "everyone",
    "across all": "everyone",
    "whole server": "everyone",
    "entire server": "everyone",
    "on server": "everyone",
    "highly rated": "top rated",
    "well rated": "top rated",
    "best rated": "top rated",
    "highest rated": "top rated",
    "critically acclaimed": "top rated",
    "good reviews": "top rated",
    "great reviews": "top rated",
    "not watched": "unwatched",
    "not seen": "unwatched",
    "not played": "unwatched",
    "never watched": "unwatched",
    "never seen": "unwatched",
    "never played": "unwatched",
    "nobody watched": "unwatched",
    "no one watched": "unwatched",
    "nobody watches": "unwatched",
    "never watch": "unwatched",
    "yet to watch": "unwatched",
    "have not got to": "unwatched",
    "still to watch": "unwatched",
    "disk space": "storage",
    "hard drive": "storage",
    "drive space": "storage",
    "space used": "storage",
    "space taken": "storage",
    "taking up": "storage",
    "take up": "storage",
    "data transfer": "bandwidth",
    "data usage": "bandwidth",
    "network usage": "bandwidth",
    "streaming traffic": "bandwidth",
    "error rate": "error rate",
    "failure rate": "error rate",
    "http errors": "error rate",
    "api errors": "api error rate",
    "sync errors": "sync error",
    "sync problems": "sync error",
    "sync issues": "sync error",
    "sync failures": "sync error",
    "in sync": "sync",
    "up to date": "sync",
    "get rid of": "delete",
    "clean up": "delete",
    "clear out": "delete",
    "free up": "delete",
    "power users": "power user",
    "heavy users": "power user",
    "super users": "power user",
    "most engaged": "power user",
    "most dedicated": "power user",
    "biggest fans": "power user",
    "most active": "active",
    "least active": "inactive",
    "show me": "",
    "show my": "my",
    "show the": "",
    "show us": "",
    "right now": "",
    "at the moment": "",
    "these days": "",
    "lately": "",
    "so far": "",
    "kind of": "",
    "sort of": "",
    "tv shows": "show",
    "tv series": "show",
    "tv": "show",
    "new releases": "new",
    "recently added": "new added",
    "just added": "new added",
    "came in": "added",
    "come in": "added",
    "got added": "added",
    "been added": "added",
    "arrived": "added",
    "taste in": "genre",
    "kinds of": "genre",
    "types of": "genre",
    "what kind": "genre",
    "what sort": "genre",
    "per user": "user",
    "by user": "user",
    "each user": "user",
    "per library": "library",
    "by library": "library",
    "each library": "library",
    "the most": "most",
    "the least": "least",
    "ever been": "",
    "go to": "",
    "tonight": "tonight",
    "this evening": "tonight",
    "to night": "tonight",
}

WORDS: dict[str, str] = {
    # watching
    "watched": "watch", "watching": "watch", "watches": "watch", "seen": "watch", "saw": "watch",
    "see": "watch", "viewed": "watch", "view": "watch", "views": "watch", "viewing": "watch",
    "streamed": "watch", "stream": "watch", "streams": "watch", "streaming": "watch", "played": "watch",
    "play": "watch", "plays": "watch", "playing": "watch", "binge": "watch", "binged": "watch",
    "consumed": "watch", "caught": "watch", "screen": "watch",
    "playback": "watch", "plays_count": "watch",
    # media
    "movies": "movie", "film": "movie", "films": "movie", "flick": "movie", "flicks": "movie",
    "cinema": "movie", "shows": "show", "series": "show", "serie": "show", "episodes": "episode",
    "ep": "episode", "eps": "episode", "seasons": "season", "titles": "content", "title": "content",
    "stuff": "content", "things": "content", "thing": "content", "items": "content", "item": "content",
    "media": "content", "contents": "content",
    # library
    "libraries": "library", "collection": "library", "catalog": "library", "catalogue": "library",
    "plex": "server", "jellyfin": "server", "servers": "server",
    # people
    "users": "user", "members": "user", "member": "user", "people": "user", "person": "user",
    "folks": "user", "friends": "user", "accounts": "user", "account": "user", "viewers": "user",
    "viewer": "user", "everybody": "everyone", "everyone": "everyone", "anyone": "everyone",
    "anybody": "everyone", "whose": "who", "whom": "who", "i": "self", "me": "self", "my": "self",
    "mine": "self", "myself": "self", "we": "server", "our": "server", "us": "server",
    # asking for / suggesting
    "recommend": "recommend", "recommendation": "recommend", "recommendations": "recommend",
    "suggest": "recommend", "suggestion": "recommend", "suggestions": "recommend", "pick": "recommend",
    "picks": "recommend", "should": "recommend", "worth": "recommend", "idea": "recommend",
    "ideas": "recommend",
    "similar": "like", "alike": "like", "resembling": "like",
    # amounts and ranking
    "most": "most", "top": "most", "biggest": "most", "largest": "most", "highest": "most",
    "greatest": "most", "favourite": "most", "favorite": "most", "favourites": "most", "favorites": "most",
    "popular": "popular", "popularity": "popular", "trending": "trending", "hot": "trending",
    "buzz": "trending", "hottest": "trending",
    "amount": "howmuch", "total": "howmuch", "much": "howmuch", "hours": "howmuch", "minutes": "howmuch",
    "time": "howmuch", "average": "average", "avg": "average", "mean": "average", "typical": "average",
    "usually": "average", "typically": "average", "normally": "average", "generally": "average",
    # ratings
    "rating": "rate", "ratings": "rate", "rated": "rate", "rates": "rate", "rate": "rate", "score": "rate",
    "scores": "rate", "scored": "rate", "stars": "rate", "star": "rate", "review": "rate",
    "reviews": "rate", "reviewed": "rate", "grade": "rate", "grades": "rate",
    # genres
    "genres": "genre", "genre": "genre", "categories": "genre", "category": "genre", "kinds": "genre",
    "types": "genre",
    # history and time
    "history": "history", "log": "history", "list": "history", "record": "history", "diary": "history",
    "recently": "recent", "recent": "recent", "lately": "recent", "while": "recent", "ages": "recent",
    "week": "week", "weeks": "week", "month": "month", "months": "month",
    "when": "when", "hour": "hour", "hours_of_day": "hour", "o'clock": "hour", "evenings": "when",
    "night": "when", "nights": "when", "mornings": "when", "weekday": "when", "weekdays": "when",
    # finishing / abandoning
    "finish": "finish", "finishing": "finish", "finished": "finish", "complete": "finish",
    "completing": "finish", "completed": "finish", "done": "finish", "remaining": "finish",
    "left": "finish", "remain": "finish", "abandoned": "abandon", "abandon": "abandon",
    "dropped": "abandon", "drop": "abandon", "quit": "abandon", "unfinished": "abandon",
    "incomplete": "abandon", "partially": "abandon", "stalled": "abandon",
    # requests
    "requests": "request", "requested": "request", "requesting": "request", "request": "request",
    "asked": "request", "ordered": "request", "wanted": "request", "wishlist": "request",
    "approve": "approve", "approves": "approve", "approved": "approve", "approving": "approve",
    "approval": "approve", "approvals": "approve", "accepted": "approve", "accepts": "approve",
    "grant": "approve", "granted": "approve", "fulfilled": "available", "fulfil": "available",
    "fulfill": "available", "available": "available", "availability": "available",
    "declined": "decline", "decline": "decline", "declines": "decline", "denied": "decline",
    "deny": "decline", "rejected": "decline", "rejects": "decline", "refused": "decline",
    "rejection": "decline", "rejections": "decline", "fastest": "fast", "quickest": "fast",
    "quickly": "fast", "quick": "fast", "speed": "fast", "fast": "fast", "slowest": "fast",
    "take": "howlong", "takes": "howlong", "took": "howlong", "wait": "howlong", "waiting": "howlong",
    "turnaround": "howlong", "duration": "howlong",
    # admin: users
    "active": "active", "activity": "active", "engaged": "active", "busiest": "active",
    "inactive": "inactive", "idle": "inactive", "dormant": "inactive", "absent": "inactive",
    "disappeared": "inactive", "vanished": "inactive", "login": "login", "logins": "login",
    "visited": "login", "visit": "login", "online": "login", "lurkers": "inactive",
    "logged": "login",
    "power": "power", "influence": "influence", "influential": "influence", "influencers": "influence",
    "discover": "discover", "discovers": "discover", "discovered": "discover", "finds": "discover",
    "find": "discover", "love": "love", "loved": "love", "loves": "love", "enjoy": "love",
    "enjoyed": "love", "enjoys": "love", "liked": "love", "likes": "love",
    "never": "not", "nobody": "not", "none": "not", "no": "not", "zero": "not",
    # admin: content and operations
    "remove": "delete", "removal": "delete", "removed": "delete", "delete": "delete", "deleted": "delete",
    "deleting": "delete", "deletion": "delete", "deletions": "delete", "purge": "delete",
    "purged": "delete", "prune": "delete", "cull": "delete", "trash": "delete",
    "storage": "storage", "space": "storage", "disk": "storage", "size": "storage", "sizes": "storage",
    "gb": "storage", "tb": "storage", "terabytes": "storage", "gigabytes": "storage", "bytes": "storage",
    "bandwidth": "bandwidth", "traffic": "bandwidth", "transfer": "bandwidth", "transferred": "bandwidth",
    "throughput": "bandwidth", "upload": "bandwidth", "uploaded": "bandwidth",
    "sync": "sync", "syncs": "sync", "synced": "sync", "syncing": "sync", "synchronisation": "sync",
    "synchronization": "sync", "refresh": "sync", "refreshed": "sync", "import": "sync",
    "imported": "sync", "scan": "sync", "scanned": "sync",
    "errors": "error", "error": "error", "failing": "fail", "failed": "fail", "fails": "fail",
    "failure": "fail", "failures": "fail", "broken": "fail", "down": "fail", "problems": "error",
    "problem": "error", "issues": "error", "issue": "error", "wrong": "error",
    "integrations": "integration", "integration": "integration", "services": "integration",
    "service": "integration", "connections": "integration", "connection": "integration",
    "tautulli": "integration", "overseerr": "integration", "jellyseerr": "integration",
    "sonarr": "integration", "radarr": "integration",
    "webhooks": "webhook", "webhook": "webhook", "hooks": "webhook", "notifications": "webhook",
    "events": "webhook", "callbacks": "webhook",
    "api": "api", "endpoint": "api", "endpoints": "api",
    "successful": "success", "succeeded": "success", "success": "success", "last": "last",
    "growth": "growth", "grow": "growth", "growing": "growth", "grown": "growth", "expand": "growth",
    "expanding": "growth", "trend": "growth", "trends": "growth",
    "new": "new", "newest": "new", "latest": "new", "fresh": "new", "additions": "added",
    "added": "added", "add": "added", "arrivals": "added",
    "today": "today",
    "christmas": "", "thanksgiving": "", "halloween": "", "summer": "", "winter": "",
}  # fmt: skip

# Words that say nothing about which tool is meant.
STOPWORDS = frozenset(
    """a an the is are was were be been being am do does did doing have has had having can could
    would will shall may might must of in on at to for from by with about as into over under
    and or but if so than then there here this that these those it its what which whats
    please pls hey hi hello ok okay tell give list let know want wanna need get got
    any some ever just really actually also even still yet all out up any anything something
    one ones kind sort lot lots much very too quite pretty bit you your yours bot marquee
    far currently now""".split()
)

# Canonical words that matter more than their frequency suggests: they alone
# separate otherwise similar questions ("not"/"unwatched", "who" vs "what").
HEAVY = {"not": 1.5, "unwatched": 1.6, "who": 1.3, "when": 1.3, "howlong": 1.3, "others": 1.4, "self": 0.6}


def canonical_tokens(text: str) -> list[str]:
    """The canonical words of a question, in order."""
    lowered = text.lower().replace("’", "'").replace("‘", "'")
    for pattern, replacement in _CONTRACTIONS:
        lowered = re.sub(pattern, replacement, lowered)
    lowered = re.sub(r"[^a-z0-9' ]+", " ", lowered).replace("'", "")
    lowered = " " + " ".join(lowered.split()) + " "
    for phrase in _PHRASES_BY_LENGTH:
        if f" {phrase} " in lowered:
            lowered = lowered.replace(f" {phrase} ", f" {PHRASES[phrase]} ")
            lowered = lowered.replace("  ", " ")
    tokens: list[str] = []
    for word in lowered.split():
        if word in STOPWORDS:
            continue
        mapped = WORDS.get(word, word)
        for part in mapped.split():
            if part and part not in STOPWORDS:
                tokens.append(part)
    return tokens


_PHRASES_BY_LENGTH = sorted(PHRASES, key=len, reverse=True)
