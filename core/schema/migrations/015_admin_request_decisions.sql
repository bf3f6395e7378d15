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

-- 👍/❌ of a member on a notification Marquee sent them ("your request is
-- ready"): recorded like the reactions on an answer, but apart from the answer
-- feedback (a notification is not an answer: it must not count in answer
-- statistics, rate limits or the learning queue). Kept after the outbox row is
-- swept. A reaction finds its row by (platform, reply_message_id), and counts
-- only when the reactor is the member it was sent to.
CREATE TABLE notification_feedback (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform          text NOT NULL,
    reply_message_id  text NOT NULL,
    event_key         text NOT NULL,
    body              text NOT NULL,
    thumbs_up         boolean NOT NULL DEFAULT false,
    reported_wrong    boolean NOT NULL DEFAULT false,
    sent_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, reply_message_id)
);
CREATE INDEX notification_feedback_event_idx ON notification_feedback (event_key);

-- A webhook source that went silent and was reported to the admins: the row
-- exists from the "silent" alert until the "arrives again" alert, so each
-- transition is told once whatever the number of checks (and of processes).
CREATE TABLE webhook_silence_alerts (
    source            text PRIMARY KEY,
    last_delivery_at  timestamptz NOT NULL,
    alerted_at        timestamptz NOT NULL
);

-- New media announced to a channel/room per library. A library.new / ItemAdded
-- webhook records the arrival; once a library has had no new arrival for a few
-- minutes, its waiting arrivals become one message (a season added episode by
-- episode is one announcement). One row per item, whichever service saw it first.
CREATE TABLE media_arrivals (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    media_item_id uuid NOT NULL UNIQUE REFERENCES media_items (id) ON DELETE CASCADE,
    library_name  text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    announced_at  timestamptz
);
CREATE INDEX media_arrivals_waiting_idx ON media_arrivals (library_name, received_at) WHERE announced_at IS NULL;

-- The outbox also carries those announcements: audience 'channel', the
-- channel/room id in platform_user_id.
ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_audience_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_audience_check
    CHECK (audience IN ('member', 'admins', 'channel'));
