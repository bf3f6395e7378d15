-- Admins approving and declining requests from chat.
--
-- Not granted to marquee_engine: the answer engines never read it; core writes
-- it on the owner's pool.

-- An admin's decision in progress in one conversation: the pending requests last
-- listed to them (so "approve 2" means what they saw), and the approval or
-- decline waiting for their "yes". Nothing is sent to Overseerr from this row
-- until the admin confirms; a row past expires_at is as good as absent.
CREATE TABLE pending_admin_decisions (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform         text NOT NULL,
    conversation_id  text NOT NULL,
    listed           jsonb NOT NULL DEFAULT '[]',
    decision         jsonb,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (user_id, platform, conversation_id)
);

-- A member's request in progress may be for the 4K version ("request Dune in 4K").
ALTER TABLE pending_media_requests ADD COLUMN is_4k boolean NOT NULL DEFAULT false;
