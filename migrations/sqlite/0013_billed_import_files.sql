-- A billing system's export uploaded in the browser to import into the billed record: kept so
-- its dry run can be shown and then applied, all or nothing, as a second step. `content` is the
-- file as text (UTF-8, byte order mark removed); a file that cannot be read as the import's CSV
-- keeps no content and says why in `error`. Kept after it is applied (what was imported, by
-- whom, when). The same in both dialects but for the identity column.
CREATE TABLE billed_import_files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id        BIGINT NOT NULL REFERENCES staff (id),
    file_name       TEXT NOT NULL,
    content         TEXT,
    error           TEXT,
    uploaded_at     BIGINT NOT NULL,
    applied_at      BIGINT,
    applied_by      TEXT,
    applied_summary TEXT
);
