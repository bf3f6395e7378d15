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
-- analytics.tool_result_snapshot() (admin mode only, and only the snapshot made
-- with the caller's own minimum group size).
CREATE TABLE tool_result_snapshots (
    tool            text NOT NULL,
    -- The validated arguments as canonical JSON text (sorted keys).
    params          text NOT NULL,
    timezone        text NOT NULL,
    min_group_size  integer NOT NULL CHECK (min_group_size >= 1),
    computed_at     timestamptz NOT NULL,
    -- {"rows": [...], "coverage": {...}, "summary": {...}} exactly as the tool returned them.
    result          jsonb NOT NULL,
    PRIMARY KEY (tool, params, timezone, min_group_size)
);
