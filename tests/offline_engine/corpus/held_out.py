"""The held-out part: 100 questions written before the router changed (issue 12). Never tune on these.

Personal ("P") and admin ("A") questions, terse and chatty, with typos, in
non-native English, follow-ups (with their history) and out-of-domain ones.
"""

from __future__ import annotations

from .labels import NEEDS_ADMIN, UNANSWERABLE, Labelled, q

P = "personal"
A = "admin"

HELD_OUT: list[Labelled] = [
    # --- a title's facts for the asker ---------------------------------------------------
    q(P, "when was the last time I saw Inception", "title_facts", title="Inception"),
    q(P, "did i ever finish breaking bad?", "title_facts", title="breaking bad"),
    q(P, "have I seen Arrival", "title_facts", title="Arrival"),
    q(P, "how many times did I watch The Matrix", "title_facts", title="The Matrix"),
    q(P, "did i already watch dune or not", "title_facts", title="dune"),
    q(P, "wat episode am i on in severence", "title_facts", title="severence"),
    q(P, "when did I first watch The Office?", "title_facts", title="The Office"),
    q(P, "what rating did I give Oppenheimer", "title_facts", title="Oppenheimer"),
    q(P, "i watched interstellar yet?", "title_facts", title="interstellar"),
    q(P, "Which is the next episode of Succession for me?", "title_facts", title="Succession"),
    # --- totals over any period, all time included -----------------------------------------
    q(P, "how much have I watched altogether", "watch_time", period="all_time"),
    q(P, "total hours ever", "watch_time", period="all_time"),
    q(P, "how many hours did i watch in 2025", "watch_time", period="set"),
    q(P, "How much TV did I watch last week?", "watch_time", period="set"),
    q(P, "my watch time since I joined", "watch_time", period="all_time"),
    q(P, "how many movies i have watch in all my life here", "watch_time", period="all_time"),
    q(P, "hours spent watching over christmas", "watch_time", period="set"),
    # --- request status by title -------------------------------------------------------------
    q(P, "is dune part two ready yet", "request_status", title="dune part two"),
    q(P, "what happened to my request for Shogun?", "request_status", title="Shogun"),
    q(P, "did they approve The Bear?", "request_status", title="The Bear"),
    q(P, "status of my Fallout request", "request_status", title="Fallout"),
    q(P, "why was my request for Saw X declined", "request_status", title="Saw X"),
    q(P, "is my request for 'Past Lives' still pending", "request_status", title="Past Lives"),
    # --- library lookup ------------------------------------------------------------------------
    q(P, "do we have The Godfather", "library_lookup", title="The Godfather"),
    q(P, "is Alien on the server?", "library_lookup", title="Alien"),
    q(P, "do u guys have paddington 2", "library_lookup", title="paddington 2"),
    q(A, "how many movies do we have", "library_lookup", measure="count", media_type="movie"),
    q(A, "what is the biggest file in the library", "library_lookup", measure="biggest"),
    q(P, "how many shows are on the server", "library_lookup", measure="count", media_type="show"),
    q(A, "oldest movie we have?", "library_lookup", measure="oldest", media_type="movie"),
    q(A, "which version of Blade Runner do we have, how big is it", "library_lookup", title="Blade Runner"),
    # --- admin counts ------------------------------------------------------------------------
    q(A, "how many users are there", "admin_counts", measure="users"),
    q(A, "how many requests are waiting", "admin_counts", measure="requests", status="pending"),
    q(A, "how many people used the server this month", "admin_counts", measure="active_users", period="set"),
    q(
        A,
        "number of declined requests last month",
        "admin_counts",
        measure="requests",
        status="declined",
        period="set",
    ),
    q(A, "how many requests did each admin approve", "admin_counts", measure="decisions"),
    q(A, "count of members", "admin_counts", measure="users"),
    q(A, "active users last week?", "admin_counts", measure="active_users", period="set"),
    # --- now playing -----------------------------------------------------------------------------
    q(A, "who's watching right now", "now_playing"),
    q(A, "what is streaming at the moment", "now_playing"),
    q(A, "anyone on plex rn?", "now_playing"),
    # --- existing tools, asked the way people ask -------------------------------------------------
    q(P, "wat shud i watch tonite", "recommend_tonight"),
    q(P, "bored. suggest something", "recommend_tonight"),
    q(P, "please can you to recommend me one film for this evening", "recommend_tonight", media_type="movie"),
    q(P, "anything like severance i havent seen", "similar_titles", title="severance"),
    q(P, "more stuff like the office pls", "similar_titles", title="the office"),
    q(P, "what genre I am watching most", "top_genres"),
    q(P, "good movies i missed", "highly_rated_unwatched", media_type="movie"),
    q(P, "whats new", "new_in_library"),
    q(P, "new movies this week?", "new_in_library", media_type="movie", period="set"),
    q(P, "what are the others watching these days", "what_others_watch"),
    q(P, "what did I watch last month?", "watch_history", period="set"),
    q(P, "my history from yesterday", "watch_history", period="set"),
    q(P, "what time of day do i mostly watch", "watch_time_by_hour"),
    q(P, "how long till im done with the expanse", "time_to_finish_series", title="the expanse"),
    q(P, "shows i gave up on", "abandoned_shows"),
    q(P, "my avg rating?", "average_rating"),
    q(P, "what did i request", "my_requests"),
    q(P, "how long do requests usually take to come through", "request_turnaround"),
    q(P, "what haven't I watched yet", "unwatched_content"),
    q(A, "who hasnt logged in for a month", "inactive_users"),
    q(A, "whos the biggest watcher", "top_watchers"),
    q(A, "most popular titles this month", "popular_content", period="set"),
    q(A, "storage per library", "storage_by_library"),
    q(A, "is tautulli syncing ok", "integration_health"),
    q(A, "what has bob been watching", "user_watch_activity", username="bob"),
    q(A, "which admin approves requests fastest", "fastest_approvers"),
    q(A, "who request the most stuff", "top_requesters"),
    q(A, "movies nobody watched", "never_watched_content", media_type="movie"),
    q(A, "what can I delete to free space", "removal_candidates"),
    q(A, "how much bandwith did we use this month", "bandwidth_usage", period="set"),
    q(A, "what got deleted last week", "deletions", period="set"),
    q(A, "library growth over the year", "library_growth"),
    q(A, "webhooks today?", "webhook_counts", period="set"),
    q(A, "declined requests", "declined_requests"),
    q(A, "who are the power users", "power_users"),
    # --- a member asking an admin question --------------------------------------------------------
    q(P, "how many users are there", NEEDS_ADMIN),
    q(P, "who watches the most on this server", NEEDS_ADMIN),
    # --- follow-ups ----------------------------------------------------------------------------------
    q(P, "and the month before?", "watch_history", ("what did I watch last month?",), period="set"),
    q(
        P,
        "what about Severance?",
        "time_to_finish_series",
        ("how long until I finish The Expanse?",),
        title="Severance",
    ),
    q(P, "only movies", "watch_history", ("what did I watch last week",), media_type="movie", period="set"),
    q(
        A,
        "and for bob?",
        "user_watch_activity",
        ("what has alice been watching this month",),
        username="bob",
        period="set",
    ),
    q(P, "and last year?", "watch_time", ("how many hours did I watch this month",), period="set"),
    q(P, "what about The Wire", "title_facts", ("did I finish Breaking Bad",), title="The Wire"),
    q(
        A,
        "and declined ones?",
        "admin_counts",
        ("how many requests are pending",),
        measure="requests",
        status="declined",
    ),
    q(P, "and in 2024?", "top_genres", ("what are my top genres",), period="set"),
    q(P, "same for comedies", "recommend_tonight", ("what should I watch tonight",), genre="Comedy"),
    # --- out of domain and unanswerable ----------------------------------------------------------------
    q(P, "what's the weather", UNANSWERABLE),
    q(P, "can my tv play 4k hdr", UNANSWERABLE),
    q(P, "tell me a joke", UNANSWERABLE),
    q(P, "who won the game last night", UNANSWERABLE),
    q(P, "how do I reset my password", UNANSWERABLE),
    q(A, "what's the cpu temperature of the server", UNANSWERABLE),
    q(P, "what is the capital of france", UNANSWERABLE),
    q(P, "will it rain tomorrow?", UNANSWERABLE),
    q(A, "how much does netflix cost", UNANSWERABLE),
    q(P, "translate hello to german", UNANSWERABLE),
    q(P, "what's 2+2", UNANSWERABLE),
    q(A, "order me a pizza", UNANSWERABLE),
    q(P, "does the bot dream", UNANSWERABLE),
]

assert len(HELD_OUT) == 100, len(HELD_OUT)
