"""The SQLite FTS5 index of the embedded backend: its DDL, shared by migrations 0006 and
0007 and by ``EmbeddedBackend.rebuild`` (which drops the triggers while it bulk-loads, then
builds the index in one pass). Changing these statements needs a new migration that runs
them (and the earlier migrations keep their own version, as 0006 does)."""

# Module constants only (no input reaches these statements).
DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_au",
]
DROP_TABLE = ["DROP TABLE IF EXISTS search_fts"]
# Since migration 0007: a fifth column ``tags`` holds tokens that only filter (``|public``
# for what the public may see), so that the public's searches count their matches from the
# index alone. Its content is ``search_searchentry.tags``.
CREATE_TABLE = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        folded_headline, folded_summary, folded_text, exact_text, tags,
        content='search_searchentry', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0 tokenchars '_|'", prefix='2 3')"""
]
CREATE_TRIGGERS = [
    """CREATE TRIGGER search_fts_ai AFTER INSERT ON search_searchentry BEGIN
        INSERT INTO search_fts(rowid, folded_headline, folded_summary, folded_text, exact_text,
                               tags)
        VALUES (new.id, new.folded_headline, new.folded_summary, new.folded_text,
                new.exact_text, new.tags);
    END""",
    """CREATE TRIGGER search_fts_ad AFTER DELETE ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, folded_headline, folded_summary,
                               folded_text, exact_text, tags)
        VALUES ('delete', old.id, old.folded_headline, old.folded_summary, old.folded_text,
                old.exact_text, old.tags);
    END""",
    """CREATE TRIGGER search_fts_au AFTER UPDATE OF folded_headline, folded_summary,
        folded_text, exact_text, tags ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, folded_headline, folded_summary,
                               folded_text, exact_text, tags)
        VALUES ('delete', old.id, old.folded_headline, old.folded_summary, old.folded_text,
                old.exact_text, old.tags);
        INSERT INTO search_fts(rowid, folded_headline, folded_summary, folded_text, exact_text,
                               tags)
        VALUES (new.id, new.folded_headline, new.folded_summary, new.folded_text,
                new.exact_text, new.tags);
    END""",
]
# Covering indexes of the short columns (the rows hold ~2 KB of text each, about one row per
# page): the search reads matches through them (``INDEXED BY``), never the rows, except the
# page's texts for highlighting. NARROW is keyed by id = the FTS rowid, for joins from FTS
# matches, with the short folded texts the score reads; RECENT is in date order, for listing
# without words. SQLite only (PostgreSQL would refuse long summaries in a b-tree index).
NARROW_INDEX = "search_entry_narrow"
RECENT_INDEX = "search_entry_recent"
FILTER_COLUMNS = (
    "public, status, unit_path, kind, category, unit_province, unit_district, unit_commune, month"
)
CREATE_INDEXES = [
    f"""CREATE INDEX IF NOT EXISTS {NARROW_INDEX} ON search_searchentry(
        id, date, item_id, {FILTER_COLUMNS}, folded_headline, folded_summary)""",
    f"""CREATE INDEX IF NOT EXISTS {RECENT_INDEX} ON search_searchentry(
        date, item_id, {FILTER_COLUMNS})""",
]
DROP_INDEXES = [f"DROP INDEX IF EXISTS {NARROW_INDEX}", f"DROP INDEX IF EXISTS {RECENT_INDEX}"]
# The table and triggers as migration 0006 made them (four columns, no tags).
CREATE_TABLE_0006 = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        folded_headline, folded_summary, folded_text, exact_text,
        content='search_searchentry', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0 tokenchars '_|'", prefix='2 3')"""
]
CREATE_TRIGGERS_0006 = [
    """CREATE TRIGGER search_fts_ai AFTER INSERT ON search_searchentry BEGIN
        INSERT INTO search_fts(rowid, folded_headline, folded_summary, folded_text, exact_text)
        VALUES (new.id, new.folded_headline, new.folded_summary, new.folded_text,
                new.exact_text);
    END""",
    """CREATE TRIGGER search_fts_ad AFTER DELETE ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, folded_headline, folded_summary,
                               folded_text, exact_text)
        VALUES ('delete', old.id, old.folded_headline, old.folded_summary, old.folded_text,
                old.exact_text);
    END""",
    """CREATE TRIGGER search_fts_au AFTER UPDATE OF folded_headline, folded_summary,
        folded_text, exact_text ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, folded_headline, folded_summary,
                               folded_text, exact_text)
        VALUES ('delete', old.id, old.folded_headline, old.folded_summary, old.folded_text,
                old.exact_text);
        INSERT INTO search_fts(rowid, folded_headline, folded_summary, folded_text, exact_text)
        VALUES (new.id, new.folded_headline, new.folded_summary, new.folded_text,
                new.exact_text);
    END""",
]
REBUILD = ["INSERT INTO search_fts(search_fts) VALUES ('rebuild')"]
