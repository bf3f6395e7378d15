"""Every question of ai-capabilities.md, with at least three other ways a person would ask it.

Each entry names the tool the offline router must pick and the parameters it
must set (a subset: ``"period"`` stands for start/end being set, ``None`` for
"must not be set"), and a fragment the answer must contain when asked against
the fixture server of ``fixture_server.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.scope import Mode

PERIOD = "period"


@dataclass(frozen=True)
class SpecQuestion:
    mode: Mode
    question: str
    tool: str
    paraphrases: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    # Text the answer contains when asked against the fixture server (case-insensitive).
    answer_contains: tuple[str, ...] = ()
    # Per-phrasing parameter expectations, when a paraphrase names something extra.
    paraphrase_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def phrasings(self) -> list[str]:
        return [self.question, *self.paraphrases]


USER_QUESTIONS: list[SpecQuestion] = [
    # --- content discovery ---------------------------------------------------------------
    SpecQuestion(
        "personal",
        "What should I watch tonight?",
        "recommend_tonight",
        (
            "Got any suggestions for this evening?",
            "I've got a free night, what would you put on for me?",
            "Pick something for me to watch",
            "what's a good thing to stream tonight",
        ),
        answer_contains=("Aliens",),
    ),
    SpecQuestion(
        "personal",
        "Recommend something like Alien",
        "similar_titles",
        (
            "Any movies similar to 'Alien'?",
            "I really enjoyed Allien, what else is in that vein?",
            "Find me stuff along the lines of Alien",
            "What's like Alien that I haven't seen?",
        ),
        params={"title": "Alien"},
        answer_contains=("Aliens",),
        paraphrase_params={"I really enjoyed Allien, what else is in that vein?": {"title": "Allien"}},
    ),
    SpecQuestion(
        "personal",
        "What are my most watched genres?",
        "top_genres",
        (
            "Which genres do I gravitate towards?",
            "what kinds of movies do I watch most",
            "Tell me my favorite genres based on what I've seen",
            "Which categories take up most of my viewing?",
        ),
        answer_contains=("Science Fiction",),
    ),
    SpecQuestion(
        "personal",
        "Show me highly rated movies I haven't watched",
        "highly_rated_unwatched",
        (
            "Which well-reviewed films have I not seen yet?",
            "best rated flicks I've never watched",
            "Any critically acclaimed movies still on my to-watch pile?",
            "top rated films I haven't got to",
        ),
        params={"media_type": "movie"},
        answer_contains=("Heat",),
    ),
    SpecQuestion(
        "personal",
        "What's new in my library this week?",
        "new_in_library",
        (
            "Anything added to the library recently?",
            "What arrived on Plex this week?",
            "Show me the latest additions to the server",
            "did any new movies land in the last few days",
        ),
        params={"start": PERIOD},
        answer_contains=("The Grand Budapest Hotel",),
        paraphrase_params={
            "Anything added to the library recently?": {"start": None},
            "Show me the latest additions to the server": {"start": None},
        },
    ),
    SpecQuestion(
        "personal",
        "What are other users watching?",
        "what_others_watch",
        (
            "What have other people on the server been watching?",
            "what's everybody else into at the moment",
            "Show me what the other members are streaming",
            "what are my friends on plex watching",
        ),
        answer_contains=("Heat",),
    ),
    SpecQuestion(
        "personal",
        "What's trending on my server?",
        "trending",
        (
            "What's hot on Plex right now?",
            "Which titles are getting the most plays on the server this week?",
            "What's popular on the server lately?",
            "anything trending?",
        ),
        answer_contains=("Heat",),
    ),
    SpecQuestion(
        "personal",
        "What unwatched content do I have?",
        "unwatched_content",
        (
            "What's in the library that I haven't started?",
            "How much stuff have I still not watched?",
            "List titles I've never played",
            "what have I yet to watch on the server",
        ),
        answer_contains=("Paddington 2",),
    ),
    # --- personal analytics ------------------------------------------------------------------
    SpecQuestion(
        "personal",
        "How much have I watched this month?",
        "watch_time",
        (
            "How many hours have I spent watching this month?",
            "What's my total viewing time for this month?",
            "how much tv did I watch in the last 30 days",
            "How much time did I spend streaming since the start of the month?",
        ),
        params={"start": PERIOD},
        answer_contains=("1.7",),
    ),
    SpecQuestion(
        "personal",
        "What's my average rating?",
        "average_rating",
        (
            "On average, how do I rate what I watch?",
            "What score do I usually give things?",
            "What's the mean of my ratings?",
            "Am I a generous rater?",
        ),
        answer_contains=("8.3",),
    ),
    SpecQuestion(
        "personal",
        "Show my watch history",
        "watch_history",
        (
            "What have I been watching lately?",
            "List everything I've watched",
            "my viewing history please",
            "What did I play recently?",
        ),
        answer_contains=("Severance",),
    ),
    SpecQuestion(
        "personal",
        "When do I watch the most?",
        "watch_time_by_hour",
        (
            "What time of day do I usually watch?",
            "At what hour am I most often streaming?",
            "Am I more of a night or a morning viewer?",
            "which hours of the day do I watch stuff",
        ),
    ),
    SpecQuestion(
        "personal",
        "How long until I finish this series?",
        "time_to_finish_series",
        (
            "How many episodes of Severance do I have left?",
            "When will I be done with Severance?",
            "How much is left of the shows I'm in the middle of?",
            "at my pace, when do I finish Severance",
        ),
        params={"title": None},
        answer_contains=("Severance",),
        paraphrase_params={
            "How many episodes of Severance do I have left?": {"title": "Severance"},
            "When will I be done with Severance?": {"title": "Severance"},
            "at my pace, when do I finish Severance": {"title": "Severance"},
        },
    ),
    SpecQuestion(
        "personal",
        "What did I watch last Christmas?",
        "watch_history",
        (
            "What was I watching over Christmas last year?",
            "Which movies did I see at Christmas?",
            "what did i stream on christmas day",
            "Show my viewing around last Christmas",
        ),
        params={"start": PERIOD},
        answer_contains=("Arrival",),
    ),
    SpecQuestion(
        "personal",
        "Which shows have I abandoned?",
        "abandoned_shows",
        (
            "What series did I give up on?",
            "Which shows did I start but never finish?",
            "list the shows I stopped watching halfway",
            "What TV have I dropped?",
        ),
        answer_contains=("The Office",),
    ),
    # --- requests -------------------------------------------------------------------------------
    SpecQuestion(
        "personal",
        "What did I request?",
        "my_requests",
        (
            "Which titles have I asked for?",
            "show me my requests",
            "what's the status of the stuff I requested",
            "Is my request still pending?",
        ),
        answer_contains=("Dune",),
        paraphrase_params={"Is my request still pending?": {"status": "pending"}},
    ),
    SpecQuestion(
        "personal",
        "How long do requests usually take?",
        "request_turnaround",
        (
            "What's the typical wait for a request to become available?",
            "How quickly do requests get fulfilled?",
            "how long does it take before something I request shows up",
            "average time from request to available?",
        ),
    ),
    SpecQuestion(
        "personal",
        "Who approves requests fastest?",
        "fastest_approvers",
        (
            "Which admin is quickest at approving requests?",
            "who approves stuff the fastest",
            "Which approver has the quickest turnaround?",
            "Who handles requests the quickest?",
        ),
        answer_contains=("dana",),
    ),
    SpecQuestion(
        "personal",
        "What requests have been declined?",
        "declined_requests",
        (
            "Which of my requests got rejected?",
            "Were any of my requests turned down?",
            "why was my request denied",
            "show declined requests",
        ),
        answer_contains=("Cats",),
    ),
]

ADMIN_QUESTIONS: list[SpecQuestion] = [
    # --- user analytics -------------------------------------------------------------------------
    SpecQuestion(
        "admin",
        "Which users are most active?",
        "most_active_users",
        (
            "Who uses the server the most?",
            "Which members have been the most active lately?",
            "rank users by activity",
            "who's the busiest user this month",
        ),
        answer_contains=("alice",),
    ),
    SpecQuestion(
        "admin",
        "Who hasn't logged in recently?",
        "inactive_users",
        (
            "Which users haven't signed in for a while?",
            "Who hasn't been on Plex in ages?",
            "list idle accounts",
            "which members have gone dormant",
        ),
        answer_contains=("carol",),
    ),
    SpecQuestion(
        "admin",
        "Which users watch the most content?",
        "top_watchers",
        (
            "Who has the most hours watched?",
            "Which member watches the most?",
            "who's watched the most stuff on the server",
            "Rank users by total watch time",
        ),
        answer_contains=("alice",),
    ),
    SpecQuestion(
        "admin",
        "Who rates content the most?",
        "top_raters",
        (
            "Which users give the most ratings?",
            "Who leaves the most reviews?",
            "which members rate things most often",
            "Who are the most prolific raters?",
        ),
        answer_contains=("alice",),
    ),
    SpecQuestion(
        "admin",
        "Which users request the most content?",
        "top_requesters",
        (
            "Who makes the most requests?",
            "Which members ask for the most stuff?",
            "rank users by number of requests",
            "who submits the most requests",
        ),
        answer_contains=("alice",),
    ),
    SpecQuestion(
        "admin",
        "Who watches requested content?",
        "requested_content_watchers",
        (
            "Which users actually watch the things that get requested?",
            "Who plays the titles other people requested?",
            "who ends up watching requested stuff",
            "Which members watch requests made by others?",
        ),
    ),
    # --- social / influence ---------------------------------------------------------------------
    SpecQuestion(
        "admin",
        "Whose requests get watched the most by others?",
        "requests_watched_by_others",
        (
            "Whose requests do other people watch the most?",
            "Which requester's picks get the most plays from everyone else?",
            "whose requested titles are the most watched by others",
            "Which user's requests are most popular with others?",
        ),
    ),
    SpecQuestion(
        "admin",
        "Which users discover content others love?",
        "content_discoverers",
        (
            "Who finds the titles that others end up loving?",
            "Whose requests get rated highly by other people?",
            "which members discover stuff everyone else enjoys",
            "Who has the best taste in requests?",
        ),
    ),
    SpecQuestion(
        "admin",
        "Who are the power users?",
        "power_users",
        (
            "Who are the heaviest users overall?",
            "Which users are the most engaged across the board?",
            "list our super users",
            "who are the server's biggest fans",
        ),
        answer_contains=("alice",),
    ),
    SpecQuestion(
        "admin",
        "Which users never watch what they request?",
        "requesters_who_skip_their_requests",
        (
            "Who requests stuff and then doesn't watch it?",
            "Which members ignore the titles they asked for?",
            "who asks for content but never plays it",
            "Which requesters don't watch their own requests?",
        ),
    ),
]

ADMIN_QUESTIONS += [
    # --- content analytics ----------------------------------------------------------------------
    SpecQuestion(
        "admin",
        "What content is most popular across all users?",
        "popular_content",
        (
            "Which titles get the most plays server-wide?",
            "What's the most watched stuff across everyone?",
            "Most popular movies and shows among all members",
            "What do all users play the most?",
        ),
        answer_contains=("Heat",),
    ),
    SpecQuestion(
        "admin",
        "What genres are most watched server-wide?",
        "server_genres",
        (
            "Which genres are the most popular across the whole server?",
            "What kinds of content do all users watch most?",
            "Top genres among everyone on Plex",
            "genre breakdown of viewing for all members",
        ),
        answer_contains=("Science Fiction",),
    ),
    SpecQuestion(
        "admin",
        "What content is never watched?",
        "never_watched_content",
        (
            "Which titles has nobody ever played?",
            "Show me movies no one has watched",
            "what's sitting in the library unwatched by everyone",
            "Which shows have zero views?",
        ),
        answer_contains=("Paddington 2",),
    ),
    SpecQuestion(
        "admin",
        "What content should I remove?",
        "removal_candidates",
        (
            "What could I delete to free up some disk space?",
            "Which old titles nobody watches should I get rid of?",
            "Suggest stuff to prune from the library",
            "what should we clean up on the server",
        ),
        answer_contains=("Paddington 2",),
    ),
    SpecQuestion(
        "admin",
        "What's the storage usage by library?",
        "storage_by_library",
        (
            "How much disk space does each library take up?",
            "How big are my libraries?",
            "Show the storage used per library",
            "how many terabytes is the movies library",
        ),
        answer_contains=("Movies",),
    ),
]
ADMIN_QUESTIONS += [
    # --- system health ----------------------------------------------------------------------------
    SpecQuestion(
        "admin",
        "Are there any sync errors?",
        "integration_health",
        (
            "Did any syncs fail?",
            "Is anything wrong with syncing?",
            "any sync problems lately",
            "Have the syncs been erroring?",
        ),
        answer_contains=("tautulli",),
    ),
    SpecQuestion(
        "admin",
        "When was the last successful Plex sync?",
        "integration_health",
        (
            "When did Plex last sync successfully?",
            "last time the plex sync worked",
            "Has Plex synced recently?",
            "when did the plex import last succeed",
        ),
        params={"integration": "plex"},
        answer_contains=("plex",),
    ),
    SpecQuestion(
        "admin",
        "Which integrations are failing?",
        "integration_health",
        (
            "Are any of the services broken?",
            "Which connections are down?",
            "is tautulli or overseerr failing",
            "Which integrations have problems?",
        ),
        answer_contains=("tautulli",),
        paraphrase_params={"is tautulli or overseerr failing": {"integration": "tautulli"}},
    ),
    SpecQuestion(
        "admin",
        "How many webhooks today?",
        "webhook_counts",
        (
            "How many webhooks came in today?",
            "Number of webhook events received today",
            "how many notifications did we get from plex today",
            "Count today's webhooks",
        ),
        params={"start": PERIOD},
        answer_contains=("3",),
        paraphrase_params={
            "how many notifications did we get from plex today": {"start": PERIOD, "source": "plex"},
        },
    ),
    SpecQuestion(
        "admin",
        "What's the API error rate?",
        "api_error_rate",
        (
            "How often do API calls fail?",
            "What percentage of API requests error out?",
            "api failure rate this week",
            "Are we getting a lot of API errors?",
        ),
        answer_contains=("25",),
        paraphrase_params={"api failure rate this week": {"start": PERIOD}},
    ),
    # --- operational insights -------------------------------------------------------------------------
    SpecQuestion(
        "admin",
        "How much bandwidth are we using?",
        "bandwidth_usage",
        (
            "How much data are we streaming out?",
            "What's our bandwidth usage this month?",
            "how much traffic does the server push",
            "Total data transferred by streams?",
        ),
        answer_contains=("GB",),
        paraphrase_params={"What's our bandwidth usage this month?": {"start": PERIOD}},
    ),
    SpecQuestion(
        "admin",
        "What's the average request approval time?",
        "request_turnaround",
        (
            "How long does it take on average to approve a request?",
            "Typical time between a request and its approval?",
            "how fast are requests approved on average",
            "Mean approval time for requests",
        ),
    ),
    SpecQuestion(
        "admin",
        "How many deletions this month?",
        "deletions",
        (
            "How many titles were deleted this month?",
            "What got removed from the library this month?",
            "count of deleted items this month",
            "How much did we delete in the last 30 days?",
        ),
        params={"start": PERIOD},
        answer_contains=("Old Movie",),
    ),
    SpecQuestion(
        "admin",
        "What's the library growth rate?",
        "library_growth",
        (
            "How quickly is the library growing?",
            "How many titles get added each month?",
            "library growth over time",
            "Is the collection expanding fast?",
        ),
    ),
]

ALL_QUESTIONS = USER_QUESTIONS + ADMIN_QUESTIONS
