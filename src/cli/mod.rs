//! The `blocklist` admin CLI: argument parsing ([`args`]), printing
//! ([`output`]) and one function per command against [`crate::admin`].
//!
//! [`run`] is only a dispatcher, in the manner of ripgrep's `try_main`: it
//! resolves the global options into a `Context` and hands the command's
//! arguments to the function of that command. The DynamoDB client is built
//! only by the commands that talk to DynamoDB.

pub mod args;
pub mod output;

pub use args::Cli;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::admin::fields::parse_line;
use crate::admin::import::{CsvError, ImportDefaults, ParsedCsv, parse_csv, write_csv};
use crate::admin::tables::{
    init_audit_table, init_blocklist_table, init_counters_table, init_rules_table,
};
use crate::admin::{Admin, AdminError, EntryFields, Tables};
use crate::aws::{ClientOptions, dynamodb_client};
use crate::checker::{Checked, Checker};
use crate::config::{Config, ConfigError};
use crate::console::{Console, ConsoleError, Role};
use crate::embedded_flow::{RenderError, render};
use crate::entry::{Entry, Kind, Mode};
use crate::identity::{self, IdentityError};
use crate::phone::{DefaultCountry, E164, Normalizer, UnknownCountry};
use crate::store::DynamoStore;
use crate::when::{
    ExpiryInPast, TimeError, future_expiry, now_epoch, parse_absolute, parse_duration, parse_expiry,
};
use crate::wire::UnknownName;
use args::{
    ActionArgs, AddArgs, AllowArgs, ApproveArgs, CheckArgs, Command, EntryArgs, GlobalArgs,
    HistoryArgs, ImportArgs, ListArgs, RejectArgs, RemoveArgs, RenderFlowArgs, ServeArgs,
};
use output::Printer;

/// A command failed; `main` prints it and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The file is refused whole; `file:line:` when the error has a line.
    #[error("{path}{}: {source}", at_line(.source.line()))]
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
    #[error("--expires: {0}")]
    ImportExpiry(ExpiryInPast),
    #[error("--action: {0}")]
    Action(UnknownName),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error("{0} rows were rejected (see above); no flow was written")]
    RowsRejectedNothingWritten(usize),
    #[error(
        "{0} entries apply only to some lines (--line); an embedded flow would apply them on every line, so no flow was written: use the DynamoDB lookup, or remove their lines"
    )]
    LinesInFlow(usize),
    /// The import ran; some rows were rejected (already reported).
    #[error("{0} rows were rejected (see above); the valid rows were imported")]
    RowsRejected(usize),
    /// The import ran; some rows lost a race with another writer.
    #[error(
        "{0} rows were not written: their entries were changed by someone else during the import; run it again to apply them"
    )]
    ImportConflicts(usize),
}

/// How long the CLI waits to open a connection: longer than the functions
/// (an admin may be far from the region, on a slow network), still short.
const CLI_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `:LINE` after a file name, as in `numbers.csv:12: ...`; nothing without a line.
fn at_line(line: Option<u64>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// What every command gets: the global options, resolved once.
struct Context {
    global: GlobalArgs,
    country: DefaultCountry,
    /// The time the command runs at (epoch seconds).
    now: i64,
}

impl Context {
    fn new(global: GlobalArgs) -> Result<Context, CliError> {
        Ok(Context {
            country: global.default_country.parse()?,
            global,
            now: now_epoch(),
        })
    }

    fn tables(&self) -> Tables {
        Tables {
            blocklist: self.global.table.clone(),
            rules: self.global.rules_table.clone(),
            audit: self.global.audit_table.clone(),
        }
    }

    fn normalizer(&self) -> Normalizer {
        Normalizer::new(self.country)
    }

    /// The admin over DynamoDB, recording `--actor` (or `$USER@hostname`).
    /// Every request ends within `--timeout` seconds, retries included, and
    /// a connection is given up after [`CLI_CONNECT_TIMEOUT`] (or the
    /// timeout, if shorter): the SDK's defaults would wait forever on a
    /// server that accepts a connection and never answers.
    async fn admin(&self) -> Admin {
        let timeout = Duration::from_secs(self.global.timeout);
        let client = dynamodb_client(&ClientOptions {
            region: self.global.region.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
            operation_timeout: Some(timeout),
            connect_timeout: Some(CLI_CONNECT_TIMEOUT.min(timeout)),
            ..ClientOptions::default()
        })
        .await;
        let actor = self.global.actor.clone().unwrap_or_else(default_actor);
        Admin::new(client, self.tables(), &actor, self.normalizer())
    }

    /// The admin for commands that change entries: it also records the
    /// caller's AWS identity beside `--actor` (see [`crate::identity`]).
    async fn author(&self) -> Result<Admin, CliError> {
        let sts = std::env::var("AWS_ENDPOINT_URL_STS").ok();
        let identity = if identity::wanted(self.global.endpoint_url.as_deref(), sts.as_deref()) {
            Some(identity::caller_arn(self.global.region.as_deref()).await?)
        } else {
            None
        };
        Ok(self.admin().await.with_identity(identity))
    }

    /// The Lambda's settings for `check` (and the console's test of a
    /// number): its environment, over these tables and default country.
    /// The rate limit is not applied: counting the call would count a call
    /// that was never made, against a real caller.
    fn check_config(&self, admin: &Admin) -> Result<Config, CliError> {
        let mut config = Config::from_env()?;
        config.table_name = admin.tables().blocklist.clone();
        config.rules_table_name = admin.tables().rules.clone();
        config.default_country = self.country;
        config.policy.rate_limit = None;
        Ok(config)
    }

    /// The kind of a command's NUMBER: `exact`, or with --prefix `prefixed`.
    fn kind(prefix: bool, exact: Kind, prefixed: Kind) -> Kind {
        if prefix { prefixed } else { exact }
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Context::new(cli.global)?;
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let mut p = Printer::new(&mut stdout, &mut stderr, ctx.global.output);
    match cli.command {
        Command::Init => init(&ctx, &mut p).await,
        Command::Add(args) => add(&ctx, &mut p, args).await,
        Command::Allow(args) => allow(&ctx, &mut p, args).await,
        Command::Remove(args) => remove(&ctx, &mut p, args, [Kind::Block, Kind::Prefix]).await,
        Command::Unallow(args) => {
            remove(&ctx, &mut p, args, [Kind::Allow, Kind::AllowPrefix]).await
        }
        Command::Check(args) => check(&ctx, &mut p, args).await,
        Command::List(args) => list(&ctx, &mut p, args).await,
        Command::Import(args) => import(&ctx, &mut p, args).await,
        Command::Export { file } => export(&ctx, &mut p, file).await,
        Command::History(args) => history(&ctx, &mut p, args).await,
        Command::PublishRules => publish_rules(&ctx, &mut p).await,
        Command::Pending => pending(&ctx, &mut p).await,
        Command::Approve(args) => approve(&ctx, &mut p, args).await,
        Command::Promote(args) => promote(&ctx, &mut p, args).await,
        Command::Reject(args) => reject(&ctx, &mut p, args).await,
        Command::RenderFlow(args) => render_flow(&ctx, &mut p, args).await,
        Command::Serve(args) => serve(&ctx, &mut p, args).await,
    }
}

/// `init`: creates the four tables (and TTL where the server has it).
async fn init(ctx: &Context, p: &mut Printer<'_>) -> Result<(), CliError> {
    let admin = ctx.admin().await;
    let (tables, client) = (admin.tables(), admin.client());
    let blocklist = init_blocklist_table(client, &tables.blocklist).await?;
    p.table_init(&tables.blocklist, &blocklist.0, Some(&blocklist.1))?;
    let rules = init_rules_table(client, &tables.rules).await?;
    p.table_init(&tables.rules, &rules.0, Some(&rules.1))?;
    let audit = init_audit_table(client, &tables.audit).await?;
    p.table_init(&tables.audit, &audit, None)?;
    let counters_table = &ctx.global.counters_table;
    let counters = init_counters_table(client, counters_table).await?;
    p.table_init(counters_table, &counters.0, Some(&counters.1))?;
    Ok(())
}

/// `add`: blocks a number or prefix, with its action.
async fn add(ctx: &Context, p: &mut Printer<'_>, args: AddArgs) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let kind = Context::kind(args.prefix, Kind::Block, Kind::Prefix);
    let target = admin.target(kind, &args.number)?;
    let mut fields = with_action(entry_fields(ctx, args.entry)?, args.action)?;
    if args.monitor {
        fields.mode = Mode::Monitor;
    }
    let added = admin.add(&target, fields, args.replace).await?;
    p.added(&added, ctx.now)?;
    Ok(())
}

/// `allow`: never blocks a number or prefix.
async fn allow(ctx: &Context, p: &mut Printer<'_>, args: AllowArgs) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let kind = Context::kind(args.prefix, Kind::Allow, Kind::AllowPrefix);
    let target = admin.target(kind, &args.number)?;
    let fields = entry_fields(ctx, args.entry)?;
    let added = admin.add(&target, fields, args.replace).await?;
    p.added(&added, ctx.now)?;
    Ok(())
}

/// `remove` / `unallow`: removes the entry of kind `kinds[0]` (with
/// --prefix, `kinds[1]`).
async fn remove(
    ctx: &Context,
    p: &mut Printer<'_>,
    args: RemoveArgs,
    [exact, prefixed]: [Kind; 2],
) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let target = admin.target(Context::kind(args.prefix, exact, prefixed), &args.number)?;
    let removed = admin.remove(&target, args.reason.as_deref()).await?;
    p.removed(&removed, ctx.now)?;
    Ok(())
}

/// `check`: the Lambda's exact answer for a call from `number` now (to
/// `--line`, if given), through its own code path and settings.
async fn check(ctx: &Context, p: &mut Printer<'_>, args: CheckArgs) -> Result<(), CliError> {
    let admin = ctx.admin().await;
    let config = ctx.check_config(&admin)?;
    let checked =
        check_number(&admin, &config, &args.number, args.line.as_deref(), ctx.now).await?;
    p.check(&checked.answer, checked.entry.as_ref(), ctx.now)?;
    Ok(())
}

/// The Lambda's answer for a call from `number` at `now` (to `line`, if
/// given), through its own code path with `config` (see
/// [`Context::check_config`]): what `check` prints and the console shows.
/// A fresh checker each time, so the rules are the ones published now, not
/// a cache as old as the Lambda's refresh interval.
pub(crate) async fn check_number(
    admin: &Admin,
    config: &Config,
    number: &str,
    line: Option<&str>,
    now: i64,
) -> Result<Checked, CliError> {
    let line = line
        .map(|l| parse_line(admin.normalizer(), l).map_err(AdminError::from))
        .transpose()?
        .and_then(|l| E164::from_canonical(&l));
    let store = DynamoStore::for_config(admin.client().clone(), config);
    Ok(Checker::new(store, config)
        .check(Some(number), line.as_ref(), now)
        .await)
}

/// `list`: every entry, or with --not-hit-since the blocks idle that long.
async fn list(ctx: &Context, p: &mut Printer<'_>, args: ListArgs) -> Result<(), CliError> {
    let mut entries = ctx.admin().await.list(args.include_expired).await?;
    if let Some(age) = args.not_hit_since {
        let cutoff = ctx.now - parse_duration(&age)?;
        entries.retain(|e| idle_since(e, cutoff));
    }
    p.entries(&entries, ctx.now)?;
    Ok(())
}

/// `import`: checks the whole file against what is stored, reports every
/// rejected row, then writes the valid rows (with a progress bar on a
/// terminal). Nothing is written before every row is checked.
async fn import(ctx: &Context, p: &mut Printer<'_>, args: ImportArgs) -> Result<(), CliError> {
    let expires_at = args
        .expires
        .map(|e| parse_expiry(&e, ctx.now))
        .transpose()?
        .map(|e| future_expiry(e, ctx.now))
        .transpose()
        .map_err(CliError::ImportExpiry)?;
    let defaults = ImportDefaults {
        reason: args.reason,
        expires_at,
    };
    let admin = ctx.author().await?;
    let parsed = read_csv(&args.file, admin.normalizer(), &defaults)?;
    let name = args.file.display().to_string();
    p.rejected_rows(&name, &parsed.rejected)?;
    p.duplicate_rows(&name, &parsed)?;
    let plan = admin.plan_import(&parsed, &name).await?;
    p.rejected_rows(&name, &plan.rejected)?;
    let bar = progress_bar(parsed.rows.len(), !args.dry_run);
    let summary = admin
        .write_import(&plan, args.dry_run, |written| {
            bar.set_position(written as u64)
        })
        .await?;
    bar.finish_and_clear();
    p.import_summary(&summary)?;
    if summary.rejected > 0 {
        return Err(CliError::RowsRejected(summary.rejected));
    }
    if summary.conflicts > 0 {
        return Err(CliError::ImportConflicts(summary.conflicts));
    }
    Ok(())
}

/// `export`: every entry as an import file, to `file` or stdout. Expired
/// entries are left out: they no longer block, and an import refuses an
/// expiry that has passed, so an export stays one that imports cleanly.
async fn export(ctx: &Context, p: &mut Printer<'_>, file: Option<PathBuf>) -> Result<(), CliError> {
    let entries = ctx.admin().await.list(false).await?;
    let Some(path) = file else {
        write_csv(&entries, &mut *p.out).map_err(std::io::Error::from)?;
        return Ok(());
    };
    let io_error = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    let f = std::fs::File::create(&path).map_err(io_error)?;
    write_csv(&entries, f).map_err(|e| io_error(e.into()))?;
    p.exported(entries.len(), &path)?;
    Ok(())
}

/// `history`: the audit records of a number's (or prefix's) block and
/// allow entries, newest first.
async fn history(ctx: &Context, p: &mut Printer<'_>, args: HistoryArgs) -> Result<(), CliError> {
    let admin = ctx.admin().await;
    let kinds: &[Kind] = if args.prefix {
        &[Kind::Prefix, Kind::AllowPrefix]
    } else {
        &[Kind::Block, Kind::Allow, Kind::Report]
    };
    let targets = kinds
        .iter()
        .map(|k| admin.target(*k, &args.number))
        .collect::<Result<Vec<_>, _>>()?;
    p.history(&admin.history(&targets).await?)?;
    Ok(())
}

/// `publish-rules`: publishes the rules table for the Lambda.
async fn publish_rules(ctx: &Context, p: &mut Printer<'_>) -> Result<(), CliError> {
    let admin = ctx.admin().await;
    let count = admin.publish_rules().await?;
    p.published(count, &admin.tables().rules)?;
    Ok(())
}

/// `pending`: agent reports waiting for an admin.
async fn pending(ctx: &Context, p: &mut Printer<'_>) -> Result<(), CliError> {
    p.entries(&ctx.admin().await.pending().await?, ctx.now)?;
    Ok(())
}

/// `approve`: a pending report blocks from now on.
async fn approve(ctx: &Context, p: &mut Printer<'_>, args: ApproveArgs) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let target = admin.target(Kind::Block, &args.number)?;
    let approved = admin.approve(&target, args.reason.as_deref()).await?;
    p.approved(&approved, ctx.now)?;
    Ok(())
}

/// `promote`: a monitoring entry blocks from now on.
async fn promote(ctx: &Context, p: &mut Printer<'_>, args: RemoveArgs) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let target = admin.target(
        Context::kind(args.prefix, Kind::Block, Kind::Prefix),
        &args.number,
    )?;
    let promoted = admin.promote(&target, args.reason.as_deref()).await?;
    p.promoted(&promoted, ctx.now)?;
    Ok(())
}

/// `reject`: a pending report is removed.
async fn reject(ctx: &Context, p: &mut Printer<'_>, args: RejectArgs) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let target = admin.target(Kind::Block, &args.number)?;
    let rejected = admin.reject(&target, args.reason.as_deref()).await?;
    p.rejected(&rejected, ctx.now)?;
    Ok(())
}

/// `render-flow`: an inbound flow embedding the active entries (from the
/// tables, or from a CSV file, which needs no DynamoDB at all).
async fn render_flow(
    ctx: &Context,
    p: &mut Printer<'_>,
    args: RenderFlowArgs,
) -> Result<(), CliError> {
    let entries: Vec<Entry> = match &args.from_csv {
        Some(file) => {
            let parsed = read_csv(file, &ctx.normalizer(), &ImportDefaults::default())?;
            p.rejected_rows(&file.display().to_string(), &parsed.rejected)?;
            if !parsed.rejected.is_empty() {
                return Err(CliError::RowsRejectedNothingWritten(parsed.rejected.len()));
            }
            let now = crate::when::rfc3339(ctx.now);
            parsed
                .rows
                .into_iter()
                .map(|r| r.fields.into_entry(&r.target, "", &now))
                .collect()
        }
        None => ctx.admin().await.list(false).await?,
    };
    let (numbers, watching) = embeddable(entries, ctx.now)?;
    p.monitors_left_out(watching)?;
    let content = render(&numbers, &args.next_flow)?;
    std::fs::write(&args.out, &content).map_err(|source| CliError::Io {
        path: args.out.clone(),
        source,
    })?;
    p.flow_written(&args.out, numbers.len(), &content)?;
    Ok(())
}

/// `serve`: the supervisor console, until the process is stopped. It
/// records the same author as the other commands: --actor, and the AWS
/// identity asked of STS once, at start.
async fn serve(ctx: &Context, p: &mut Printer<'_>, args: ServeArgs) -> Result<(), CliError> {
    let admin = ctx.author().await?;
    let config = ctx.check_config(&admin)?;
    let addr = std::net::SocketAddr::new(args.bind, args.port);
    let console = Console::bind(addr, admin, config)
        .await?
        .allow_agent_app_in(&args.agent_frame_ancestors)?
        .as_role(Role::named(&args.role).unwrap_or(Role::Agent))?
        .import_rows_per_request(args.import_rows_per_request)?;
    p.console_started(&console.url(), console.is_loopback())?;
    console.run().await?;
    Ok(())
}

/// What an embedded flow can hold of `entries`: the kind and value of
/// each that would block or allow now (not expired, not a report, not
/// pending), and how many monitoring entries were left out. An entry
/// scoped to lines is refused: the flow would apply it on every line.
fn embeddable(entries: Vec<Entry>, now: i64) -> Result<(Vec<(Kind, String)>, usize), CliError> {
    let active: Vec<Entry> = entries
        .into_iter()
        .filter(|e| e.is_active_at(now) && e.kind != Kind::Report)
        .collect();
    let scoped = active.iter().filter(|e| !e.lines.is_empty()).count();
    if scoped > 0 {
        return Err(CliError::LinesInFlow(scoped));
    }
    let (watching, numbers): (Vec<Entry>, Vec<Entry>) =
        active.into_iter().partition(|e| e.mode == Mode::Monitor);
    let numbers = numbers.into_iter().map(|e| (e.kind, e.value)).collect();
    Ok((numbers, watching.len()))
}

/// The fields every new entry takes: reason, expiry (relative to `now`), note.
fn entry_fields(ctx: &Context, args: EntryArgs) -> Result<EntryFields, CliError> {
    entry_fields_at(&ctx.normalizer(), ctx.now, args)
}

/// The fields every new entry takes, read as `add` reads them (lines
/// normalized by `normalizer`, an expiry relative to `now`): the CLI's and
/// the console's one reading.
pub(crate) fn entry_fields_at(
    normalizer: &Normalizer,
    now: i64,
    args: EntryArgs,
) -> Result<EntryFields, CliError> {
    let lines = args
        .lines
        .iter()
        .map(|line| parse_line(normalizer, line).map_err(AdminError::from))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EntryFields {
        reason: args.reason,
        expires_at: args.expires.map(|e| parse_expiry(&e, now)).transpose()?,
        note: args.note,
        lines,
        ..EntryFields::default()
    })
}

/// `fields` with a block's action, message and queue.
pub(crate) fn with_action(fields: EntryFields, args: ActionArgs) -> Result<EntryFields, CliError> {
    let action = args
        .action
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(CliError::Action)?;
    Ok(EntryFields {
        action,
        message: args.message,
        queue_arn: args.queue_arn,
        ..fields
    })
}

/// Reads and checks an import file.
fn read_csv(
    file: &Path,
    normalizer: &Normalizer,
    defaults: &ImportDefaults,
) -> Result<ParsedCsv, CliError> {
    let reader = std::fs::File::open(file).map_err(|source| CliError::Io {
        path: file.to_owned(),
        source,
    })?;
    parse_csv(std::io::BufReader::new(reader), normalizer, defaults).map_err(|source| {
        CliError::Csv {
            path: file.to_owned(),
            source,
        }
    })
}

/// A progress bar for `rows` rows on a terminal when `shown`; hidden otherwise.
fn progress_bar(rows: usize, shown: bool) -> ProgressBar {
    if !(shown && std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows written ({per_sec}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar
}

/// Whether `entry` is a block that has not blocked a call since `cutoff`
/// (epoch seconds; one made since then counts as active): a candidate to
/// prune (`list --not-hit-since`, and the console's filter).
pub(crate) fn idle_since(entry: &Entry, cutoff: i64) -> bool {
    !entry.kind.is_allow() && last_activity(entry).is_none_or(|t| t < cutoff)
}

/// When an entry last blocked a call, or else when it was made (epoch seconds).
fn last_activity(entry: &Entry) -> Option<i64> {
    entry
        .last_blocked_at
        .as_deref()
        .or(entry.created_at.as_deref())
        .and_then(|t| parse_absolute(t).ok())
}

/// `$USER@hostname`, for the audit trail.
pub fn default_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{user}@{host}")
}
