//! `portal`: the command line of the customer settings portal.

use app::{
    model::Role,
    ssr::{auth, partner_center::PartnerCenterClient, service, store, AppState},
};
use clap::Parser;
use server::{
    config::{
        BilledCommand, Cli, Command, GlobalOptions, LinkOptions, ProviderCommand, ProviderOptions,
        ServeOptions, SimulatorArgs, TokenCommand, UserAddOptions, UserCommand,
    },
    demo, simulator,
    startup::{self, leptos_options, open_database, redact_url, shutdown_signal},
};
use std::{io::BufRead, process::ExitCode, time::Duration};
use tracing_subscriber::EnvFilter;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Server-side rendering allocates and frees many small strings and nodes across worker
/// threads; with glibc's allocator that was about 30% of a page's render time (perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fewest worker threads the server runs on, whatever the machine's core count: Leptos's
/// server rendering can leave a page's render waiting for good when its resources and the
/// render share a single worker (seen as one HTTP test in about six runs stalling on a
/// single-threaded runtime; none in 27 on two workers).
const MIN_WORKER_THREADS: usize = 2;

fn main() -> ExitCode {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.max(MIN_WORKER_THREADS))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("portal: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&cli.global.log).unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let result = match cli.command {
        None => serve(&cli.global, ServeOptions::default(), false).await,
        Some(Command::Serve(options)) => serve(&cli.global, options, false).await,
        Some(Command::Demo(options)) => serve(&cli.global, options, true).await,
        Some(Command::Migrate) => migrate(&cli.global).await,
        Some(Command::Purge) => purge_deleted(&cli.global).await,
        Some(Command::User(UserCommand::Add(options))) => add_user(&cli.global, options).await,
        Some(Command::User(UserCommand::Disable { email })) => {
            disable_user(&cli.global, &email).await
        }
        Some(Command::Token(TokenCommand::Add { name, scope, days })) => {
            add_token(&cli.global, &name, &scope, days).await
        }
        Some(Command::PcSim(args)) => run_simulator(args).await,
        Some(Command::Precompress { dir }) => precompress(&dir),
        Some(Command::Provider(ProviderCommand::Refresh(options))) => {
            refresh_provider_directory(&cli.global, options).await
        }
        Some(Command::Provider(ProviderCommand::Link(options))) => {
            link_tenants(&cli.global, options).await
        }
        Some(Command::Billed(BilledCommand::Import { file, dry_run })) => {
            import_billed(&cli.global, &file, dry_run).await
        }
        Some(Command::BenchSync(args)) => server::bench::run(args).await,
        Some(Command::BenchImport(args)) => server::bench_import::run(args).await,
        Some(Command::BenchLink(args)) => server::bench_link::run(args).await,
        Some(Command::BenchReports(args)) => server::bench_reports::run(args).await,
        Some(Command::BenchCsv(args)) => server::bench_csv::run(args).await,
        Some(Command::BenchSignIn(args)) => server::bench_sign_in::run(args).await,
        Some(Command::BenchCustomers(args)) => server::bench_customers::run(args).await,
        Some(Command::BenchAudit(args)) => server::bench_audit::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("portal: {err}");
            ExitCode::FAILURE
        }
    }
}

fn precompress(dir: &std::path::Path) -> Result<(), Error> {
    let files = server::assets::precompress(dir)
        .map_err(|err| format!("could not precompress {}: {err}", dir.display()))?;
    for (path, raw, br, gz) in files {
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        println!("{shown:<40} {raw:>10} bytes, brotli {br:>9}, gzip {gz:>9}");
    }
    Ok(())
}

async fn serve(
    global: &GlobalOptions,
    mut options: ServeOptions,
    demo_mode: bool,
) -> Result<(), Error> {
    let url = if demo_mode {
        global.database_url_or("sqlite://data/demo.db")
    } else {
        global.database_url()
    };
    let db = open_database(&url).await?;
    if demo_mode {
        // The demo serves plain HTTP on this machine; a Secure cookie would not be kept.
        options.cookie_secure = false;
    }
    options.partner_center.read_secret_file()?;
    let mut state = AppState::new(db, options.cookie_secure);
    state.session_idle_timeout_ms = i64::from(options.session_idle_minutes) * 60_000;
    state.allowed_origins = options.allowed_origins.clone();
    state.delete_retention_days = global.delete_retention_days;
    if demo_mode && options.gateway.payment_gateway.is_none() {
        // The demo's Stripe: the gateways' simulator on loopback, in test mode.
        options.gateway = demo::start_gateway_simulator().await?;
    }
    state.gateway = options.gateway.gateway()?;
    if let Some(gateway) = &state.gateway {
        use app::ssr::gateway::PaymentGateway;
        tracing::info!(
            gateway = gateway.name(),
            test_mode = gateway.test_mode(),
            "link to billing profile on"
        );
    }
    let purge = tokio::spawn(purge_sessions(state.clone()));
    let purge_customers = tokio::spawn(purge_deleted_daily(state.clone()));
    // The demo's own Partner Center: the simulator on loopback, with data matching the demo
    // customers' tenants.
    let mut simulator_task = None;
    if demo_mode {
        let added = demo::seed(&state)
            .await
            .map_err(|e| format!("cannot seed demo data: {e}"))?;
        tracing::info!(added, "demo data seeded");
        let (config, task) = demo::start_simulator(&state).await?;
        options.partner_center.client_id = Some(config.client_id.clone());
        options.partner_center.client_secret = Some(config.client_secret.clone());
        options.partner_center.api_url = config.api_url.clone();
        options.partner_center.token_url = config.token_url.clone();
        options.partner_center.refresh_token = config.refresh_token.clone();
        simulator_task = Some(task);
    }
    let (stop_worker, stop_rx) = tokio::sync::watch::channel(false);
    let mut worker = None;
    if let Some(config) = options.partner_center.client_config() {
        // One rate for every process on this database: Partner Center throttles the partner.
        let client = PartnerCenterClient::new(config)?.with_shared_budget(state.db.clone());
        tracing::info!(api = %client.config().api_url, "partner center reconciliation on");
        state.partner_center = Some(client.clone());
        if demo_mode {
            // The demo's directory is taken at start, so /provider lists the simulator's tenants.
            match service::provider::refresh(
                &state.db,
                &client,
                service::provider::Actor::System("demo start-up"),
            )
            .await
            {
                Ok(counts) => {
                    tracing::info!(listed = counts.listed, "demo provider directory taken")
                }
                Err(e) => tracing::warn!(error = %e, "demo provider directory not taken"),
            }
        }
        let health = std::sync::Arc::new(service::sync::WorkerHealth::default());
        state.sync_worker = Some(health.clone());
        worker = Some(tokio::spawn(service::sync::run_worker(
            state.db.clone(),
            client,
            state.sync_wakeup.clone(),
            stop_rx,
            options.partner_center.sync_concurrency.max(1),
            health,
        )));
    } else {
        tracing::warn!("no Partner Center credentials: reconciliation is off");
    }
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
    let addr = listener.local_addr()?;
    let gate =
        server::gate::GateState::with_sign_in_limit(state.clone(), options.sign_in_per_minute);
    let forget = tokio::spawn({
        let gate = gate.clone();
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                gate.forget_idle_addresses();
            }
        }
    });
    let router = startup::router_with(gate, leptos_options(&options.site_root, addr));
    tracing::info!(%addr, database = %redact_url(&url), "serving");
    if demo_mode {
        println!("\nThe portal demo is running at http://{addr}/  (Ctrl-C to stop)\n");
        println!("Sign in as one of:");
        for (email, password, role) in demo::DEMO_STAFF {
            println!("  {email:<22} password {password:<15} ({})", role.label());
        }
        let (tag, value) = demo::HELPDESK_SCOPE;
        println!("The Help Desk user sees the customers tagged {tag}={value}.\n");
    }
    startup::serve(listener, router, shutdown_signal()).await?;
    let _ = stop_worker.send(true);
    if let Some(worker) = worker {
        if let Err(e) = worker.await {
            tracing::error!(error = %e, "sync worker panicked");
        }
    }
    if let Some(task) = simulator_task {
        task.abort();
    }
    purge.abort();
    purge_customers.abort();
    forget.abort();
    state.db.close().await;
    Ok(())
}

async fn run_simulator(args: SimulatorArgs) -> Result<(), Error> {
    let text = std::fs::read_to_string(&args.data)
        .map_err(|e| format!("cannot read {}: {e}", args.data.display()))?;
    let data: simulator::SimulatorData = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not simulator data: {e}", args.data.display()))?;
    let options = simulator::SimulatorOptions {
        client_id: args.client_id,
        client_secret: args.client_secret,
        refresh_token: args.refresh_token,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        rate_limit: args.rate_limit,
        rate_window: Duration::from_secs(args.rate_window.max(1)),
        latency: Duration::from_millis(args.latency_ms),
        error_share: args.error_share,
        malformed_share: args.malformed_share,
        hang_share: args.hang_share,
        seed: args.seed,
        ..Default::default()
    };
    let gateways: server::gateway_sim::GatewayData = match &args.gateway_data {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{} is not gateway data: {e}", file.display()))?
        }
        None => server::gateway_sim::GatewayData::demo(),
    };
    let customers = data.customers.len();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, customers, "partner center simulator serving");
    println!("Partner Center simulator at http://{addr}/v1 (token: http://{addr}/<tenant>/oauth2/token), {customers} customers");
    println!("Payment gateways at http://{addr}/stripe (STRIPE_API_URL) and http://{addr}/authorize-net/xml/v1/request.api (AUTHORIZE_NET_API_URL)");
    let router = simulator::router(simulator::Simulator::new(data, options)).merge(
        server::gateway_sim::router(server::gateway_sim::GatewaySimulator::new(gateways)),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Deletes expired and idle sessions (and old sign-in failures) every ten minutes.
async fn purge_sessions(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match auth::purge_sessions(&state).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sessions purged"),
            Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
        }
    }
}

/// Purges the customers whose retention has ended, at start and then once a day.
async fn purge_deleted_daily(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    loop {
        every.tick().await;
        let now = app::ssr::db::now_millis();
        match service::deletion::purge(&state.db, state.delete_retention_days, now).await {
            Ok(purged) if purged.is_empty() => {}
            Ok(purged) => tracing::info!(purged = purged.len(), "deleted customers purged"),
            Err(e) => tracing::warn!(error = %e, "could not purge deleted customers"),
        }
    }
}

/// `portal purge`: removes for good the customers deleted more than the retention period ago.
async fn purge_deleted(global: &GlobalOptions) -> Result<(), Error> {
    let db = open_database(&global.database_url()).await?;
    let purged = service::deletion::purge(
        &db,
        global.delete_retention_days,
        app::ssr::db::now_millis(),
    )
    .await
    .map_err(|e| e.to_string());
    db.close().await;
    let purged = purged?;
    for (id, name) in &purged {
        println!("purged customer {id} ({name})");
    }
    println!(
        "{} deleted more than {} days ago purged.",
        app::model::count_of(purged.len(), "customer", "customers"),
        global.delete_retention_days
    );
    Ok(())
}

async fn add_token(
    global: &GlobalOptions,
    name: &str,
    scope: &str,
    days: Option<u32>,
) -> Result<(), Error> {
    let db = open_database(&global.database_url()).await?;
    // The command line acts as no staff member: the audit names it.
    let cli = app::model::StaffView {
        id: 0,
        email: "command line".into(),
        display_name: "command line".into(),
        role: app::model::Role::Admin,
    };
    let days = days.map(|d| d.to_string()).unwrap_or_default();
    let created = app::ssr::service::api_tokens::create(&db, &cli, name, scope, &days)
        .await
        .map_err(|e| match e {
            app::error::AppError::Validation { fields } => fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        })?;
    db.close().await;
    println!("{}", created.token);
    Ok(())
}

async fn disable_user(global: &GlobalOptions, email: &str) -> Result<(), Error> {
    let db = open_database(&global.database_url()).await?;
    let state = AppState::new(db, true);
    let found = auth::disable_staff(&state, email)
        .await
        .map_err(|e| e.to_string())?;
    state.db.close().await;
    if !found {
        return Err(format!("no user with e-mail {}", email.trim().to_lowercase()).into());
    }
    println!(
        "Disabled {}; their sessions have ended.",
        email.trim().to_lowercase()
    );
    Ok(())
}

async fn refresh_provider_directory(
    global: &GlobalOptions,
    mut options: ProviderOptions,
) -> Result<(), Error> {
    options.partner_center.read_secret_file()?;
    let config = options.partner_center.client_config().ok_or(
        "Partner Center is not configured: set PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET",
    )?;
    let db = open_database(&global.database_url()).await?;
    let client = PartnerCenterClient::new(config)?.with_shared_budget(db.clone());
    let counts = service::provider::refresh(
        &db,
        &client,
        service::provider::Actor::System("command line"),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "The provider directory lists {} tenants: {} new, {} renamed, {} gone, {} back.",
        counts.listed, counts.added, counts.renamed, counts.gone, counts.returned
    );
    db.close().await;
    Ok(())
}

async fn link_tenants(global: &GlobalOptions, mut options: LinkOptions) -> Result<(), Error> {
    use service::provider::{Actor, LinkTarget, Selection};
    options.partner_center.read_secret_file()?;
    // Linked customers are queued for sync when this installation reads Partner Center (a
    // running server's workers take the jobs).
    let queue = options.partner_center.client_config().is_some();
    let wakeup = tokio::sync::Notify::new();
    let sync = queue.then_some(&wakeup);
    let db = open_database(&global.database_url()).await?;
    let actor = Actor::System("command line");
    let result = if options.accept_suggestions {
        let outcome = service::provider::accept_suggestions(
            &db,
            actor,
            &Selection::AllUnlinkedMatching {
                search: String::new(),
                expected: None,
            },
            sync,
            options.dry_run,
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut conn = db.pool().acquire().await?;
        for (tenant, customer_id) in &outcome.linked {
            let name = store::customers::find(&mut conn, *customer_id)
                .await?
                .map(|c| c.1)
                .unwrap_or_default();
            println!("{tenant} -> {name} (customer {customer_id})");
        }
        println!(
            "{} {} tenants to their suggested customers; {} left (no clear suggestion).",
            if options.dry_run {
                "Would link"
            } else {
                "Linked"
            },
            outcome.linked.len(),
            outcome.left
        );
        Ok(())
    } else {
        let (selection, target) = match (&options.tenant, options.customer) {
            (Some(tenant), Some(customer)) => (
                Selection::Tenants(vec![tenant.clone()]),
                LinkTarget::Existing(customer),
            ),
            (Some(tenant), None) => {
                let target = match (&options.name, &options.domain) {
                    (None, None) => LinkTarget::NewEach,
                    (name, domain) => {
                        let mut conn = db.pool().acquire().await?;
                        let id = app::model::parse_tenant_id(tenant)?;
                        let row = store::provider::find_many(&mut conn, &[id])
                            .await?
                            .pop()
                            .ok_or("the tenant is not in the provider directory: run `portal provider refresh` first")?;
                        LinkTarget::New {
                            name: name.clone().unwrap_or(row.company_name),
                            domain: domain.clone().unwrap_or(row.domain),
                        }
                    }
                };
                (Selection::Tenants(vec![tenant.clone()]), target)
            }
            (None, _) => (
                Selection::AllUnlinkedMatching {
                    search: String::new(),
                    expected: None,
                },
                LinkTarget::NewEach,
            ),
        };
        service::provider::link(&db, actor, &selection, &target, sync)
            .await
            .map(|outcome| {
                println!(
                    "Linked {} tenants; {} customers created{}.",
                    outcome.linked.len(),
                    outcome.created.len(),
                    if outcome.sync_queued {
                        "; their sync is queued"
                    } else {
                        ""
                    }
                );
            })
            .map_err(|e| match e {
                app::error::AppError::Validation { fields } => fields
                    .into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            })
    };
    db.close().await;
    result.map_err(Into::into)
}

async fn import_billed(
    global: &GlobalOptions,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<(), Error> {
    use service::billed_import::{import, read, LineAction};
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let lines =
        read(&bytes).map_err(|e| format!("{}: {e}; nothing was imported", file.display()))?;
    let db = open_database(&global.database_url()).await?;
    let plan = import(
        &db,
        service::provider::Actor::System("command line"),
        &lines,
        dry_run,
    )
    .await
    .map_err(|e| e.to_string())?;
    db.close().await;
    for (line, customer, action) in &plan.lines {
        let customer = customer.map_or_else(|| "-".to_owned(), |c| format!("customer {c}"));
        match action {
            LineAction::Create => println!("line {line}: {customer}: new billed row"),
            LineAction::Change { id, changes } if changes.is_empty() => {
                println!("line {line}: {customer}: billed row {id} unchanged")
            }
            LineAction::Change { id, changes } => println!(
                "line {line}: {customer}: billed row {id}: {} changed",
                changes.join(", ")
            ),
            LineAction::Reject(why) => println!("line {line}: {customer}: rejected: {why}"),
        }
    }
    for (customer, id, product) in &plan.ended {
        println!("customer {customer}: billed row {id} ({product}) ended: no line names it");
    }
    let summary = format!(
        "{} lines: {} new, {} changed, {} rejected; {} rows ended",
        plan.lines.len(),
        plan.created(),
        plan.changed(),
        plan.rejected(),
        plan.ended.len()
    );
    if plan.rejected() > 0 {
        return Err(format!("{summary}. Nothing was imported: correct the rejected lines.").into());
    }
    if dry_run {
        println!("{summary}. A dry run: nothing was written.");
    } else {
        println!("{summary}. Imported.");
    }
    Ok(())
}

async fn migrate(global: &GlobalOptions) -> Result<(), Error> {
    let url = global.database_url();
    open_database(&url).await?.close().await;
    println!("The database at {} is up to date.", redact_url(&url));
    Ok(())
}

async fn add_user(global: &GlobalOptions, options: UserAddOptions) -> Result<(), Error> {
    let email =
        app::model::text::identifier(&options.email.trim().to_lowercase(), "e-mail address")
            .map_err(|e| format!("--email: {e}"))?;
    if !email.contains('@') || email.chars().any(char::is_whitespace) {
        return Err(format!("--email {email:?} is not an e-mail address").into());
    }
    let mut scopes = Vec::new();
    for scope in &options.scopes {
        let (name, value) = scope
            .split_once('=')
            .ok_or_else(|| format!("--scope {scope:?} must be NAME=VALUE"))?;
        let name = app::model::TagName::parse(name).map_err(|e| format!("--scope: {e}"))?;
        let value = app::model::TagValue::parse(value).map_err(|e| format!("--scope: {e}"))?;
        scopes.push((name, value));
    }
    if options.role == Role::Helpdesk && scopes.is_empty() {
        return Err("a helpdesk user needs at least one --scope NAME=VALUE (the tag pair of the customers they see)".into());
    }
    let (password, generated) = if options.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        use rand::{distributions::Alphanumeric, Rng};
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(20)
            .map(char::from)
            .collect();
        (password, true)
    };
    // The same rules as the staff page and My account (length, the common-password list).
    app::model::check_new_password(&password, &email).map_err(|e| format!("the password: {e}"))?;

    let db = open_database(&global.database_url()).await?;
    let state = AppState::new(db, true);
    if store::staff::find_by_email(&mut *state.db.pool().acquire().await?, &email)
        .await?
        .is_some()
    {
        return Err(format!("a user with e-mail {email} already exists").into());
    }
    let name = options.name.clone().unwrap_or_else(|| email.clone());
    let id = auth::create_staff(&state, &email, &name, options.role, password.clone())
        .await
        .map_err(|e| e.to_string())?;
    for (tag, value) in &scopes {
        store::staff::add_tag_scope(
            &mut *state.db.pool().acquire().await?,
            id,
            &store::fold(tag.as_str()),
            value.as_str(),
        )
        .await?;
    }
    println!("Added {email} ({}).", options.role.label());
    if generated {
        println!("Password (shown once): {password}");
    }
    state.db.close().await;
    Ok(())
}
