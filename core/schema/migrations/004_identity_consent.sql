-- Chat accounts are linked only by an admin or by their owner's "yes"; the
-- learning queue knows who added each entry so one member cannot flood it; links
-- made by matching editable names are undone (last statement).

-- A chat account someone else says is theirs (the Discord id in an Overseerr
-- user's notification settings, which that user edits freely). Marquee asks
-- the chat account's owner in a direct message and links only on "yes".
CREATE TABLE chat_link_suggestions (
    platform          text NOT NULL CHECK (platform IN ('discord', 'matrix', 'console')),
    platform_user_id  text NOT NULL,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- where the suggestion came from ('overseerr', 'jellyseerr')
    source            text NOT NULL,
    suggested_at      timestamptz NOT NULL DEFAULT now(),
    -- when the question was put to the chat account: a "yes" counts only after it
    asked_at          timestamptz,
    -- the owner said no: never asked again, even when the next sync suggests it again
    declined_at       timestamptz,
    PRIMARY KEY (platform, platform_user_id, user_id)
);
CREATE INDEX chat_link_suggestions_user_idx ON chat_link_suggestions (user_id, source);

-- Who linked, unlinked, declined or was refused which chat account for which user, when and how.
CREATE TABLE chat_account_links_audit (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform          text NOT NULL,
    platform_user_id  text NOT NULL,
    -- no foreign key: the trail outlives the users it names (and a demo-data reload)
    user_id           uuid,
    -- 'linked', 'unlinked', 'declined' (the owner said no), 'refused' (already linked elsewhere)
    action            text NOT NULL CHECK (action IN ('linked', 'unlinked', 'declined', 'refused')),
    -- 'admin' (chat /link, `marquee link`/`unlink`), 'owner_consent', 'console'
    method            text NOT NULL,
    -- who did it: 'cli', or the chat account of the admin or of the owner ('discord:123…')
    actor             text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_account_links_audit_account_idx
    ON chat_account_links_audit (platform, platform_user_id, created_at);

-- The member whose question created the entry (NULL for entries made before): only
-- counted for the daily allowance, never shown (the engine role cannot read this table).
-- No foreign key, so that replacing the users (demo data) leaves the queue alone.
ALTER TABLE ai_learning_queue ADD COLUMN asked_by_user_id uuid;
CREATE INDEX ai_learning_queue_asker_idx ON ai_learning_queue (asked_by_user_id, created_at)
    WHERE asked_by_user_id IS NOT NULL;
