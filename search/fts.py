"""The SQLite FTS5 index of the embedded backend: its DDL, shared by migration 0006 and by
``EmbeddedBackend.rebuild`` (which drops the triggers while it bulk-loads, then builds the
index in one pass). Changing these statements needs a new migration that runs them."""

# Module constants only (no input reaches these statements).
DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_au",
]
DROP_TABLE = ["DROP TABLE IF EXISTS search_fts"]
CREATE_TABLE = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        folded_headline, folded_summary, folded_text, exact_text,
        content='search_searchentry', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0 tokenchars '_|'", prefix='2 3')"""
]
CREATE_TRIGGERS = [
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
