-- Answers of the slow server-wide admin tools, computed ahead of time.
--
-- Power users, what to remove, genres, never watched, popular content and the
-- other cross-user rankings read every play of their period or every item on
-- each call (0.3-0.9 s on the large demo server: 2,000 users, 200,000 items,
-- 5,000,000 plays). Their default questions are answered from here instead:
-- `marquee run` recomputes each one on a schedule (core/tools/snapshots.py)
-- with the tool's own code, and a tool serves the stored answer while it is
-- recent and from the same local day, saying "as of HH:MM" once it is older
-- than a minute. Anything else (other arguments, an old or missing snapshot)
-- is computed live as before.
--
-- Not granted to marquee_engine: tools read it only through
-- analytics.tool_result_snapshot() (only the snapshot made in the caller's own
-- mode and with the caller's own minimum group size).
CREATE TABLE tool_result_snapshots (
    tool            text NOT NULL,
    -- Admin answers, and members' answers of library-wide tools (the same for every member).
    mode            text NOT NULL CHECK (mode IN ('personal', 'admin')),
    -- The validated arguments as canonical JSON text (sorted keys).
    params          text NOT NULL,
    timezone        text NOT NULL,
    min_group_size  integer NOT NULL CHECK (min_group_size >= 1),
    computed_at     timestamptz NOT NULL,
    -- {"rows": [...], "coverage": {...}, "summary": {...}} exactly as the tool returned them.
    result          jsonb NOT NULL,
    PRIMARY KEY (tool, mode, params, timezone, min_group_size)
);

-- What members see of everyone else's viewing in the last 7 days ("what others
-- watch", "trending") is the same server-wide count minus the member's own
-- plays. Each refresh stores, per title, the server-wide counts of the last 7
-- days before the refresh and of the 7 days before those; a member's tool
-- takes their own plays off (analytics.title_popularity_top_as_of) and applies the
-- minimum group size, exactly as analytics.title_popularity does live.
CREATE TABLE title_popularity_windows (
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    computed_at   timestamptz NOT NULL,
    PRIMARY KEY (window_start, window_end)
);
CREATE TABLE title_popularity_snapshots (
    window_start           timestamptz NOT NULL,
    window_end             timestamptz NOT NULL,
    title_id               uuid NOT NULL,
    -- The title as it was at the refresh, so a member's answer needs no look-up per title.
    title                  text NOT NULL,
    media_type             text NOT NULL,
    year                   integer,
    library_name           text,
    genres                 jsonb NOT NULL,
    viewers                bigint NOT NULL,
    sessions               bigint NOT NULL,
    watched_seconds        bigint NOT NULL,
    PRIMARY KEY (window_start, window_end, title_id),
    FOREIGN KEY (window_start, window_end) REFERENCES title_popularity_windows ON DELETE CASCADE
);
-- A member's first titles by viewers or by sessions are read in order (analytics.title_popularity_top_as_of).
CREATE INDEX title_popularity_snapshots_by_viewers
    ON title_popularity_snapshots (window_start, window_end, viewers DESC, sessions DESC, title);
CREATE INDEX title_popularity_snapshots_by_sessions
    ON title_popularity_snapshots (window_start, window_end, sessions DESC, viewers DESC, title);
