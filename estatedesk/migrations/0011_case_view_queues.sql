-- Queue filters of the case list: who holds a case, whose household it is, what is due next,
-- and text search. Text is indexed as character unigrams and bigrams (a GIN over text[]),
-- which serves Chinese as well as Latin text: trigrams would miss a two-character word
-- such as 漏水 and, under the C locale, ignore CJK characters altogether.
ALTER TABLE case_views
    ADD COLUMN assignee     text,
    ADD COLUMN coordinator  text,
    ADD COLUMN household_id text,
    ADD COLUMN next_due_at  timestamptz;
CREATE INDEX case_views_assignee ON case_views (assignee, received_at DESC) WHERE assignee IS NOT NULL;
CREATE INDEX case_views_coordinator ON case_views (coordinator, received_at DESC) WHERE coordinator IS NOT NULL;
CREATE INDEX case_views_household ON case_views (household_id, received_at DESC) WHERE household_id IS NOT NULL;
CREATE INDEX case_views_next_due ON case_views (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX case_views_departments ON case_views USING gin (departments);
-- A case's title and description never change after it is received, so their grams are
-- written once, beside the view, and not on each of its updates.
-- The estate leads the index (btree_gin), so a common gram is intersected within one
-- estate's cases rather than across the whole group.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE TABLE case_search (
    case_id   text   PRIMARY KEY,
    estate_id text   NOT NULL,
    grams     text[] NOT NULL
);
CREATE INDEX case_search_grams ON case_search USING gin (estate_id, grams);
CREATE INDEX case_views_status ON case_views (estate_id, status, received_at DESC);
CREATE INDEX case_views_breached ON case_views (estate_id, received_at DESC) WHERE breached;
