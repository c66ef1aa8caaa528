-- Search and paging that stay fast at 100,000 customers (SQLite). Keep in step with
-- ../postgres/0006_customer_search.sql: the substring index differs (a named dialect
-- difference, see app/src/ssr/db.rs): here an FTS5 table with the trigram tokenizer.

-- Domains are case-insensitive: stored folded, so uniqueness is too.
UPDATE customers SET primary_domain = lower(primary_domain);

-- What search matches: the folded name and domain (folded in Rust on every write).
ALTER TABLE customers ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
UPDATE customers SET search_key = name_key || ' ' || primary_domain;

CREATE VIRTUAL TABLE customer_search USING fts5(
    search_key, tokenize = 'trigram', content = 'customers', content_rowid = 'id'
);
INSERT INTO customer_search (customer_search) VALUES ('rebuild');
CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (rowid, search_key) VALUES (new.id, new.search_key);
END;
CREATE TRIGGER customer_search_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_search (customer_search, rowid, search_key)
    VALUES ('delete', old.id, old.search_key);
END;
CREATE TRIGGER customer_search_update AFTER UPDATE OF search_key ON customers BEGIN
    INSERT INTO customer_search (customer_search, rowid, search_key)
    VALUES ('delete', old.id, old.search_key);
    INSERT INTO customer_search (rowid, search_key) VALUES (new.id, new.search_key);
END;

-- The list's order, for customers not deleted: pages seek it.
DROP INDEX customers_by_name;
CREATE INDEX customers_by_name ON customers (name_key, id) WHERE deleted_at IS NULL;
