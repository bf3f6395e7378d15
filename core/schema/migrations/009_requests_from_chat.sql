-- Requests from chat and the notifications that follow them.
--
-- None of these tables is granted to marquee_engine: the answer engines never
-- read them; core writes them on the owner's pool.

-- A member's request in progress in one conversation: the matches shown, the
-- title picked, the seasons chosen. Nothing is requested from this row until
-- the member confirms; a row past expires_at is as good as absent.
CREATE TABLE pending_media_requests (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform         text NOT NULL,
    conversation_id  text NOT NULL,
    stage            text NOT NULL CHECK (stage IN ('choose', 'seasons', 'confirm')),
    candidates       jsonb NOT NULL DEFAULT '[]',
    chosen           integer,
    seasons          jsonb,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (user_id, platform, conversation_id)
);

-- Whether a member wants to hear about their requests (default: yes, no row).
CREATE TABLE notification_preferences (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    request_updates  boolean NOT NULL DEFAULT true,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Messages waiting for their chat adapter: a member's direct message about
-- their request, or an alert for the admin channel/room (audience 'admins',
-- no user). A webhook delivered twice writes the same event_key twice: the
-- unique key keeps one message per recipient. Unsent rows survive restarts
-- and are dropped after expires_at.
CREATE TABLE notification_outbox (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_key         text NOT NULL,
    audience          text NOT NULL DEFAULT 'member' CHECK (audience IN ('member', 'admins')),
    user_id           uuid REFERENCES users (id) ON DELETE CASCADE,
    platform          text NOT NULL,
    platform_user_id  text NOT NULL,
    body              text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    sent_at           timestamptz,
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    UNIQUE (event_key, platform, platform_user_id)
);
CREATE INDEX notification_outbox_unsent_idx ON notification_outbox (platform, created_at) WHERE sent_at IS NULL;
