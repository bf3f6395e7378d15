-- The queue's priority (1-5): how often a question is asked, how often an answer
-- to it was reported wrong (weighs three asks), and whether it is still being asked.
CREATE OR REPLACE FUNCTION marquee_learning_priority(times_asked integer, times_reported_wrong integer,
                                                     last_asked_at timestamptz)
RETURNS integer
LANGUAGE sql STABLE
AS $$
    SELECT least(5, greatest(1,
        1
        + (CASE WHEN times_asked + 3 * times_reported_wrong >= 2 THEN 1 ELSE 0 END)
        + (CASE WHEN times_asked + 3 * times_reported_wrong >= 5 THEN 1 ELSE 0 END)
        + (CASE WHEN times_asked + 3 * times_reported_wrong >= 10 THEN 1 ELSE 0 END)
        + (CASE WHEN last_asked_at >= now() - interval '7 days'
                 AND times_asked + 3 * times_reported_wrong >= 2 THEN 1 ELSE 0 END)))
$$;
