-- The tables and indexes of Marquee's first release.
--
-- The table/column contract of shared/spec/schema.md, plus the analytics and
-- AI-learning tables of ai-capabilities.md and what the assistant and the
-- media syncs need beyond them. Names here are read and written by other
-- tools: add columns freely, never rename.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- People ---------------------------------------------------------------------

CREATE TABLE users (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username                    text NOT NULL UNIQUE,
    display_name                text,
    email                       text,
    role                        text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    last_login_at               timestamptz,
    login_count                 integer NOT NULL DEFAULT 0 CHECK (login_count >= 0),
    share_activity_with_admins  boolean NOT NULL DEFAULT false
);
-- A person seen through a new service is matched to an existing user by
-- e-mail, then by user name, both case-insensitively.
CREATE INDEX users_lower_email_idx ON users (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX users_lower_username_idx ON users (lower(username));

CREATE TABLE chat_accounts (
    platform          text NOT NULL CHECK (platform IN ('discord', 'matrix', 'console')),
    platform_user_id  text NOT NULL,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, platform_user_id)
);
CREATE INDEX chat_accounts_user_id_idx ON chat_accounts (user_id);

-- One person seen through several services is one users row; this keeps the
-- id each service knows them by (Plex account id, Jellyfin user id, ...).
CREATE TABLE user_external_ids (
    service      text NOT NULL,
    external_id  text NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (service, external_id)
);
CREATE INDEX user_external_ids_user_id_idx ON user_external_ids (user_id);

-- Library --------------------------------------------------------------------

CREATE TABLE media_items (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title             text NOT NULL,
    media_type        text NOT NULL CHECK (media_type IN ('movie', 'show', 'episode')),
    year              integer,
    parent_id         uuid REFERENCES media_items (id) ON DELETE CASCADE,
    season_number     integer,
    episode_number    integer,
    library_name      text,
    metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
    duration_seconds  integer CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
    file_size_bytes   bigint CHECK (file_size_bytes IS NULL OR file_size_bytes >= 0),
    added_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (media_type = 'episode' OR parent_id IS NULL)
);
CREATE INDEX media_items_parent_id_idx ON media_items (parent_id, season_number, episode_number);
CREATE INDEX media_items_type_library_idx ON media_items (media_type, library_name);
CREATE INDEX media_items_title_trgm_idx ON media_items USING gin (title gin_trgm_ops);
-- Title lookups try an exact, case-insensitive match before the trigram search
-- (core/tools/title_lookup.py): a common word in a title makes the trigram
-- search visit tens of thousands of rows on a large library.
CREATE INDEX media_items_lower_title_idx ON media_items (lower(title)) WHERE media_type IN ('movie', 'show');
-- Recommendations and "highly rated": titles by audience rating.
CREATE INDEX media_items_top_rating_idx ON media_items (((metadata ->> 'rating')::numeric) DESC NULLS LAST)
    WHERE media_type IN ('movie', 'show');
-- Library growth and storage over a period, index-only (a plain index on
-- added_at would make every matching row a random heap fetch).
CREATE INDEX media_items_added_cover_idx ON media_items (added_at) INCLUDE (media_type, file_size_bytes);

-- The ids an item has in each service and catalogue ('tmdb', 'tvdb', 'imdb',
-- 'plex', 'jellyfin'), so an item seen through several services is one row.
CREATE TABLE media_external_ids (
    service        text NOT NULL,
    external_id    text NOT NULL,
    media_item_id  uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    PRIMARY KEY (service, external_id)
);
CREATE INDEX media_external_ids_item_idx ON media_external_ids (media_item_id);

-- Requests -------------------------------------------------------------------

CREATE TABLE content_requests (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title                 text NOT NULL,
    media_type            text NOT NULL CHECK (media_type IN ('movie', 'show')),
    media_item_id         uuid REFERENCES media_items (id) ON DELETE SET NULL,
    requested_by_user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status                text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'approved', 'declined', 'available', 'failed')),
    requested_at          timestamptz NOT NULL DEFAULT now(),
    approved_at           timestamptz,
    approved_by_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    declined_at           timestamptz,
    decline_reason        text,
    available_at          timestamptz,
    -- where the request came from (e.g. 'overseerr' and its request id)
    source                text,
    source_request_id     text,
    tmdb_id               integer,
    tvdb_id               integer
);
CREATE INDEX content_requests_requester_idx ON content_requests (requested_by_user_id, requested_at);
CREATE INDEX content_requests_status_idx ON content_requests (status, requested_at);
CREATE INDEX content_requests_media_item_idx ON content_requests (media_item_id);
CREATE INDEX content_requests_approver_idx ON content_requests (approved_by_user_id) WHERE approved_by_user_id IS NOT NULL;
CREATE UNIQUE INDEX content_requests_source_uidx ON content_requests (source, source_request_id)
    WHERE source IS NOT NULL AND source_request_id IS NOT NULL;
-- Requests by decline time.
CREATE INDEX content_requests_declined_idx ON content_requests (declined_at) WHERE status = 'declined';
-- Requests are matched to media items (and back) by catalogue id.
CREATE INDEX content_requests_tmdb_idx ON content_requests (tmdb_id) WHERE tmdb_id IS NOT NULL;
CREATE INDEX content_requests_tvdb_idx ON content_requests (tvdb_id) WHERE tvdb_id IS NOT NULL;

-- Viewing --------------------------------------------------------------------

CREATE TABLE watch_history (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media_item_id     uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    started_at        timestamptz NOT NULL,
    stopped_at        timestamptz,
    watched_seconds   integer NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
    percent_complete  numeric CHECK (percent_complete IS NULL OR percent_complete BETWEEN 0 AND 100),
    -- the service and its id for this play, so a re-sync never duplicates it
    source            text,
    source_id         text
);
CREATE INDEX watch_history_user_started_idx ON watch_history (user_id, started_at);
CREATE INDEX watch_history_item_idx ON watch_history (media_item_id, user_id);
-- Index-only scans for the server-wide aggregates over a period (trending,
-- what others watch, admin leaderboards): a plain index on started_at makes
-- every matching row a random heap fetch (72,000 of them for a week of the
-- large demo server).
CREATE INDEX watch_history_started_cover_idx ON watch_history (started_at)
    INCLUDE (media_item_id, user_id, watched_seconds, percent_complete);
CREATE UNIQUE INDEX watch_history_source_uidx ON watch_history (source, source_id)
    WHERE source IS NOT NULL AND source_id IS NOT NULL;

CREATE TABLE user_stats (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media_item_id             uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    play_count                integer NOT NULL DEFAULT 0 CHECK (play_count >= 0),
    rating                    numeric(3, 1) CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
    last_played_at            timestamptz,
    attributed_to_request_id  uuid REFERENCES content_requests (id) ON DELETE SET NULL,
    UNIQUE (user_id, media_item_id)
);
CREATE INDEX user_stats_item_idx ON user_stats (media_item_id);
CREATE INDEX user_stats_user_last_played_idx ON user_stats (user_id, last_played_at);
CREATE INDEX user_stats_request_idx ON user_stats (attributed_to_request_id)
    WHERE attributed_to_request_id IS NOT NULL;
-- Per-user ratings ("my average rating", "who rates the most").
CREATE INDEX user_stats_user_rating_idx ON user_stats (user_id) INCLUDE (rating, media_item_id)
    WHERE rating IS NOT NULL;

-- A service's own per-user counters for an item (Jellyfin UserData, Plex user
-- ratings). user_stats is recomputed from watch_history and these, so a
-- service that reports only counters (Jellyfin has no per-play history) still
-- counts, and a re-sync overwrites its own numbers instead of adding to them.
CREATE TABLE media_user_state (
    service         text NOT NULL,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media_item_id   uuid NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    play_count      integer CHECK (play_count IS NULL OR play_count >= 0),
    played          boolean,
    last_played_at  timestamptz,
    rating          numeric(3, 1) CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
    PRIMARY KEY (service, user_id, media_item_id)
);
CREATE INDEX media_user_state_pair_idx ON media_user_state (user_id, media_item_id);

-- (user, item) pairs whose user_stats row must be recomputed: filled in the
-- transaction that writes plays or counters, emptied by the set-based
-- recompute. A sync that fails halfway leaves its pairs here for the next
-- recompute instead of leaving user_stats stale. No foreign keys: the
-- recompute joins users and media_items, and a bulk sync writes a pair per
-- play, where per-row key checks would cost more than the pair itself.
CREATE TABLE user_stats_pending (
    user_id        uuid NOT NULL,
    media_item_id  uuid NOT NULL,
    PRIMARY KEY (user_id, media_item_id)
);

-- Operations -----------------------------------------------------------------

CREATE TABLE sync_schedule (
    integration           text PRIMARY KEY,
    enabled               boolean NOT NULL DEFAULT true,
    interval_seconds      integer NOT NULL DEFAULT 3600 CHECK (interval_seconds > 0),
    last_run_at           timestamptz,
    last_success_at       timestamptz,
    last_error            text,
    consecutive_failures  integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    -- incremental-sync cursor of the integration (e.g. Plex's last viewedAt)
    cursor                jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE webhook_log (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source       text NOT NULL
                 CHECK (source IN ('plex', 'jellyfin', 'tautulli', 'overseerr', 'jellyseerr', 'radarr', 'sonarr')),
    event_type   text,
    status       text NOT NULL CHECK (status IN ('processed', 'ignored', 'rejected', 'error')),
    error        text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- a hash of the delivery, so a repeated delivery is recognised
    delivery_key text
);
CREATE INDEX webhook_log_received_idx ON webhook_log (received_at, status);
CREATE INDEX webhook_log_delivery_idx ON webhook_log (source, delivery_key) WHERE delivery_key IS NOT NULL;

CREATE TABLE deletion_log (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    media_item_id    uuid REFERENCES media_items (id) ON DELETE SET NULL,
    title            text NOT NULL,
    media_type       text,
    file_size_bytes  bigint CHECK (file_size_bytes IS NULL OR file_size_bytes >= 0),
    deleted_at       timestamptz NOT NULL DEFAULT now(),
    reason           text
);
CREATE INDEX deletion_log_deleted_at_idx ON deletion_log (deleted_at);
CREATE INDEX deletion_log_item_idx ON deletion_log (media_item_id) WHERE media_item_id IS NOT NULL;

CREATE TABLE api_logs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid REFERENCES users (id) ON DELETE SET NULL,
    endpoint          text NOT NULL,
    method            text NOT NULL,
    status_code       integer,
    response_time_ms  integer,
    error_message     text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_logs_created_at_idx ON api_logs (created_at);

CREATE TABLE bandwidth_logs (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                  uuid REFERENCES users (id) ON DELETE SET NULL,
    media_item_id            uuid REFERENCES media_items (id) ON DELETE SET NULL,
    bytes_transferred        bigint CHECK (bytes_transferred IS NULL OR bytes_transferred >= 0),
    stream_duration_seconds  integer CHECK (stream_duration_seconds IS NULL OR stream_duration_seconds >= 0),
    created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bandwidth_logs_created_at_idx ON bandwidth_logs (created_at);
CREATE INDEX bandwidth_logs_user_created_idx ON bandwidth_logs (user_id, created_at);

-- Conversation and learning --------------------------------------------------

CREATE TABLE chat_history (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform         text NOT NULL,
    conversation_id  text NOT NULL,
    role             text NOT NULL CHECK (role IN ('user', 'assistant')),
    content          text NOT NULL,
    mode             text NOT NULL DEFAULT 'personal' CHECK (mode IN ('personal', 'admin')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_history_conversation_idx ON chat_history (user_id, platform, conversation_id, created_at);
-- rate limit: a user's recent messages across all conversations
CREATE INDEX chat_history_user_messages_idx ON chat_history (user_id, created_at) WHERE role = 'user';

CREATE TABLE ai_learning_queue (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question              text NOT NULL,
    question_type         text,
    why_failed            text,
    missing_tables        text[],
    suggested_solution    text,
    priority              integer NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 5),
    times_asked           integer NOT NULL DEFAULT 1 CHECK (times_asked >= 1),
    status                text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'in_progress', 'resolved', 'wont_fix')),
    resolved_at           timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    last_asked_at         timestamptz NOT NULL DEFAULT now(),
    times_reported_wrong  integer NOT NULL DEFAULT 0 CHECK (times_reported_wrong >= 0),
    resolution_note       text
);
CREATE INDEX ai_learning_queue_question_trgm_idx ON ai_learning_queue USING gin (question gin_trgm_ops);
CREATE INDEX ai_learning_queue_status_priority_idx ON ai_learning_queue (status, priority DESC, times_asked DESC);

CREATE TABLE ai_conversation_feedback (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_history_id        uuid REFERENCES chat_history (id) ON DELETE SET NULL,
    user_id                uuid REFERENCES users (id) ON DELETE CASCADE,
    user_message           text NOT NULL,
    ai_response            text NOT NULL,
    -- AI self-assessment
    confidence_score       numeric(3, 2) CHECK (confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1),
    data_sources_used      jsonb,
    missing_data           jsonb,
    had_sufficient_data    boolean,
    could_improve_with     jsonb,
    reasoning              text,
    -- user feedback
    user_rating            integer CHECK (user_rating IS NULL OR user_rating BETWEEN 1 AND 5),
    user_followed_up       boolean NOT NULL DEFAULT false,
    user_reported_wrong    boolean NOT NULL DEFAULT false,
    -- learning signals
    question_type          text,
    complexity             text CHECK (complexity IS NULL OR complexity IN ('simple', 'medium', 'complex')),
    was_successful         boolean,
    requires_human_review  boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    -- where the reply went, so a reaction finds its row
    platform               text,
    conversation_id        text,
    reply_message_id       text,
    mode                   text CHECK (mode IS NULL OR mode IN ('personal', 'admin')),
    engine                 text,
    latency_ms             integer CHECK (latency_ms IS NULL OR latency_ms >= 0),
    input_tokens           integer CHECK (input_tokens IS NULL OR input_tokens >= 0),
    output_tokens          integer CHECK (output_tokens IS NULL OR output_tokens >= 0),
    -- the learning-queue row this answer fed (low confidence, missing data or ❌), so an undo finds it
    learning_queue_id      uuid REFERENCES ai_learning_queue (id) ON DELETE SET NULL,
    -- why the configured engine failed when the answer came from the fallback
    engine_error           text,
    -- true when the reply is the offline engine standing in for a failed model
    used_fallback          boolean NOT NULL DEFAULT false,
    model_calls            integer CHECK (model_calls IS NULL OR model_calls >= 0)
);
CREATE UNIQUE INDEX ai_feedback_reply_uidx ON ai_conversation_feedback (platform, reply_message_id)
    WHERE reply_message_id IS NOT NULL;
CREATE INDEX ai_feedback_user_created_idx ON ai_conversation_feedback (user_id, created_at);
CREATE INDEX ai_feedback_created_idx ON ai_conversation_feedback (created_at);
-- follow-up detection: the latest answer of one conversation
CREATE INDEX ai_feedback_conversation_idx
    ON ai_conversation_feedback (user_id, platform, conversation_id, created_at DESC);

-- One row per feedback reaction currently present on a reply. Adding a present
-- reaction or removing an absent one changes nothing, so a platform that
-- delivers the same event twice cannot double-count it.
CREATE TABLE ai_feedback_reactions (
    feedback_id  uuid NOT NULL REFERENCES ai_conversation_feedback (id) ON DELETE CASCADE,
    emoji        text NOT NULL CHECK (emoji IN ('👍', '❌')),
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feedback_id, emoji)
);
