//! The `coproduce` command: serve (the default), migrate, token, rotate-data-key,
//! export-schemas.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use coproduce::auth::{parse_ttl, TokenAuthority, TokenRequest};
use coproduce::config::Settings;
use coproduce::crypto::{self, DataKeys};
use coproduce::db::{Backend, DatabaseUrl};
use coproduce::domain::id::{OrganisationId, ParticipantId};
use coproduce::domain::identity::Role;
use coproduce::service::{claims, participants, webhooks};
use coproduce::{db, graphql, rest, telemetry, Application};

/// mimalloc rather than the system allocator: a GraphQL list allocates for every field of
/// every item, and glibc's malloc and free were a quarter of its server time (see
/// BENCHMARKS.md). Its C source is built with the binary, so nothing needs installing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "coproduce",
    version,
    about = "Co-production with people who have lived experience: real, paid and provable"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a signed token for first set-up and local use.
    Token {
        /// A role the token carries; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The organisation the caller acts for.
        #[arg(long)]
        org: Option<OrganisationId>,
        /// The participant the caller is.
        #[arg(long)]
        participant: Option<ParticipantId>,
        /// The token's subject (who it names).
        #[arg(long, default_value = "local-admin")]
        sub: String,
        /// How long the token lasts, such as 15m, 1h or 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// Re-encrypt every stored contact detail under the current data key. In embedded mode
    /// (no COPRODUCE_DATA_KEY set) a new key is made first, the old one kept for reading until
    /// this has finished; restart the server afterwards. With COPRODUCE_DATA_KEY set, set it to
    /// the new key and COPRODUCE_DATA_KEY_PREVIOUS to the old one, then run this.
    RotateDataKey,
    /// Ask a running server whether it is up (GET /healthz): exit 0 when it answers 200. For
    /// a container's health check, in an image with no HTTP client installed.
    Healthcheck {
        /// The address to ask; by default the port COPRODUCE_BIND names, on this host.
        #[arg(long)]
        url: Option<String>,
    },
    /// Write schema.graphql and openapi/openapi.json from the code.
    ExportSchemas {
        /// Compare instead of writing; exit non-zero when a committed file differs.
        #[arg(long)]
        check: bool,
        /// The repository root to write into.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = telemetry::init(settings.log_format);
            serve(settings)
        }
        Command::Migrate => {
            let _telemetry = telemetry::init(settings.log_format);
            db::migrate_url(settings.database_url.expose())
                .map(|n| println!("{n} migrations applied"))
        }
        Command::Token {
            roles,
            org,
            participant,
            sub,
            ttl,
        } => token(&settings, &roles, org, participant, sub, &ttl),
        Command::RotateDataKey => {
            let _telemetry = telemetry::init(settings.log_format);
            rotate_data_key(&settings)
        }
        Command::ExportSchemas { check, dir } => export_schemas(&dir, check),
        Command::Healthcheck { url } => healthcheck(&settings, url.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// GET /healthz over plain HTTP/1.0 with a short deadline.
fn healthcheck(settings: &Settings, url: Option<&str>) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let port = settings.bind.rsplit(':').next().unwrap_or("8080");
    let url = match url {
        Some(u) => url::Url::parse(u)?,
        None => url::Url::parse(&format!("http://127.0.0.1:{port}/healthz"))?,
    };
    let host = url.host_str().context("the URL names no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let limit = std::time::Duration::from_secs(3);
    let address = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?
        .next()
        .context("the host has no address")?;
    let mut stream = std::net::TcpStream::connect_timeout(&address, limit)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    write!(
        stream,
        "GET {} HTTP/1.0\r\nHost: {host}\r\n\r\n",
        url.path()
    )?;
    let mut head = [0u8; 16];
    let n = stream.read(&mut head)?;
    let status = String::from_utf8_lossy(&head[..n]);
    anyhow::ensure!(
        status.starts_with("HTTP/1.0 200") || status.starts_with("HTTP/1.1 200"),
        "{url} answered {:?}",
        status.lines().next().unwrap_or_default()
    );
    Ok(())
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn token(
    settings: &Settings,
    roles: &[String],
    org: Option<OrganisationId>,
    participant: Option<ParticipantId>,
    sub: String,
    ttl: &str,
) -> anyhow::Result<()> {
    let embedded = DatabaseUrl::parse(settings.database_url.expose())?.backend() == Backend::Sqlite;
    let authority = TokenAuthority::from_settings(&settings.jwt, &settings.data_dir, embedded)?;
    let roles = roles
        .iter()
        .map(|r| r.parse::<Role>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let token = authority
        .mint(&TokenRequest {
            subject: sub,
            organisation_id: org,
            roles,
            participant_id: participant,
            client_id: None,
            ttl: parse_ttl(ttl)?,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{token}");
    Ok(())
}

fn rotate_data_key(settings: &Settings) -> anyhow::Result<()> {
    let embedded = DatabaseUrl::parse(settings.database_url.expose())?.backend() == Backend::Sqlite;
    let mut conn = db::connect_url(settings.database_url.expose())?;
    db::migrate(&mut conn)?;
    if embedded && settings.data_key.is_none() {
        // Make sure a key exists before replacing it.
        DataKeys::from_settings(None, &settings.previous_data_keys, &settings.data_dir, true)?;
        let id = crypto::rotate_key_file(&settings.data_dir)?;
        println!(
            "new data key {id} written to {}",
            settings.data_dir.display()
        );
    }
    let keys = DataKeys::from_settings(
        settings.data_key.as_ref(),
        &settings.previous_data_keys,
        &settings.data_dir,
        embedded,
    )?;
    let done = participants::reseal_all(&mut conn, &keys).map_err(|e| anyhow::anyhow!("{e}"))?
        + claims::reseal_banks(&mut conn, &keys).map_err(|e| anyhow::anyhow!("{e}"))?
        + webhooks::reseal_secrets(&mut conn, &keys).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{done} values re-encrypted under data key {}; restart every instance with it",
        keys.current_id()
    );
    Ok(())
}

fn export_schemas(dir: &std::path::Path, check: bool) -> anyhow::Result<()> {
    let files = [
        (dir.join("schema.graphql"), graphql::sdl()),
        (
            dir.join("openapi/openapi.json"),
            rest::openapi::document_json(),
        ),
    ];
    let mut drift = Vec::new();
    for (path, content) in &files {
        if check {
            let current = std::fs::read_to_string(path).unwrap_or_default();
            if &current != content {
                drift.push(path.display().to_string());
            }
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, content)?;
            println!("wrote {}", path.display());
        }
    }
    if drift.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} differ from the code: run `cargo run -- export-schemas` and commit them",
            drift.join(" and ")
        )
    }
}
