-- Search and paging that stay fast at 100,000 customers (PostgreSQL). Keep in step with
-- ../sqlite/0006_customer_search.sql: the substring index differs (a named dialect difference,
-- see app/src/ssr/db.rs): here a trigram GIN index (pg_trgm, a trusted extension since 13).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Domains are case-insensitive: stored folded, so uniqueness is too.
UPDATE customers SET primary_domain = lower(primary_domain);

-- What search matches: the folded name and domain (folded in Rust on every write).
ALTER TABLE customers ADD COLUMN search_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE customers SET search_key = name_key || ' ' || primary_domain;
CREATE INDEX customers_search_trgm ON customers USING gin (search_key gin_trgm_ops);

-- The list's order, for customers not deleted: pages seek it.
DROP INDEX customers_by_name;
CREATE INDEX customers_by_name ON customers (name_key, id) WHERE deleted_at IS NULL;

-- Tenant ids are matched exactly or by prefix, in byte order.
CREATE INDEX tenants_by_id_bytes ON tenants (tenant_id COLLATE "C");
