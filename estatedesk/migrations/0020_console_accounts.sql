-- The console's own tables: staff accounts that sign in, and each person's notification inbox.
-- Neither holds case data: a notification names the event and case it is about.
CREATE TABLE console_accounts (
    user_id         text        PRIMARY KEY,
    display_name    text        NOT NULL,
    role            text        NOT NULL,
    estates         text[]      NOT NULL DEFAULT '{}',
    department      text,
    email           text,
    password_hash   text        NOT NULL,
    disabled        boolean     NOT NULL DEFAULT false,
    failed_attempts integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE console_notifications (
    id          bigserial   PRIMARY KEY,
    event_id    uuid        NOT NULL,
    recipient   text        NOT NULL,
    event_type  text        NOT NULL,
    case_id     text        NOT NULL,
    estate_id   text,
    summary     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    emailed_at  timestamptz,
    -- a redelivered message never notifies the same person twice
    UNIQUE (event_id, recipient)
);
CREATE INDEX console_notifications_inbox ON console_notifications (recipient, created_at DESC);
CREATE INDEX console_notifications_mail ON console_notifications (id) WHERE emailed_at IS NULL;
