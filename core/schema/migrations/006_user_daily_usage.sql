-- Per-user, per-day usage with the tokens reserved by answers in flight.
--
-- A message reserves tokens (and its question turn is recorded) under this row's lock before
-- the engine runs, and the reservation is settled with the real usage afterwards, so concurrent
-- messages cannot all pass a budget that only one fits in. usage_date is the day in the
-- server's time zone (MARQUEE_TIMEZONE), the day the budget resets on.
CREATE TABLE user_daily_usage (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    usage_date       date NOT NULL,
    messages         integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
    tokens_used      bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
    tokens_reserved  bigint NOT NULL DEFAULT 0 CHECK (tokens_reserved >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, usage_date)
);
