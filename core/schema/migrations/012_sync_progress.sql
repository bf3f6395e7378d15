-- How far a sync run has got, for /health while a first sync of hours runs in the
-- background (and for `marquee health` in another terminal). The job's latest stage
-- (e.g. 'tautulli play history'), things done / total in it and when the stage began
-- (the rate and the time left follow from those), written every few seconds by the
-- process running the job; finished_at once the run succeeded.
-- first_sync_done_at: when the integration's first successful run ended (NULL: its
-- first sync has not completed; unknown for runs before this migration).
ALTER TABLE sync_schedule
    ADD COLUMN progress_stage text,
    ADD COLUMN progress_done bigint,
    ADD COLUMN progress_total bigint,
    ADD COLUMN progress_stage_started_at timestamptz,
    ADD COLUMN progress_updated_at timestamptz,
    ADD COLUMN progress_finished_at timestamptz,
    ADD COLUMN first_sync_done_at timestamptz;
