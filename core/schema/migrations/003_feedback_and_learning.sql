-- What the Assistant needs beyond the contract tables: idempotent reactions,
-- the link from an answer to the learning-queue row it fed, engine errors for
-- health(), and the indexes behind rate limits, follow-ups and the queue.

-- One row per feedback reaction currently present on a reply. Adding a present
-- reaction or removing an absent one changes nothing, so a platform that
-- delivers the same event twice cannot double-count it.
CREATE TABLE ai_feedback_reactions (
    feedback_id  uuid NOT NULL REFERENCES ai_conversation_feedback (id) ON DELETE CASCADE,
    emoji        text NOT NULL CHECK (emoji IN ('👍', '❌')),
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feedback_id, emoji)
);

ALTER TABLE ai_conversation_feedback
    -- the learning-queue row this answer fed (low confidence, missing data or ❌), so an undo finds it
    ADD COLUMN learning_queue_id uuid REFERENCES ai_learning_queue (id) ON DELETE SET NULL,
    -- why the configured engine failed when the answer came from the fallback
    ADD COLUMN engine_error text,
    -- true when the reply is the offline engine standing in for a failed model
    ADD COLUMN used_fallback boolean NOT NULL DEFAULT false,
    ADD COLUMN model_calls integer CHECK (model_calls IS NULL OR model_calls >= 0);

-- follow-up detection: the latest answer of one conversation
CREATE INDEX ai_feedback_conversation_idx
    ON ai_conversation_feedback (user_id, platform, conversation_id, created_at DESC);

-- rate limit: a user's recent messages across all conversations
CREATE INDEX chat_history_user_messages_idx ON chat_history (user_id, created_at) WHERE role = 'user';

-- The queue's priority (1-5): how often a question is asked, how often an answer
-- to it was reported wrong (weighs three asks), and whether it is still being asked.
CREATE FUNCTION marquee_learning_priority(times_asked integer, times_reported_wrong integer,
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
