//! The database: SQLite (a file, the embedded default) or PostgreSQL, chosen by the URL.
//!
//! Both run the same SQL through sqlx's `Any` driver with `$N` placeholders. What differs between
//! them is named here and nowhere else:
//! - the migration set (`migrations/sqlite`, `migrations/postgres`: identity columns, and `name_key`
//!   columns that PostgreSQL stores with the byte-order "C" collation so ordering matches SQLite);
//! - connection set-up (SQLite: WAL, foreign keys, busy timeout, file created if missing);
//! - how a test gets a fresh database ([`Db::connect_fresh_for_tests`]);
//! - claiming sync work: row locks that skip locked rows on PostgreSQL
//!   ([`Backend::row_lock_skipping_locked`]);
//! - the database's clock ([`Backend::now_millis_sql`]), which sync heartbeats use;
//! - customer search: a substring index (SQLite: an FTS5 trigram table kept by triggers;
//!   PostgreSQL: pg_trgm) behind [`Backend::substring_condition`], and byte-order comparisons
//!   for prefix ranges ([`Backend::byte_order`]);
//! - how a write transaction starts ([`Db::begin_write`]: `BEGIN IMMEDIATE` on SQLite, so it
//!   holds the write lock from its first statement and never fails to upgrade a read lock);
//! - the read behind the partner-wide consumption CSV: on SQLite the same statement runs through
//!   rusqlite on a blocking thread ([`crate::ssr::store::billed::partner_licences_sqlite`]), as
//!   sqlx hands every row from its worker thread to the task, which at a million lines costs
//!   three times SQLite's own work; PostgreSQL streams it through sqlx.
//!
//! Everything else (text case folding, timestamps as epoch milliseconds, booleans) is done so
//! that the two agree: folding happens in Rust before a value is stored, never with SQL `lower()`.

use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, Executor,
};
use std::{path::Path, time::Duration};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The default database: a SQLite file in the git-ignored `data/` folder.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/portal.db";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The clause that lets concurrent claimers lock disjoint rows: PostgreSQL's
    /// `FOR UPDATE SKIP LOCKED`. SQLite has one writer at a time and no such clause.
    pub fn row_lock_skipping_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The condition "the customer `c` has `term` in its folded name or domain", using the
    /// substring index of each backend (placeholder `$n`): SQLite's FTS5 trigram table, or
    /// PostgreSQL's pg_trgm GIN index. Bind [`Backend::substring_argument`]. For terms of 3
    /// characters or more (a trigram index finds nothing shorter).
    pub fn substring_condition(self, n: usize) -> String {
        match self {
            Backend::Sqlite => {
                format!(
                    "c.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH ${n})"
                )
            }
            // OFFSET 0 keeps the planner from walking the list order and filtering every row
            // (its plan for a LIMIT when it misjudges how rare a match is).
            Backend::Postgres => format!(
                "c.id IN (SELECT s.id FROM customers s WHERE s.search_key LIKE ${n} ESCAPE '\\' OFFSET 0)"
            ),
        }
    }

    /// The value bound to [`Backend::substring_condition`]: an FTS5 phrase (quotes doubled, so
    /// the text is matched literally), or a LIKE pattern with its wildcards escaped.
    pub fn substring_argument(self, term: &str) -> String {
        match self {
            Backend::Sqlite => format!("\"{}\"", term.replace('"', "\"\"")),
            Backend::Postgres => like_contains(term),
        }
    }

    /// The customers with `term` in their folded name or domain, as a FROM source named `c`
    /// (placeholder `$n`, bound to [`Backend::substring_argument`]): the matches are found in the
    /// substring index first and only they are sorted, never the whole table.
    pub fn substring_source(self, n: usize) -> String {
        match self {
            Backend::Sqlite => format!(
                "(SELECT * FROM customers WHERE id IN
                    (SELECT rowid FROM customer_search WHERE customer_search MATCH ${n})) c"
            ),
            Backend::Postgres => format!(
                "(SELECT * FROM customers WHERE search_key LIKE ${n} ESCAPE '\\' OFFSET 0) c"
            ),
        }
    }

    /// Ends a subquery so that PostgreSQL evaluates it on its own first (`OFFSET 0`), rather
    /// than folding it into a walk of the list order; nothing on SQLite.
    pub fn evaluate_first(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " OFFSET 0",
        }
    }

    /// What makes a text comparison use byte order (the order of SQLite's default collation and
    /// of the `"C"` indexes on PostgreSQL): nothing on SQLite.
    pub fn byte_order(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " COLLATE \"C\"",
        }
    }

    /// The database's clock in epoch milliseconds, as an SQL expression: heartbeats and their
    /// staleness are judged by one clock, not by each host's.
    pub fn now_millis_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite database's file (`None` on PostgreSQL or for an in-memory database).
    sqlite_file: Option<std::path::PathBuf>,
}

impl Db {
    /// Connects to the database at `url`. For SQLite the file (and its folder) is created if
    /// missing. Does not run migrations: see [`Db::migrate`].
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                let url = sqlite_url_creating_file(url)?;
                options
                    .max_connections(8)
                    // A SQLite connection is a file this process holds open: nothing outside can
                    // close it, so a ping before each use (a round trip to its worker thread) finds
                    // nothing.
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_file_of(url),
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            backend,
            sqlite_file,
        })
    }

    /// Brings the schema up to date (run at every start), and fills what a migration could not
    /// compute (customers' match keys, see `store::customers::fill_match_keys`).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        self.backend.migrator().run(&self.pool).await?;
        let mut conn = self.pool.acquire().await?;
        crate::ssr::store::customers::fill_match_keys(&mut conn)
            .await
            .map_err(sqlx::migrate::MigrateError::Execute)?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that may write. Every writing transaction starts here: on SQLite it is
    /// `BEGIN IMMEDIATE`, which takes the database's write lock at once, so a transaction that
    /// reads before it writes cannot fail with "database is locked" when it later writes while
    /// another connection holds the lock (a deferred transaction cannot upgrade its read lock).
    /// PostgreSQL's row locks need nothing special.
    ///
    /// The `BEGIN` runs in a task of its own, to its end even when the request that asked for it
    /// is cancelled (its client went away): cancelled half-way, sqlx would have sent the `BEGIN`
    /// but made no transaction to roll it back, and the connection would go back to the pool
    /// inside an open transaction. On SQLite that connection then holds the write lock for
    /// ever and every other write fails. Finished in its task, an unwanted transaction is
    /// dropped there, which rolls it back.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let pool = self.pool.clone();
        let backend = self.backend;
        tokio::spawn(async move {
            match backend {
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => pool.begin().await,
            }
        })
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite database's file, for a read outside sqlx (see the module's list).
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// A round trip to the database, for `/healthz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A new, empty, migrated database for one test: a temporary SQLite file, or a new database
    /// on the PostgreSQL server at `admin_url` (dropped by [`TestDb::drop_database`]).
    pub async fn connect_fresh_for_tests(
        backend: Backend,
        admin_url: &str,
        scratch_dir: &Path,
    ) -> Result<TestDb, sqlx::Error> {
        install_default_drivers();
        let unique = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
        let (url, admin) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}/{unique}.db", scratch_dir.display()),
                None,
            ),
            Backend::Postgres => {
                let admin = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(admin_url)
                    .await?;
                // The name is ours (a UUID), never user input.
                admin
                    .execute(format!("CREATE DATABASE {unique}").as_str())
                    .await?;
                let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
                (format!("{base}/{unique}"), Some(admin))
            }
        };
        let db = Db::connect(&url).await?;
        db.migrate()
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        Ok(TestDb {
            db,
            admin,
            name: unique,
        })
    }
}

/// A database made for one test.
pub struct TestDb {
    pub db: Db,
    admin: Option<AnyPool>,
    name: String,
}

impl TestDb {
    /// Its name on the PostgreSQL server; `None` for SQLite (a file).
    pub fn postgres_name(&self) -> Option<&str> {
        self.admin.as_ref().map(|_| self.name.as_str())
    }

    pub async fn drop_database(self) {
        self.db.close().await;
        if let Some(admin) = self.admin {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(err) = admin.execute(sql.as_str()).await {
                tracing::warn!(%err, database = %self.name, "could not drop test database");
            }
            admin.close().await;
        }
    }
}

/// Adds `mode=rwc` (create if missing) to a SQLite URL and creates the file's folder.
/// The file of a `sqlite:` URL (`None` for an in-memory database).
fn sqlite_file_of(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    (path != ":memory:" && !path.is_empty() && !url.contains("mode=memory"))
        .then(|| std::path::PathBuf::from(path))
}

fn sqlite_url_creating_file(url: &str) -> Result<String, sqlx::Error> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
            }
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// `$start, $start+1, …` for `count` values: the placeholders of an `IN (…)` list. Built from
/// numbers only; the values themselves are always bound.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` so user text matches literally in `LIKE … ESCAPE '\'`.
pub fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_the_url_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn sqlite_url_gets_create_mode_once() {
        let dir = std::env::temp_dir().join(format!("portal-url-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/a.db", dir.display());
        assert!(sqlite_url_creating_file(&url)
            .unwrap()
            .ends_with("a.db?mode=rwc"));
        assert!(dir.is_dir());
        let with_mode = format!("{url}?mode=ro");
        assert_eq!(sqlite_url_creating_file(&with_mode).unwrap(), with_mode);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A request cancelled while it opens a write transaction (its client went away) must not
    /// leave the transaction open on a pooled connection: SQLite would refuse every other
    /// writer from then on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_cancelled_while_it_begins_leaves_the_database_writable() {
        let dir = std::env::temp_dir().join(format!("portal-cancel-{}", uuid::Uuid::new_v4()));
        let db = Db::connect(&format!("sqlite://{}/c.db", dir.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(db.pool())
            .await
            .unwrap();
        for i in 0..400u64 {
            let db = db.clone();
            let wait = Duration::from_micros(i % 40 * 5);
            let _ = tokio::time::timeout(wait, async move {
                let mut tx = db.begin_write().await?;
                sqlx::query("INSERT INTO t (n) VALUES (1)")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            })
            .await;
        }
        // Every connection of the pool, each in its own write.
        for _ in 0..16 {
            let mut tx = tokio::time::timeout(Duration::from_secs(8), db.begin_write())
                .await
                .expect("a write transaction within 8 s")
                .expect("BEGIN IMMEDIATE");
            sqlx::query("INSERT INTO t (n) VALUES (2)")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_contains("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn placeholders_are_numbered_from_start() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 0), "");
    }
}
