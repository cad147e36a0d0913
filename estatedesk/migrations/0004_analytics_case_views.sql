-- The case view projection: a document per case plus the columns lists filter on.
CREATE TABLE case_views (
    case_id     text        PRIMARY KEY,
    estate_id   text        NOT NULL,
    type        text        NOT NULL,
    status      text        NOT NULL,
    departments text[]      NOT NULL DEFAULT '{}',
    breached    boolean     NOT NULL DEFAULT false,
    received_at timestamptz NOT NULL,
    view        jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX case_views_list ON case_views (estate_id, received_at DESC, case_id DESC);
