//! The `blocklist` admin CLI: argument parsing ([`args`]), printing
//! ([`output`]) and running each command against [`crate::admin`].

pub mod args;
pub mod output;

pub use args::Cli;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::admin::import::{CsvError, ImportDefaults, ImportSummary, parse_csv, write_csv};
use crate::admin::tables::{
    TableInit, TtlInit, init_audit_table, init_blocklist_table, init_rules_table,
};
use crate::admin::{Added, Admin, AdminError, EntryFields, Tables};
use crate::aws::{ClientOptions, dynamodb_client};
use crate::checker::Checker;
use crate::config::{Config, ConfigError};
use crate::embedded_flow::{MAX_CONDITIONS_PER_COMPARE, RenderError, render};
use crate::entry::{Entry, Kind};
use crate::phone::{DefaultCountry, Normalizer, UnknownCountry};
use crate::store::DynamoStore;
use crate::when::{TimeError, now_epoch, parse_absolute, parse_duration, parse_expiry};
use args::{Command, EntryArgs, OutputFormat};

/// A command failed; `main` prints it and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: CsvError },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    #[error("--default-country: {0}")]
    Country(#[from] UnknownCountry),
    #[error("{0}")]
    Time(#[from] TimeError),
    #[error("--action: {0}")]
    Action(crate::wire::UnknownName),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("{0} rows were rejected (see above); no flow was written")]
    RowsRejectedNothingWritten(usize),
    /// The import ran; some rows were rejected (already reported).
    #[error("{0} rows were rejected (see above); the valid rows were imported")]
    RowsRejected(usize),
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let global = &cli.global;
    let country: DefaultCountry = global.default_country.parse()?;
    let client = dynamodb_client(&ClientOptions {
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        ..ClientOptions::default()
    })
    .await;
    let actor = global.actor.clone().unwrap_or_else(default_actor);
    let tables = Tables {
        blocklist: global.table.clone(),
        rules: global.rules_table.clone(),
        audit: global.audit_table.clone(),
    };
    let admin = Admin::new(client, tables, &actor, Normalizer::new(country));
    let format = global.output;
    let mut out = std::io::stdout().lock();
    let now = now_epoch();
    let kind =
        |prefix: bool, block: Kind, prefix_kind: Kind| if prefix { prefix_kind } else { block };

    match cli.command {
        Command::Init => init(&admin, &mut out).await,
        Command::Add {
            number,
            prefix,
            entry,
            action,
            replace,
        } => {
            let target = admin.target(kind(prefix, Kind::Block, Kind::Prefix), &number)?;
            let fields = EntryFields {
                action: action
                    .action
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(CliError::Action)?,
                message: action.message,
                queue_arn: action.queue_arn,
                ..entry_fields(entry, now)?
            };
            added(
                &mut out,
                format,
                admin.add(&target, fields, replace).await?,
                now,
            )
        }
        Command::Allow {
            number,
            prefix,
            entry,
            replace,
        } => {
            let target = admin.target(kind(prefix, Kind::Allow, Kind::AllowPrefix), &number)?;
            added(
                &mut out,
                format,
                admin
                    .add(&target, entry_fields(entry, now)?, replace)
                    .await?,
                now,
            )
        }
        Command::Remove {
            number,
            prefix,
            reason,
        } => {
            let target = admin.target(kind(prefix, Kind::Block, Kind::Prefix), &number)?;
            removed(
                &mut out,
                format,
                admin.remove(&target, reason.as_deref()).await?,
                now,
            )
        }
        Command::Unallow {
            number,
            prefix,
            reason,
        } => {
            let target = admin.target(kind(prefix, Kind::Allow, Kind::AllowPrefix), &number)?;
            removed(
                &mut out,
                format,
                admin.remove(&target, reason.as_deref()).await?,
                now,
            )
        }
        Command::Check { number } => {
            let mut config = Config::from_env()?;
            config.table_name = admin.tables().blocklist.clone();
            config.rules_table_name = admin.tables().rules.clone();
            config.default_country = country;
            let store = DynamoStore::new(
                admin.client().clone(),
                &config.table_name,
                &config.rules_table_name,
            );
            let checker = Checker::new(store, &config);
            let checked = checker.check(Some(&number), now).await;
            output::check(
                &mut out,
                format,
                &checked.answer,
                checked.entry.as_ref(),
                now,
            )?;
            Ok(())
        }
        Command::List {
            include_expired,
            not_hit_since,
        } => {
            let mut entries = admin.list(include_expired).await?;
            if let Some(age) = not_hit_since {
                let cutoff = now - parse_duration(&age)?;
                entries
                    .retain(|e| !e.kind.is_allow() && last_activity(e).is_none_or(|t| t < cutoff));
            }
            output::entries(&mut out, format, &entries, now)?;
            Ok(())
        }
        Command::Import {
            file,
            dry_run,
            reason,
            expires,
        } => {
            let defaults = ImportDefaults {
                reason,
                expires_at: expires.map(|e| parse_expiry(&e, now)).transpose()?,
            };
            import(&admin, &file, &defaults, dry_run, format, &mut out).await
        }
        Command::Export { file } => {
            let entries = admin.list(true).await?;
            match file {
                Some(path) => {
                    let f = std::fs::File::create(&path).map_err(|source| CliError::Io {
                        path: path.clone(),
                        source,
                    })?;
                    write_csv(&entries, f).map_err(|e| CliError::Io {
                        path: path.clone(),
                        source: e.into(),
                    })?;
                    eprintln!("exported {} entries to {}", entries.len(), path.display());
                }
                None => write_csv(&entries, &mut out).map_err(std::io::Error::from)?,
            }
            Ok(())
        }
        Command::History { number, prefix } => {
            let kinds = if prefix {
                [Kind::Prefix, Kind::AllowPrefix]
            } else {
                [Kind::Block, Kind::Allow]
            };
            let targets = kinds
                .iter()
                .map(|k| admin.target(*k, &number))
                .collect::<Result<Vec<_>, _>>()?;
            let records = admin.history(&targets).await?;
            output::history(&mut out, format, &records)?;
            Ok(())
        }
        Command::PublishRules => {
            let count = admin.publish_rules().await?;
            writeln!(out, "published {count} rules from {}", admin.tables().rules)?;
            Ok(())
        }
        Command::Pending => {
            output::entries(&mut out, format, &admin.pending().await?, now)?;
            Ok(())
        }
        Command::Approve { number, reason } => {
            let approved = admin
                .approve(&admin.target(Kind::Block, &number)?, reason.as_deref())
                .await?;
            eprintln!("approved: {} now blocks", approved.value);
            output::entries(&mut out, format, &[approved], now)?;
            Ok(())
        }
        Command::Reject { number, reason } => {
            let rejected = admin
                .reject(&admin.target(Kind::Block, &number)?, reason.as_deref())
                .await?;
            eprintln!("rejected the report of {}", rejected.value);
            output::entries(&mut out, format, &[rejected], now)?;
            Ok(())
        }
        Command::RenderFlow {
            from_csv,
            out: path,
        } => render_flow(&admin, from_csv.as_deref(), &path).await,
    }
}

fn entry_fields(args: EntryArgs, now: i64) -> Result<EntryFields, CliError> {
    Ok(EntryFields {
        reason: args.reason,
        expires_at: args.expires.map(|e| parse_expiry(&e, now)).transpose()?,
        note: args.note,
        ..EntryFields::default()
    })
}

fn added(
    out: &mut dyn Write,
    format: OutputFormat,
    added: Added,
    now: i64,
) -> Result<(), CliError> {
    if let Some(old) = &added.replaced {
        eprintln!(
            "replaced the earlier entry (reason: {})",
            old.reason.as_deref().unwrap_or("none")
        );
    }
    output::entries(out, format, &[added.entry], now)?;
    Ok(())
}

fn removed(
    out: &mut dyn Write,
    format: OutputFormat,
    entry: Entry,
    now: i64,
) -> Result<(), CliError> {
    eprintln!("removed {} {}", entry.kind, entry.value);
    output::entries(out, format, &[entry], now)?;
    Ok(())
}

/// When an entry last blocked a call, or else when it was made (epoch seconds).
fn last_activity(entry: &Entry) -> Option<i64> {
    entry
        .last_blocked_at
        .as_deref()
        .or(entry.created_at.as_deref())
        .and_then(|t| parse_absolute(t).ok())
}

async fn render_flow(admin: &Admin, from_csv: Option<&Path>, path: &Path) -> Result<(), CliError> {
    let numbers: Vec<(Kind, String)> = match from_csv {
        Some(file) => {
            let reader = std::fs::File::open(file).map_err(|source| CliError::Io {
                path: file.to_owned(),
                source,
            })?;
            let parsed = parse_csv(
                std::io::BufReader::new(reader),
                admin.normalizer(),
                &ImportDefaults::default(),
            )
            .map_err(|source| CliError::Csv {
                path: file.to_owned(),
                source,
            })?;
            for r in &parsed.rejected {
                eprintln!(
                    "{}:{}: rejected `{}`: {}",
                    file.display(),
                    r.line,
                    r.value,
                    r.why
                );
            }
            if !parsed.rejected.is_empty() {
                return Err(CliError::RowsRejectedNothingWritten(parsed.rejected.len()));
            }
            let now = now_epoch();
            parsed
                .rows
                .into_iter()
                .filter(|r| r.fields.expires_at.is_none_or(|e| e > now))
                .map(|r| (r.target.kind, r.target.value))
                .collect()
        }
        // Active entries only: not expired, not pending reports.
        None => admin
            .list(false)
            .await?
            .into_iter()
            .filter(|e| e.is_active_at(now_epoch()))
            .map(|e| (e.kind, e.value))
            .collect(),
    };
    let content = render(&numbers)?;
    std::fs::write(path, &content).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })?;
    eprintln!(
        "wrote {}: {} numbers in {} Compare blocks, {} characters",
        path.display(),
        numbers.len(),
        numbers.len().div_ceil(MAX_CONDITIONS_PER_COMPARE),
        content.chars().count()
    );
    Ok(())
}

async fn init(admin: &Admin, out: &mut dyn Write) -> Result<(), CliError> {
    let tables = admin.tables();
    let said = |t: &TableInit| match t {
        TableInit::Created => "created",
        TableInit::AlreadyExists => "already exists, left as it is",
    };
    for (table, init) in [
        (
            &tables.blocklist,
            init_blocklist_table(admin.client(), &tables.blocklist).await?,
        ),
        (
            &tables.rules,
            init_rules_table(admin.client(), &tables.rules).await?,
        ),
    ] {
        let (created, ttl) = init;
        writeln!(out, "table {table}: {}", said(&created))?;
        match ttl {
            TtlInit::Enabled => writeln!(out, "  TTL on expiresAt: enabled")?,
            TtlInit::AlreadyEnabled => writeln!(out, "  TTL on expiresAt: already enabled")?,
            TtlInit::Unsupported(why) => writeln!(
                out,
                "  TTL on expiresAt: not supported by this server ({why}); expired entries still stop blocking, they are just not deleted"
            )?,
        }
    }
    let audit = init_audit_table(admin.client(), &tables.audit).await?;
    writeln!(out, "table {}: {}", tables.audit, said(&audit))?;
    Ok(())
}

async fn import(
    admin: &Admin,
    file: &Path,
    defaults: &ImportDefaults,
    dry_run: bool,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let reader = std::fs::File::open(file).map_err(|source| CliError::Io {
        path: file.to_owned(),
        source,
    })?;
    let parsed = parse_csv(
        std::io::BufReader::new(reader),
        admin.normalizer(),
        defaults,
    )
    .map_err(|source| CliError::Csv {
        path: file.to_owned(),
        source,
    })?;
    let name = file.display().to_string();
    for r in &parsed.rejected {
        eprintln!("{name}:{}: rejected `{}`: {}", r.line, r.value, r.why);
    }
    for d in &parsed.duplicates {
        eprintln!(
            "{name}:{}: {} {} repeats line {}; the later row is used",
            d.line, d.target.kind, d.target.value, d.earlier_line
        );
    }
    let bar = if std::io::stderr().is_terminal() && !dry_run {
        let bar = ProgressBar::new(parsed.rows.len() as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows written ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let summary = admin
        .import(&parsed, &name, dry_run, |written| {
            bar.set_position(written as u64)
        })
        .await?;
    bar.finish_and_clear();
    print_summary(out, format, &summary)?;
    if summary.rejected > 0 {
        return Err(CliError::RowsRejected(summary.rejected));
    }
    Ok(())
}

fn print_summary(
    out: &mut dyn Write,
    format: OutputFormat,
    s: &ImportSummary,
) -> std::io::Result<()> {
    let written_label = if s.dry_run { "wouldWrite" } else { "written" };
    let fields = [
        ("read", s.read),
        ("valid", s.valid),
        ("rejected", s.rejected),
        ("duplicates", s.duplicates),
        ("unchanged", s.unchanged),
        (written_label, s.written),
    ];
    match format {
        OutputFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).into()))
                .collect();
            writeln!(out, "{}", serde_json::Value::Object(map))
        }
        OutputFormat::Csv => {
            writeln!(
                out,
                "{}",
                fields.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(",")
            )?;
            writeln!(
                out,
                "{}",
                fields
                    .iter()
                    .map(|(_, v)| v.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
        OutputFormat::Table => {
            let dry = if s.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            };
            writeln!(
                out,
                "read {}, valid {}, rejected {}, duplicates {}, unchanged {}, {} {}{dry}",
                s.read,
                s.valid,
                s.rejected,
                s.duplicates,
                s.unchanged,
                if s.dry_run { "would write" } else { "written" },
                s.written
            )
        }
    }
}

/// `$USER@hostname`, for the audit trail.
pub fn default_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{user}@{host}")
}
