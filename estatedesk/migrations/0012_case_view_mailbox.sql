-- The general manager's mailbox (总经理信箱): which cases hold items of it, `open` while one
-- waits to be acknowledged, `acknowledged` once all are; NULL for every other case, so the
-- partial index holds only the few cases that ever reached the mailbox.
ALTER TABLE case_views ADD COLUMN mailbox text;
CREATE INDEX case_views_mailbox ON case_views (estate_id, mailbox, received_at DESC) WHERE mailbox IS NOT NULL;
