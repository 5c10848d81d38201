//! The `guildhall` command: serve (default), migrate, print the OpenAPI document, rotate keys,
//! bootstrap an instance admin, run a plugin once.

mod cli_plugin;

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Parser, Subcommand};
use guildhall_server::{
    app::{self, RunningServer},
    clock::{SharedClock, SystemClock},
    config::{Config, LogFormat, Overrides},
    db,
    http::RequestMeta,
    scope::Origin,
    users::service::Bootstrap,
};

/// glibc's allocator spends a tenth of a busy server's time in its arena locks and
/// consolidation; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "guildhall", version, about = "A standards-first, multi-tenant identity server")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone, Default)]
struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, env = "GUILDHALL_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory: SQLite database, master key, mail spool (default ./data).
    #[arg(long, env = "GUILDHALL_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Listen address (default 127.0.0.1:8080).
    #[arg(long, env = "GUILDHALL_BIND", global = true)]
    bind: Option<String>,
    /// Database URL: sqlite://... or postgres://... (default SQLite in the data directory).
    #[arg(long, env = "GUILDHALL_DATABASE_URL", global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Instance administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// WebAssembly plugins.
    Plugin {
        #[command(subcommand)]
        command: cli_plugin::PluginCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new active signing key; the old public key stays published until its tokens expire.
    Rotate,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an instance admin (or promote an existing user). Without --password a random
    /// password is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        /// The password; prefer GUILDHALL_ADMIN_PASSWORD to keep it out of shell history.
        #[arg(long, env = "GUILDHALL_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let overrides = Overrides {
        data_dir: global.data_dir.clone(),
        bind: global.bind.clone(),
        database_url: global.database_url.clone(),
    };
    let (config, warnings) = Config::load(global.config.as_deref(), &overrides)?;
    init_tracing(config.log_format);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok(config)
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GUILDHALL_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// argon2id allocates `passwords.memory_kib` per hash. glibc's adaptive mmap threshold rises
/// past that size after the first free, so a burst of logins would leave hundreds of MiB in the
/// heap at idle; a fixed threshold hands such blocks back to the OS when each hash ends.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_allocations_to_the_os() {
    // SAFETY: mallopt only changes allocator tuning; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations_to_the_os() {}

fn main() {
    return_large_allocations_to_the_os();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            std::process::exit(1);
        }
    };
    runtime.block_on(serve_main());
}

async fn serve_main() {
    if let Err(err) = run().await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    // Usage errors exit 1 like every other failure; 2 is `plugin run`'s "the plugin failed".
    let cli = Cli::try_parse().unwrap_or_else(|err| {
        let status = if err.use_stderr() { 1 } else { 0 };
        let _ = err.print();
        std::process::exit(status);
    });
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            println!("{}", app::openapi_json());
        }
        Command::Serve => {
            let config = load_config(&cli.global)?;
            let server = RunningServer::start(config, clock).await?;
            tracing::info!(
                addr = %server.addr,
                docs = %format!("{}/docs", server.state.config.public_base_url),
                "guildhall is listening"
            );
            server.wait_for_signal().await?;
        }
        Command::Migrate => {
            let config = load_config(&cli.global)?;
            let database = db::connect(&config).await?;
            db::migrate(&database).await?;
            println!("migrations applied");
        }
        Command::Keys { command: KeysCommand::Rotate } => {
            let config = load_config(&cli.global)?;
            let state = app::build_state(config, clock).await?;
            let origin = Origin::new(
                guildhall_server::audit::Actor::System,
                RequestMeta::system("cli"),
                state.clock.clone(),
            );
            let kid =
                guildhall_server::keys::api::rotate(&state, &origin).await.map_err(app::api_to_anyhow)?;
            println!("new signing key: {kid}");
        }
        Command::Admin { command: AdminCommand::Create { email, password } } => {
            let config = load_config(&cli.global)?;
            let state = app::build_state(config, clock).await?;
            let meta = RequestMeta::system("cli");
            let created = guildhall_server::users::service::bootstrap_admin(&state, &meta, &email, password)
                .await
                .map_err(app::api_to_anyhow)?;
            match created {
                Bootstrap::Created { generated_password: Some(password) } => {
                    println!("instance admin {email} created; password (shown once): {password}")
                }
                Bootstrap::Created { generated_password: None } => println!("instance admin {email} created"),
                Bootstrap::Promoted => println!("{email} is now an active instance admin"),
            }
        }
        Command::Plugin { command } => {
            let config = load_config(&cli.global)?;
            if let cli_plugin::Outcome::PluginFailed = cli_plugin::run(&config, command)? {
                std::process::exit(cli_plugin::PLUGIN_FAILED);
            }
        }
    }
    Ok(())
}
