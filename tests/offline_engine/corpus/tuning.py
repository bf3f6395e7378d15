"""The tuning part: questions the router may learn from (issue 12). Written after the held-out part."""

from __future__ import annotations

from typing import Any

from core.scope import Mode

from .labels import NEEDS_ADMIN, UNANSWERABLE, Labelled, q

P: Mode = "personal"
A: Mode = "admin"


def many(mode: Mode, tool: str | None, questions: list[str], **slots: Any) -> list[Labelled]:
    return [q(mode, text, tool, **slots) for text in questions]


def titled(mode: Mode, tool: str, pairs: list[tuple[str, str]], **slots: Any) -> list[Labelled]:
    return [q(mode, text, tool, title=title, **slots) for text, title in pairs]


TUNING: list[Labelled] = [
    # --- title facts ---------------------------------------------------------------------------
    *titled(
        P,
        "title_facts",
        [
            ("have i watched Heat", "Heat"),
            ("did I see Parasite already?", "Parasite"),
            ("when did i last watch Friends", "Friends"),
            ("last time i watched the simpsons", "the simpsons"),
            ("how many times have I seen Toy Story", "Toy Story"),
            ("did I finish Dark", "Dark"),
            ("have I finished Chernobyl?", "Chernobyl"),
            ("did i complete the wire", "the wire"),
            ("what episode of Lost am I on", "Lost"),
            ("where am I in Better Call Saul", "Better Call Saul"),
            ("what's my next episode of Ted Lasso", "Ted Lasso"),
            ("what did I rate Amelie", "Amelie"),
            ("my rating for Whiplash", "Whiplash"),
            ("when did I start watching Mad Men", "Mad Men"),
            ("first time I watched Jaws", "Jaws"),
            ("have i ever seen goodfellas", "goodfellas"),
            ("did i watch Barbie", "Barbie"),
            ("watched the godfather?", "the godfather"),
            ("have I seen 'Her'", "Her"),
            ("did I finish watching Andor", "Andor"),
            ("how far am i in Slow Horses", "Slow Horses"),
            ("did i watch alll of true detective", "true detective"),
            ("hav i seen gladiator", "gladiator"),
            ("i have already see Titanic?", "Titanic"),
            ("when I was watching The Crown last time?", "The Crown"),
            ("how often did I rewatch Shrek", "Shrek"),
            ("Have I watched Fargo before", "Fargo"),
        ],
    ),
    # --- totals --------------------------------------------------------------------------------
    *many(
        P,
        "watch_time",
        [
            "how much have I watched in total",
            "all time watch time",
            "total watch time ever",
            "how many hours have i ever watched",
            "my lifetime hours",
            "how much did i watch overall",
            "hours watched since the beginning",
            "how much time have I spent on plex altogether",
            "total time i ever streamed",
            "all-time hours please",
        ],
        period="all_time",
    ),
    *many(
        P,
        "watch_time",
        [
            "how many hours did I watch this month",
            "how much did i watch in october",
            "hours watched last year",
            "how much have I watched this week",
            "hours of tv in the last 30 days",
            "how much did I stream over the summer",
            "time spent watching yesterday",
            "how long did I watch today",
            "watch time in march",
        ],
        period="set",
    ),
    q(P, "how many hours have I watched", "watch_time"),
    q(P, "my total watch time", "watch_time"),
    # --- request status by title ---------------------------------------------------------------
    *titled(
        P,
        "request_status",
        [
            ("is Dune ready yet", "Dune"),
            ("is my Severance request done", "Severance"),
            ("has the Nosferatu request been approved", "Nosferatu"),
            ("what's the status of my request for Wicked", "Wicked"),
            ("did my request for Civil War go through", "Civil War"),
            ("why did they decline my Madame Web request", "Madame Web"),
            ("is Furiosa available yet", "Furiosa"),
            ("when will Shogun be available", "Shogun"),
            ("any news on my Deadpool request?", "Deadpool"),
            ("was my request for Arcane approved", "Arcane"),
            ("my request for The Boys, still waiting?", "The Boys"),
            ("did someone approve Joker", "Joker"),
            ("status of request Poor Things", "Poor Things"),
            ("is 'The Holdovers' ready to watch", "The Holdovers"),
            ("whats happening with my request of Anora", "Anora"),
            ("did u add the movie i requested, Conclave?", "Conclave"),
        ],
    ),
    # --- library lookup ------------------------------------------------------------------------
    *titled(
        P,
        "library_lookup",
        [
            ("do we have Casablanca", "Casablanca"),
            ("is The Matrix in the library", "The Matrix"),
            ("do you have Amelie", "Amelie"),
            ("have we got Spirited Away", "Spirited Away"),
            ("is there Seinfeld on the server", "Seinfeld"),
            ("got any copy of Jurassic Park?", "Jurassic Park"),
            ("is Mad Max on plex", "Mad Max"),
            ("does the server have Twin Peaks", "Twin Peaks"),
            ("do we have the movie Heat", "Heat"),
            ("what quality is our copy of Dune", "Dune"),
            ("how big is Avatar on disk", "Avatar"),
        ],
    ),
    *titled(
        A,
        "library_lookup",
        [
            ("do we have Oppenheimer", "Oppenheimer"),
            ("which version of Alien is on the server", "Alien"),
            ("file size of Interstellar", "Interstellar"),
        ],
    ),
    *many(
        A,
        "library_lookup",
        [
            "how many movies are in the library",
            "number of movies on the server",
            "count of films we have",
            "how many films do we have",
        ],
        measure="count",
        media_type="movie",
    ),
    *many(
        A,
        "library_lookup",
        [
            "how many shows do we have",
            "number of tv series in the library",
        ],
        measure="count",
        media_type="show",
    ),
    *many(
        A,
        "library_lookup",
        [
            "how many titles are in the library",
            "how big is our library, how many items",
        ],
        measure="count",
    ),
    *many(
        P, "library_lookup", ["how many movies are there on the server"], measure="count", media_type="movie"
    ),
    *many(
        A,
        "library_lookup",
        [
            "biggest movie on the server",
            "largest file we have",
            "which title takes the most space",
        ],
        measure="biggest",
    ),
    *many(
        A,
        "library_lookup",
        ["oldest film in the library", "what's the oldest movie we have"],
        measure="oldest",
    ),
    *many(
        P,
        "library_lookup",
        ["what's the newest movie we have", "most recent film on the server by year"],
        measure="newest",
    ),
    # --- admin counts --------------------------------------------------------------------------
    *many(
        A,
        "admin_counts",
        [
            "how many users do we have",
            "number of users",
            "how many members are on the server",
            "how many accounts are there",
            "user count",
            "how many people have access",
            "total number of users?",
        ],
        measure="users",
    ),
    *many(
        A,
        "admin_counts",
        [
            "how many users were active this month",
            "how many people watched something last week",
            "active user count for the last 30 days",
            "how many members used plex this week",
            "number of active users in october",
        ],
        measure="active_users",
        period="set",
    ),
    q(A, "how many active users", "admin_counts", measure="active_users"),
    *many(
        A,
        "admin_counts",
        [
            "how many requests are pending",
            "how many pending requests are there",
            "open requests count",
            "how many requests still need approval",
            "number of requests waiting for approval",
        ],
        measure="requests",
        status="pending",
    ),
    *many(
        A,
        "admin_counts",
        [
            "how many requests were declined",
            "count of rejected requests",
        ],
        measure="requests",
        status="declined",
    ),
    *many(
        A,
        "admin_counts",
        ["how many requests got approved this month"],
        measure="requests",
        status="approved",
        period="set",
    ),
    *many(
        A,
        "admin_counts",
        [
            "how many requests in total",
            "requests by status",
            "how many requests did we get last month",
        ],
        measure="requests",
    ),
    *many(
        A,
        "admin_counts",
        [
            "approvals per admin",
            "how many requests has each admin declined",
            "which admin approved how many requests",
            "declines per admin",
            "how many approvals did each admin do this year",
        ],
        measure="decisions",
    ),
    # --- now playing ---------------------------------------------------------------------------
    *many(
        A,
        "now_playing",
        [
            "who is watching now",
            "what's playing right now",
            "current streams",
            "is anybody streaming at the moment",
            "how many streams are active now",
            "what are people watching right now",
            "who's online right now",
            "now playing",
        ],
    ),
    *many(P, "now_playing", ["is anyone else watching right now", "what is playing now on the server"]),
    # --- recommend tonight -----------------------------------------------------------------------
    *many(
        P,
        "recommend_tonight",
        [
            "what should i watch",
            "recomend something",
            "what to watch tonight?",
            "i'm bored, any ideas",
            "give me a suggestion",
            "what shoud I put on tonight",
            "please suggest me a film",
            "something to watch?",
            "can u recommend a show",
            "what do you recommend for tonight",
            "help me pick a movie",
            "watch suggestion pls",
            "any good pick for me tonight",
            "what would you suggest i watch next",
        ],
    ),
    q(P, "recommend me a comedy", "recommend_tonight", genre="Comedy"),
    q(P, "a horror film for tonight?", "recommend_tonight", genre="Horror"),
    # --- similar titles --------------------------------------------------------------------------
    *titled(
        P,
        "similar_titles",
        [
            ("movies like Inception", "Inception"),
            ("something similar to Breaking Bad", "Breaking Bad"),
            ("shows like the office", "the office"),
            ("more like Arrival please", "Arrival"),
            ("i loved Parasite, what else", "Parasite"),
            ("anything like Dark?", "Dark"),
            ("films in the vein of Heat", "Heat"),
            ("what's like Succession", "Succession"),
            ("recommend something like 'The Bear'", "The Bear"),
            ("stuff similar to interstelar", "interstelar"),
        ],
    ),
    # --- genres ----------------------------------------------------------------------------------
    *many(
        P,
        "top_genres",
        [
            "what genres do i watch",
            "my top genres",
            "which genre i like most",
            "what kind of movies do i like",
            "favourite genre?",
            "my taste in shows",
            "what type of stuff do i watch most",
        ],
    ),
    # --- highly rated unwatched ------------------------------------------------------------------
    *many(
        P,
        "highly_rated_unwatched",
        [
            "best rated stuff i haven't seen",
            "top rated shows i never watched",
            "highest rated titles I've missed",
            "acclaimed films i should watch",
            "good movies I didn't see yet",
            "what highly rated things havent i watched",
        ],
    ),
    # --- new in library --------------------------------------------------------------------------
    *many(
        P,
        "new_in_library",
        [
            "what's new on the server",
            "anything new?",
            "recently added",
            "new stuff",
            "what got added recently",
            "newest additions to the library",
            "what was added yesterday",
            "any new shows",
        ],
    ),
    # --- what others watch / trending -------------------------------------------------------------
    *many(
        P,
        "what_others_watch",
        [
            "what are other people watching",
            "what's everyone else watching",
            "what do other users watch",
            "what my friends are watching lately",
        ],
    ),
    *many(
        P,
        "trending",
        [
            "what's trending",
            "what's hot right now on the server",
            "most played this week",
            "what is popular this month",
            "trending shows",
        ],
    ),
    # --- unwatched -------------------------------------------------------------------------------
    *many(
        P,
        "unwatched_content",
        [
            "what have i not watched",
            "stuff i haven't seen yet",
            "which movies haven't i watched",
            "unwatched shows for me",
            "what's left for me to watch",
            "titles i never played",
        ],
    ),
    # --- average rating --------------------------------------------------------------------------
    *many(
        P,
        "average_rating",
        [
            "what's my average rating",
            "how do I usually rate things",
            "my mean score",
            "average rating i give to movies",
            "am i a harsh rater",
        ],
    ),
    # --- watch history ---------------------------------------------------------------------------
    *many(
        P,
        "watch_history",
        [
            "what did i watch yesterday",
            "what was i watching last weekend",
            "my watch history for october",
            "list what i watched this week",
            "what did I see on christmas",
            "what have i watched in the last 3 days",
        ],
        period="set",
    ),
    *many(P, "watch_history", ["what did i watch recently", "my recent history", "show me my history"]),
    # --- when do I watch -------------------------------------------------------------------------
    *many(
        P,
        "watch_time_by_hour",
        [
            "when do i usually watch",
            "what hours do I watch most",
            "am i a night owl",
            "which time of day do i stream",
            "at what hour do i watch the most",
            "which day of the week do I watch most",
        ],
    ),
    # --- time to finish --------------------------------------------------------------------------
    *titled(
        P,
        "time_to_finish_series",
        [
            ("how long until I finish Severance", "Severance"),
            ("when will i be done with The Wire", "The Wire"),
            ("how many episodes left in Lost", "Lost"),
            ("how long to finish breaking bad at my pace", "breaking bad"),
            ("when do I finish Succession", "Succession"),
            ("how much left of the expanse", "the expanse"),
            ("how many eps of Dark do I have to go", "Dark"),
        ],
    ),
    # --- abandoned -------------------------------------------------------------------------------
    *many(
        P,
        "abandoned_shows",
        [
            "which shows did i abandon",
            "shows I never finished",
            "series i stopped watching",
            "what did I give up on",
            "shows i dropped",
            "unfinished series",
        ],
    ),
    # --- my requests -----------------------------------------------------------------------------
    *many(
        P,
        "my_requests",
        [
            "my requests",
            "what have i requested",
            "show my requests",
            "list the stuff I asked for",
            "did any of my requests get approved",
        ],
    ),
    q(P, "which of my requests are pending", "my_requests", status="pending"),
    # --- request turnaround ----------------------------------------------------------------------
    *many(
        P,
        "request_turnaround",
        [
            "how long do requests take",
            "average time to fulfil a request",
            "how fast are requests approved",
            "typical request wait time",
        ],
    ),
    *many(
        A, "request_turnaround", ["average request turnaround", "how long does it take to approve requests"]
    ),
    # --- admin: users ----------------------------------------------------------------------------
    *many(
        A,
        "inactive_users",
        [
            "who hasn't logged in recently",
            "inactive users",
            "who hasn't been on in a while",
            "users who never log in",
            "who stopped using the server",
            "dormant accounts",
        ],
    ),
    *many(
        A,
        "most_active_users",
        [
            "who are the most active users",
            "most active members this month",
            "busiest users",
            "who uses the server the most",
        ],
    ),
    *many(
        A,
        "top_watchers",
        [
            "who watched the most this month",
            "top watchers",
            "who has the most watch time",
            "which user watches the most hours",
            "who streams the most",
        ],
    ),
    *many(A, "top_raters", ["who rates the most", "which users give the most ratings", "top raters"]),
    *many(
        A,
        "top_requesters",
        [
            "who requests the most",
            "top requesters",
            "which user makes the most requests",
            "who asks for the most content",
        ],
    ),
    *many(A, "power_users", ["power users", "who are our heaviest users", "most engaged members"]),
    *many(
        A,
        "requesters_who_skip_their_requests",
        [
            "who requests stuff and never watches it",
            "users who don't watch their own requests",
            "who requests things they never watch",
        ],
    ),
    *many(
        A,
        "requests_watched_by_others",
        [
            "whose requests do other people watch",
            "whose requests are the most popular",
            "most influential requesters",
        ],
    ),
    *many(A, "content_discoverers", ["who finds content others love", "best content discoverers"]),
    *many(
        A,
        "requested_content_watchers",
        ["who watches requested content", "which users watch requested titles"],
    ),
    # --- admin: a named member -------------------------------------------------------------------
    q(A, "what has alice watched", "user_watch_activity", username="alice"),
    q(A, "what did carol watch last week", "user_watch_activity", username="carol", period="set"),
    q(A, "show me dave's viewing history", "user_watch_activity", username="dave"),
    q(A, "has bob been watching anything", "user_watch_activity", username="bob"),
    q(A, "what is user erin watching", "user_watch_activity", username="erin"),
    # A misspelt member name, read as the member for an admin (the corpus server's members: runner.MEMBERS).
    q(A, "how much has alcie watched this month", "user_watch_activity", username="alice", period="set"),
    q(A, "what did carlo watch yesterday", "user_watch_activity", username="carol", period="set"),
    q(A, "show me daev's viewing history", "user_watch_activity", username="dave"),
    q(A, "what is user eirn watching", "user_watch_activity", username="erin"),
    q(A, "and for alcie?", "user_watch_activity", ("what has bob been watching",), username="alice"),
    # ... and never for a member: the question is refused as any question about another member is.
    q(P, "how much has alcie watched this month", NEEDS_ADMIN),
    q(P, "show me daev's viewing history", NEEDS_ADMIN),
    # --- admin: requests -------------------------------------------------------------------------
    *many(
        A,
        "fastest_approvers",
        ["who approves fastest", "which admin is quickest to approve", "fastest approver"],
    ),
    *many(
        A,
        "declined_requests",
        [
            "which requests were declined",
            "rejected requests this month",
            "show declined requests and reasons",
        ],
    ),
    # --- admin: content --------------------------------------------------------------------------
    *many(
        A,
        "popular_content",
        [
            "most watched titles on the server",
            "what's the most popular movie on the server",
            "top titles across all users",
            "what do people watch most",
        ],
    ),
    *many(
        A,
        "server_genres",
        [
            "most popular genres on the server",
            "genre breakdown across users",
            "what genres do people watch most",
        ],
    ),
    *many(
        A,
        "never_watched_content",
        [
            "titles nobody has watched",
            "content with zero plays",
            "what has never been played",
            "stuff no one watches",
        ],
    ),
    *many(
        A,
        "removal_candidates",
        ["what should we delete", "removal candidates", "what can be removed to save space", "what to prune"],
    ),
    *many(
        A, "library_growth", ["how fast is the library growing", "titles added per month", "library growth"]
    ),
    *many(A, "deletions", ["what was deleted recently", "deleted titles", "what did we remove last month"]),
    *many(
        A,
        "storage_by_library",
        [
            "storage usage by library",
            "how much space does each library use",
            "disk usage per library",
            "library sizes",
        ],
    ),
    # --- admin: operations -----------------------------------------------------------------------
    *many(
        A,
        "integration_health",
        [
            "are the syncs ok",
            "is plex syncing",
            "integration status",
            "did any sync fail",
            "is overseerr connected",
        ],
    ),
    *many(
        A, "webhook_counts", ["how many webhooks came in today", "webhook counts", "webhook events this week"]
    ),
    *many(A, "api_error_rate", ["api error rate", "how often do api calls fail", "api failures"]),
    *many(
        A,
        "bandwidth_usage",
        [
            "bandwidth usage",
            "how much data did we stream this month",
            "bandwidth per user",
            "total data transferred",
        ],
    ),
    # --- members asking admin questions ------------------------------------------------------------
    *many(
        P,
        NEEDS_ADMIN,
        [
            "who hasn't logged in recently",
            "how many users are on the server",
            "who requests the most",
            "storage usage by library",
            "what is bob watching these days",
            "is tautulli syncing",
        ],
    ),
    # --- follow-ups --------------------------------------------------------------------------------
    q(P, "and the week before?", "watch_history", ("what did I watch last week",), period="set"),
    q(P, "and last month?", "watch_history", ("what did I watch this week",), period="set"),
    q(P, "what about in october", "watch_time", ("how many hours did i watch in september",), period="set"),
    q(P, "and the year before?", "watch_time", ("how much did I watch in 2025",), period="set"),
    q(P, "what about Dark?", "similar_titles", ("something like Severance",), title="Dark"),
    q(P, "and The Wire?", "time_to_finish_series", ("how long until I finish Lost",), title="The Wire"),
    q(P, "what about Heat", "title_facts", ("have I seen Alien",), title="Heat"),
    q(P, "and Shogun?", "request_status", ("is my request for Dune ready",), title="Shogun"),
    q(P, "only shows", "new_in_library", ("what's new this week",), media_type="show", period="set"),
    q(P, "just the movies", "unwatched_content", ("what haven't I watched",), media_type="movie"),
    q(A, "and for carol?", "user_watch_activity", ("what has bob been watching",), username="carol"),
    q(
        A,
        "what about dave",
        "user_watch_activity",
        ("what did alice watch last week",),
        username="dave",
        period="set",
    ),
    q(A, "and last month?", "top_watchers", ("who watched the most this month",), period="set"),
    q(
        A,
        "and approved?",
        "admin_counts",
        ("how many requests are pending",),
        measure="requests",
        status="approved",
    ),
    q(
        A,
        "and last week?",
        "admin_counts",
        ("how many users were active this month",),
        measure="active_users",
        period="set",
    ),
    q(P, "and in total?", "watch_time", ("how much did I watch this month",), period="all_time"),
    q(P, "what about horror?", "recommend_tonight", ("recommend me a comedy",), genre="Horror"),
    q(A, "only the films", "never_watched_content", ("what has nobody watched",), media_type="movie"),
    q(P, "and Oppenheimer?", "library_lookup", ("do we have Barbie",), title="Oppenheimer"),
    q(P, "how about the month before that", "watch_history", ("what did I watch last month",), period="set"),
    # --- out of domain and unanswerable ------------------------------------------------------------
    *many(
        P,
        UNANSWERABLE,
        [
            "what's the weather like",
            "is it going to snow",
            "tell me a story",
            "who is the president",
            "what time is it in tokyo",
            "can you play music",
            "does my phone support dolby vision",
            "will my chromecast play hevc",
            "how do I install plex on my tv",
            "sing me a song",
            "what's the meaning of life",
            "how old are you",
            "who made you",
            "book a table for two",
            "what's bitcoin at",
            "write me a poem",
            "set an alarm for 7",
            "how tall is mount everest",
            "recipe for lasagna",
            "what's the score of the match",
            "hi",
            "thanks!",
            "lol",
            "convert 10 usd to eur",
            "can you fix my wifi",
        ],
    ),
    *many(
        A,
        UNANSWERABLE,
        [
            "what's the server's cpu usage",
            "restart plex",
            "how much ram does the server have",
            "upgrade jellyfin to the latest version",
            "what's the stock price of netflix",
            "send a message to all users",
            "ban user bob",
            "what's the weather in berlin",
        ],
    ),
    # --- unseen phrasings tried late (02:15 UTC), after the rest of the tuning part ---------------------
    q(P, "yo whats good to watch", "recommend_tonight"),
    q(P, "did i like Alien?", "title_facts", title="Alien"),
    q(P, "how many movies have i watched this year", "watch_time", period="set"),
    q(P, "which show am i watching at the moment", "now_playing"),
    q(P, "is Severance finished for me", "title_facts", title="Severance"),
    q(P, "did Oppenheimer get added", "library_lookup", title="Oppenheimer"),
    q(P, "i requested Dune, is it there?", "request_status", title="Dune"),
    q(A, "how many titles did we add this year", "library_growth", period="set"),
    q(A, "how many pending requests", "admin_counts", measure="requests", status="pending"),
    q(A, "whos the laziest user", "inactive_users"),
    q(A, "what is the total size of the library", "storage_by_library"),
    q(P, "give me stats", "watch_time"),
    q(P, "what was the last thing i watched", "watch_history"),
    q(P, "what was the first movie I watched here", "watch_history"),
    q(A, "how many people requested something this month", "admin_counts", measure="requests", period="set"),
    q(P, "how much space does Dune take", "library_lookup", title="Dune"),
    q(P, "when is the next episode of severance coming out", "title_facts", title="severance"),
    q(A, "did bob watch Heat", "user_watch_activity", username="bob"),
    q(P, "is plex down", NEEDS_ADMIN),
    q(P, "can i download movies", UNANSWERABLE),
    q(P, "what is 4k", UNANSWERABLE),
    q(A, "who declined the most requests", "admin_counts", measure="decisions"),
    q(A, "who approves the most requests", "fastest_approvers"),
    q(P, "how many times have i watched anything this week", "watch_time", period="set"),
    q(P, "have I rated Alien", "title_facts", title="Alien"),
    q(P, "what did I think of Alien", "title_facts", title="Alien"),
    q(P, "how many episodes of The Office have I seen", "title_facts", title="The Office"),
    q(P, "is The Office on plex", "library_lookup", title="The Office"),
    q(A, "who is the most active user right now", "most_active_users"),
    q(P, "how many requests are pending", "my_requests", status="pending"),
    q(A, "how many users have logged in this week", "admin_counts", measure="active_users", period="set"),
    # Tried in `marquee demo` (stop 11): a genre with "haven't seen" needs a tool that filters by genre.
    q(P, "any good sci-fi I haven't seen?", "highly_rated_unwatched", genre="Science Fiction"),
    q(P, "comedies I haven't seen", "highly_rated_unwatched", genre="Comedy"),
    # ... and a comparison with before: the last month's watch time, compared with the month before it.
    q(P, "am I watching more than last month?", "watch_time", period="set"),
    q(P, "do I watch less than I used to", "watch_time", period="set"),
]
