-- The /admin/ai-insights page: one-time sign-in links, browser sessions, the
-- record of every triage action on the learning queue, and duplicate merges.

-- A sign-in link is shown once; only the SHA-256 of its token is kept, so a
-- copy of the database cannot sign anyone in. user_id is NULL for a link made
-- on the host (`marquee insights --link`), whose operator is trusted.
CREATE TABLE insights_sign_in_links (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    actor        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX insights_sign_in_links_expires_idx ON insights_sign_in_links (expires_at);

-- A signed-in browser: the cookie holds the token, the database its hash.
CREATE TABLE insights_sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    actor        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX insights_sessions_expires_idx ON insights_sessions (expires_at);

-- Who did what to which queue entry, and when. queue_id survives as NULL if a
-- row is ever deleted, so the record of the action stays.
CREATE TABLE ai_learning_queue_actions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id    uuid REFERENCES ai_learning_queue (id) ON DELETE SET NULL,
    action      text NOT NULL CHECK (action IN ('set_priority', 'in_progress', 'resolved', 'wont_fix',
                                                'reopened', 'merged_into', 'absorbed')),
    detail      text,
    actor       text NOT NULL,
    acted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_learning_queue_actions_queue_idx ON ai_learning_queue_actions (queue_id, acted_at DESC);
CREATE INDEX ai_learning_queue_actions_acted_idx ON ai_learning_queue_actions (acted_at DESC);

-- A duplicate merged into another entry is closed (status resolved) and points
-- at the entry that carries its counts on.
ALTER TABLE ai_learning_queue ADD COLUMN merged_into uuid REFERENCES ai_learning_queue (id) ON DELETE SET NULL;

-- The page's per-entry answer statistics (confidence, ❌, mode, engine).
CREATE INDEX ai_feedback_learning_queue_idx ON ai_conversation_feedback (learning_queue_id)
    WHERE learning_queue_id IS NOT NULL;

-- A priority an admin set stays: asking the question again recomputes the
-- priority (core/learning_queue.py), and this trigger keeps the admin's value
-- unless the update itself sets a new priority_set_at (only the page does).
ALTER TABLE ai_learning_queue ADD COLUMN priority_set_at timestamptz;

CREATE FUNCTION marquee_keep_admin_priority() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.priority_set_at IS NOT NULL AND NEW.priority_set_at IS NOT DISTINCT FROM OLD.priority_set_at THEN
        NEW.priority := OLD.priority;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ai_learning_queue_keep_admin_priority
    BEFORE UPDATE OF priority ON ai_learning_queue
    FOR EACH ROW EXECUTE FUNCTION marquee_keep_admin_priority();
