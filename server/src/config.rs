//! Typed configuration from flags and environment variables.

use app::ssr::{
    db::DEFAULT_DATABASE_URL,
    partner_center::{
        client::{DEFAULT_API_URL, DEFAULT_TOKEN_URL},
        PartnerCenterConfig, Secret,
    },
};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

/// Customer settings for Microsoft CSP partners: the portal server.
///
/// Every option can also be given by the environment variable shown.
#[derive(Debug, Parser)]
#[command(name = "portal", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// Database URL: `sqlite://path/file.db` (the default, data/portal.db; data/demo.db for
    /// `demo`) or `postgres://user@host:port/database`.
    /// (Its value is never shown in --help: it may hold a password.)
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Log filter, e.g. `info` or `portal=debug,sqlx=warn`.
    #[arg(long, env = "PORTAL_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Days a deleted customer can be restored; then `purge` (and the server, daily) removes it
    /// for good.
    #[arg(
        long,
        env = "PORTAL_DELETE_RETENTION_DAYS",
        default_value_t = 30,
        global = true,
        value_parser = clap::value_parser!(i64).range(0..=3650)
    )]
    pub delete_retention_days: i64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (the default command).
    Serve(ServeOptions),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Remove for good the customers deleted more than the retention period ago (the server
    /// also does it daily), then exit.
    Purge,
    /// Manage staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for other systems (the JSON API).
    #[command(subcommand)]
    Token(TokenCommand),
    /// The provider directory: the partner's customer tenants as Partner Center lists them.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// The billed record: what the partner bills its customers.
    #[command(subcommand)]
    Billed(BilledCommand),
    /// Serve with demo data: seeds customers and one user per role (idempotent), on plain HTTP.
    Demo(ServeOptions),
    /// Run the Partner Center simulator: the same API as Microsoft's, from a data file.
    PcSim(SimulatorArgs),
    /// Write brotli (`.br`) and gzip (`.gz`) copies of the compressible files under a folder
    /// (the build runs it on the site root; the server sends them by Accept-Encoding).
    Precompress {
        /// The folder, e.g. target/site.
        dir: std::path::PathBuf,
    },
    /// Benchmark "reload all customers" against the simulator and print the figures.
    BenchSync(crate::bench::BenchArgs),
    /// Benchmark the customer list and its search at scale, on SQLite or PostgreSQL.
    BenchCustomers(crate::bench_customers::BenchCustomersArgs),
    /// Benchmark the audit log page at 1,000,000 entries: first page and page 1,000.
    BenchAudit(crate::bench_audit::BenchAuditArgs),
    /// Benchmark importing a billing export: reading, dry run, import, a second import.
    BenchImport(crate::bench_import::BenchImportArgs),
    /// Benchmark the partner-wide License Consumption CSV: memory and throughput against sqlite3.
    BenchCsv(crate::bench_csv::BenchCsvArgs),
    /// Benchmark the partner-wide License Reconciliation over many customers.
    BenchReports(crate::bench_reports::BenchReportsArgs),
    /// Benchmark Link to Provider at scale: directory refresh, suggestions, /provider, Link Multiple.
    BenchLink(crate::bench_link::BenchLinkArgs),
    /// Benchmark a flood of concurrent sign-ins: answers, health during it, peak memory.
    BenchSignIn(crate::bench_sign_in::BenchSignInArgs),
}

/// `portal pc-sim`: where the data is, where to listen, and which faults to inject.
#[derive(Debug, Clone, Args)]
pub struct SimulatorArgs {
    /// The data file (JSON; its format is in the README).
    #[arg(long)]
    pub data: std::path::PathBuf,
    /// The payment gateways' data file (Stripe customers and keys, Authorize.Net profiles and
    /// credentials, as JSON); without it, the demo's. Served under /stripe and /authorize-net.
    #[arg(long)]
    pub gateway_data: Option<std::path::PathBuf>,
    /// Address to listen on (keep it on loopback).
    #[arg(long, default_value = "127.0.0.1:3900")]
    pub addr: SocketAddr,
    /// The client id the token endpoint accepts.
    #[arg(long, default_value = "simulator")]
    pub client_id: String,
    /// The client secret the token endpoint accepts.
    #[arg(
        long,
        env = "PC_SIM_CLIENT_SECRET",
        default_value = "simulator-secret",
        hide_env_values = true
    )]
    pub client_secret: String,
    /// The refresh token (Secure Application Model) its token endpoint accepts for App+User.
    #[arg(
        long,
        env = "PC_SIM_REFRESH_TOKEN",
        default_value = "simulator-refresh-token",
        hide_env_values = true
    )]
    pub refresh_token: String,
    /// Lifetime of the tokens it issues, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
    /// Answer 429 with Retry-After past this many API requests per window.
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// The rate limit's window, in seconds.
    #[arg(long, default_value_t = 60)]
    pub rate_window: u64,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of API requests answered 500 (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub error_share: f64,
    /// Share of API requests answered with a malformed body (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub malformed_share: f64,
    /// Share of API requests that hang without an answer (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub hang_share: f64,
    /// Seed of the fault draws: the same seed repeats the same faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a share from 0 to 1")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeOptions {
    /// Address to listen on.
    #[arg(long, env = "PORTAL_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Mark the session cookie `Secure` (sent over HTTPS only). Turn off only when the portal is
    /// served over plain HTTP, as on a developer's machine; `demo` always turns it off.
    #[arg(long, env = "PORTAL_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,

    /// Folder with the built browser assets (`pkg/`), as cargo-leptos writes them.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Minutes of inactivity after which a session ends (besides its 12-hour lifetime).
    #[arg(long, env = "PORTAL_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_idle_minutes: u32,

    /// Origins besides the request's own host allowed to post to /api/ (the public address
    /// when a proxy rewrites Host), e.g. https://portal.example; comma-separated.
    #[arg(
        long = "allowed-origin",
        env = "PORTAL_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Sign-in attempts one client address may make per minute (a burst of as many).
    #[arg(long, env = "PORTAL_SIGN_IN_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_in_per_minute: u32,

    #[command(flatten)]
    pub partner_center: PartnerCenterOptions,

    #[command(flatten)]
    pub gateway: GatewayOptions,
}

/// The payment gateway of Link to Billing Profile. Without one the section does not exist.
#[derive(Debug, Clone, Args, Default)]
pub struct GatewayOptions {
    /// `stripe` or `authorize_net`.
    #[arg(long, env = "PAYMENT_GATEWAY", value_parser = ["stripe", "authorize_net"])]
    pub payment_gateway: Option<String>,
    /// Stripe's secret key (never logged; `sk_test_` for test mode).
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true, value_parser = secret)]
    pub stripe_secret_key: Option<Secret>,
    /// Stripe's API root (without /v1).
    #[arg(long, env = "STRIPE_API_URL", default_value = "https://api.stripe.com")]
    pub stripe_api_url: String,
    /// Authorize.Net's API login id.
    #[arg(long, env = "AUTHORIZE_NET_LOGIN_ID")]
    pub authorize_net_login_id: Option<String>,
    /// Authorize.Net's transaction key (never logged).
    #[arg(long, env = "AUTHORIZE_NET_TRANSACTION_KEY", hide_env_values = true, value_parser = secret)]
    pub authorize_net_transaction_key: Option<Secret>,
    /// Authorize.Net's JSON endpoint (the sandbox's, at apitest.authorize.net, is test mode).
    #[arg(
        long,
        env = "AUTHORIZE_NET_API_URL",
        default_value = "https://api.authorize.net/xml/v1/request.api"
    )]
    pub authorize_net_api_url: String,
}

impl GatewayOptions {
    /// The configured gateway; an error names what is missing.
    pub fn gateway(&self) -> Result<Option<app::ssr::gateway::Gateway>, String> {
        use app::ssr::gateway::{AuthorizeNetClient, Gateway, StripeClient, LOOKUP_TIMEOUT};
        match self.payment_gateway.as_deref() {
            None => Ok(None),
            Some("stripe") => {
                let key = self
                    .stripe_secret_key
                    .clone()
                    .ok_or("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY")?;
                StripeClient::new(&self.stripe_api_url, key, LOOKUP_TIMEOUT)
                    .map(|c| Some(Gateway::Stripe(c)))
                    .map_err(|e| e.to_string())
            }
            Some("authorize_net") => {
                let login = self
                    .authorize_net_login_id
                    .clone()
                    .ok_or("PAYMENT_GATEWAY=authorize_net needs AUTHORIZE_NET_LOGIN_ID")?;
                let key = self
                    .authorize_net_transaction_key
                    .clone()
                    .ok_or("PAYMENT_GATEWAY=authorize_net needs AUTHORIZE_NET_TRANSACTION_KEY")?;
                AuthorizeNetClient::new(&self.authorize_net_api_url, &login, key, LOOKUP_TIMEOUT)
                    .map(|c| Some(Gateway::AuthorizeNet(c)))
                    .map_err(|e| e.to_string())
            }
            Some(other) => Err(format!("{other:?} is not a supported payment gateway")),
        }
    }
}

/// How to reach Partner Center. Without a client id and secret, reconciliation is off.
#[derive(Debug, Clone, Args)]
pub struct PartnerCenterOptions {
    /// The Partner Center API root (without /v1).
    #[arg(long = "pc-api-url", env = "PARTNER_CENTER_API_URL", default_value = DEFAULT_API_URL)]
    pub api_url: String,
    /// The token endpoint (Azure AD, with the partner's tenant).
    #[arg(long = "pc-token-url", env = "PARTNER_CENTER_TOKEN_URL", default_value = DEFAULT_TOKEN_URL)]
    pub token_url: String,
    /// The app's client id.
    #[arg(long = "pc-client-id", env = "PARTNER_CENTER_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The app's client secret (never logged). Prefer --pc-client-secret-file: a command
    /// line is visible to every user of the machine.
    #[arg(long = "pc-client-secret", env = "PARTNER_CENTER_CLIENT_SECRET", hide_env_values = true, value_parser = secret)]
    pub client_secret: Option<Secret>,
    /// A file holding the app's client secret (its first line).
    #[arg(
        long = "pc-client-secret-file",
        env = "PARTNER_CENTER_CLIENT_SECRET_FILE",
        conflicts_with = "client_secret"
    )]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// The Secure Application Model's refresh token (App+User), for licence counts (never
    /// logged). Without it, a sync records them as "needs delegated consent".
    #[arg(long = "pc-refresh-token", env = "PARTNER_CENTER_REFRESH_TOKEN", hide_env_values = true, value_parser = secret)]
    pub refresh_token: Option<Secret>,
    /// Requests per minute to Partner Center, shared by every process on the database that uses
    /// the same client id (one budget, kept in the database).
    #[arg(
        long = "pc-rate-per-minute",
        env = "PARTNER_CENTER_RATE_PER_MINUTE",
        default_value_t = 500
    )]
    pub rate_per_minute: u32,
    /// Customers synced at the same time by this process.
    #[arg(long, env = "PORTAL_SYNC_CONCURRENCY", default_value_t = 8)]
    pub sync_concurrency: usize,
}

fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

impl Default for PartnerCenterOptions {
    fn default() -> Self {
        PartnerCenterOptions {
            api_url: DEFAULT_API_URL.into(),
            token_url: DEFAULT_TOKEN_URL.into(),
            client_id: None,
            client_secret: None,
            client_secret_file: None,
            refresh_token: None,
            rate_per_minute: 500,
            sync_concurrency: 8,
        }
    }
}

impl PartnerCenterOptions {
    /// Reads the secret from `--pc-client-secret-file`, when given.
    pub fn read_secret_file(&mut self) -> Result<(), String> {
        let Some(path) = &self.client_secret_file else {
            return Ok(());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the client secret file {}: {e}", path.display()))?;
        let line = text.lines().next().unwrap_or_default().trim();
        if line.is_empty() {
            return Err(format!(
                "the client secret file {} is empty",
                path.display()
            ));
        }
        self.client_secret = Some(Secret::new(line));
        Ok(())
    }

    /// The client configuration, when credentials are given.
    pub fn client_config(&self) -> Option<PartnerCenterConfig> {
        let (id, secret) = (self.client_id.as_ref()?, self.client_secret.clone()?);
        let mut config = PartnerCenterConfig::new(&self.api_url, &self.token_url, id, secret);
        config.rate_per_minute = self.rate_per_minute.max(1);
        config.refresh_token = self.refresh_token.clone();
        Some(config)
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: ([127, 0, 0, 1], 3000).into(),
            cookie_secure: true,
            site_root: "target/site".into(),
            session_idle_minutes: 30,
            allowed_origins: Vec::new(),
            sign_in_per_minute: 10,
            partner_center: PartnerCenterOptions::default(),
            gateway: GatewayOptions {
                stripe_api_url: "https://api.stripe.com".into(),
                authorize_net_api_url: "https://api.authorize.net/xml/v1/request.api".into(),
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BilledCommand {
    /// Import a billing system's CSV export: each customer it names gets the billed record the
    /// file gives (lines matched to rows by subscription id, offer id, then product; rows no line
    /// matches are ended); customers it does not name are untouched. All or nothing: with any
    /// line rejected nothing is written. Prints what each line does. Audited as the command line.
    Import {
        /// The CSV file (UTF-8; columns in the README).
        file: std::path::PathBuf,
        /// Say what the import would do, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// List every customer tenant in Partner Center (all pages) and update the directory: new
    /// tenants added, changed names updated, tenants no longer listed marked gone (never
    /// deleted). Audited as the command line. On failure the last directory stays.
    Refresh(ProviderOptions),
    /// Link directory tenants to customers, with the same rules as the /provider page, all or
    /// nothing, audited as the command line. One of: `--tenant GUID --customer ID`, `--tenant
    /// GUID --new [--name N --domain D]`, `--all-unlinked --as-new`, `--accept-suggestions
    /// [--dry-run]`. With Partner Center configured, each customer linked is queued for sync.
    Link(LinkOptions),
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["tenant", "all_unlinked", "accept_suggestions"])))]
pub struct LinkOptions {
    /// The tenant to link (its GUID).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Link the tenant to this existing customer (its portal id).
    #[arg(long, requires = "tenant", conflicts_with = "new")]
    pub customer: Option<i64>,
    /// Link the tenant to a new customer (named from its company profile unless --name/--domain).
    #[arg(long, requires = "tenant")]
    pub new: bool,
    /// The new customer's name.
    #[arg(long, requires = "new")]
    pub name: Option<String>,
    /// The new customer's primary domain.
    #[arg(long, requires = "new")]
    pub domain: Option<String>,
    /// Every unlinked tenant of the directory...
    #[arg(long, requires = "as_new")]
    pub all_unlinked: bool,
    /// ...as one new customer each.
    #[arg(long, requires = "all_unlinked")]
    pub as_new: bool,
    /// Link every unlinked tenant that has one clear suggested customer to it.
    #[arg(long)]
    pub accept_suggestions: bool,
    /// With --accept-suggestions: print what would be linked, link nothing.
    #[arg(long, requires = "accept_suggestions")]
    pub dry_run: bool,
    #[command(flatten)]
    pub partner_center: PartnerCenterOptions,
}

#[derive(Debug, Clone, Args)]
pub struct ProviderOptions {
    #[command(flatten)]
    pub partner_center: PartnerCenterOptions,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (once; only its hash is kept).
    Add {
        /// What it is for, such as ConnectWise.
        #[arg(long)]
        name: String,
        /// read, or billed_write (read and billed-record imports).
        #[arg(long, default_value = "read")]
        scope: String,
        /// Days it lasts (1 to 366); without, until revoked.
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff user.
    Add(UserAddOptions),
    /// Disable a staff user: they can no longer sign in, and their sessions end at once.
    Disable {
        /// The user's e-mail address.
        email: String,
    },
}

#[derive(Debug, Args)]
pub struct UserAddOptions {
    /// The user's e-mail address (their sign-in name).
    #[arg(long)]
    pub email: String,
    /// admin, reader, finance or helpdesk.
    #[arg(long)]
    pub role: app::model::Role,
    /// The name shown in the portal (default: the e-mail address).
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from standard input (one line). Without it, a random password is
    /// generated and printed once.
    #[arg(long)]
    pub password_stdin: bool,
    /// For helpdesk users: a tag pair NAME=VALUE whose customers they see (repeatable).
    #[arg(long = "scope", value_name = "NAME=VALUE")]
    pub scopes: Vec<String>,
}

impl GlobalOptions {
    pub fn database_url_or(&self, default: &str) -> String {
        self.database_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    pub fn database_url(&self) -> String {
        self.database_url_or(DEFAULT_DATABASE_URL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_flags_parse() {
        let cli = Cli::try_parse_from(["portal"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from([
            "portal",
            "serve",
            "--addr",
            "0.0.0.0:8080",
            "--cookie-secure",
            "false",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Serve(o)) => {
                assert_eq!(o.addr.port(), 8080);
                assert!(!o.cookie_secure);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn simulator_shares_must_lie_between_0_and_1() {
        let ok = Cli::try_parse_from([
            "portal",
            "pc-sim",
            "--data",
            "d.json",
            "--error-share",
            "0.1",
        ]);
        assert!(ok.is_ok());
        let err = Cli::try_parse_from([
            "portal",
            "pc-sim",
            "--data",
            "d.json",
            "--hang-share",
            "1.5",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("not a share"), "{err}");
    }

    #[test]
    fn help_never_shows_the_database_url() {
        // No other test of this process looks at the database URL.
        std::env::set_var("DATABASE_URL", "postgres://portal:hunter2-db@db/portal");
        let mut cli = Cli::command();
        let top = cli.render_long_help().to_string();
        let serve = cli
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        std::env::remove_var("DATABASE_URL");
        for help in [top, serve] {
            assert!(help.contains("DATABASE_URL"), "{help}");
            assert!(!help.contains("hunter2"), "{help}");
        }
    }

    #[test]
    fn the_client_secret_is_read_from_its_file() {
        let path = std::env::temp_dir().join(format!("pc-secret-{}", std::process::id()));
        std::fs::write(&path, "s3cret-from-file\n").unwrap();
        let cli = Cli::try_parse_from([
            "portal",
            "serve",
            "--pc-client-id",
            "id",
            "--pc-client-secret-file",
            path.to_str().unwrap(),
        ])
        .unwrap();
        let Some(Command::Serve(mut options)) = cli.command else {
            panic!("serve expected")
        };
        options.partner_center.read_secret_file().unwrap();
        std::fs::remove_file(&path).unwrap();
        let config = options.partner_center.client_config().unwrap();
        assert_eq!(config.client_secret.expose(), "s3cret-from-file");
        assert!(Cli::try_parse_from([
            "portal",
            "serve",
            "--pc-client-secret",
            "x",
            "--pc-client-secret-file",
            "f"
        ])
        .is_err());
    }

    #[test]
    fn user_add_rejects_an_unknown_role() {
        let err = Cli::try_parse_from([
            "portal", "user", "add", "--email", "a@b.c", "--role", "root",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("unknown role"), "{err}");
    }
}
