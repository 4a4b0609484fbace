//! Command-line arguments of `blocklist`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{
    DEFAULT_AUDIT_TABLE_NAME, DEFAULT_COUNTERS_TABLE_NAME, DEFAULT_RULES_TABLE_NAME,
    DEFAULT_TABLE_NAME,
};

/// Manage the connect-blocklist table: add, expire, remove, bulk-load and
/// review blocked numbers, with every change recorded in an audit table.
///
/// Numbers are normalized to E.164 exactly as the Lambda does, using
/// --default-country for national formats. AWS credentials and region come
/// from the usual SDK sources (environment, profile, SSO...).
#[derive(Debug, Parser)]
#[command(
    name = "blocklist",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Blocklist table
    #[arg(
        long,
        global = true,
        env = "TABLE_NAME",
        default_value = DEFAULT_TABLE_NAME
    )]
    pub table: String,
    /// Rules table (prefix rules and allow entries)
    #[arg(
        long,
        global = true,
        env = "RULES_TABLE_NAME",
        default_value = DEFAULT_RULES_TABLE_NAME
    )]
    pub rules_table: String,
    /// Audit table
    #[arg(
        long,
        global = true,
        env = "AUDIT_TABLE_NAME",
        default_value = DEFAULT_AUDIT_TABLE_NAME
    )]
    pub audit_table: String,
    /// Counters table (calls per number, for the rate limit)
    #[arg(
        long,
        global = true,
        env = "COUNTERS_TABLE_NAME",
        default_value = DEFAULT_COUNTERS_TABLE_NAME
    )]
    pub counters_table: String,
    /// AWS region [default: the SDK's, from the profile]
    #[arg(long, global = true, env = "AWS_REGION")]
    pub region: Option<String>,
    /// DynamoDB endpoint, e.g. a local server [default: AWS's]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "AWS_ENDPOINT_URL_DYNAMODB"
    )]
    pub endpoint_url: Option<String>,
    /// Country for numbers written without a country code (ISO 3166 alpha-2)
    #[arg(long, global = true, env = "DEFAULT_COUNTRY", default_value = "US")]
    pub default_country: String,
    /// Who is making the change, for the audit trail [default: $USER@hostname]
    #[arg(long, global = true, env = "BLOCKLIST_ACTOR")]
    pub actor: Option<String>,
    /// Output format
    #[arg(long, global = true, value_enum, env = "BLOCKLIST_OUTPUT", default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Seconds to wait for each DynamoDB request, its retries included,
    /// before giving up (a frozen server or network would otherwise hang
    /// the command)
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        env = "BLOCKLIST_TIMEOUT",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub timeout: u64,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people
    Table,
    /// JSON for scripts
    Json,
    /// CSV for spreadsheets
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the blocklist, rules and audit tables (TTL on expiresAt), for local use
    ///
    /// In AWS the tables come from template.yaml. Existing tables are left as they are.
    Init,
    /// Block a number, or with --prefix every number starting with a prefix
    ///
    /// Refuses an invalid number or prefix, and an existing active entry unless --replace.
    Add(AddArgs),
    /// Unblock a number (or with --prefix, remove a prefix rule)
    Remove(RemoveArgs),
    /// Never block a number (or with --prefix, numbers starting with a prefix)
    ///
    /// Allow entries win over every block: test lines, VIPs, emergency services.
    Allow(AllowArgs),
    /// Remove an allow entry
    Unallow(RemoveArgs),
    /// Show the exact answer the Lambda would give a call from NUMBER now, and which rule decided
    ///
    /// Uses the Lambda's own code path and its settings from the environment
    /// (BLOCK_ANONYMOUS, INVALID_NUMBER_ACTION, FAIL_MODE, LOOKUP_TIMEOUT_MS).
    Check(CheckArgs),
    /// List entries of every kind (paginated scans of both tables)
    List(ListArgs),
    /// Bulk-load a CSV file: phoneNumber,kind,reason,expiresAt,note,action,message,queueArn,status,mode,lines,reportedBy
    ///
    /// phoneNumber is required (a number, or a prefix for the prefix kinds);
    /// kind is block (the default), prefix, allow or allowPrefix; expiresAt is
    /// a date, a UTC datetime or epoch seconds; action is disconnect (the
    /// default), message (with message) or queue (with queueArn); status is
    /// active (the default) or pending (an agent's report, kept waiting). The
    /// whole file is checked first: rejected rows (a cell that cannot be read
    /// or is too long, an expiry that has passed) are reported with their line
    /// numbers and not written; the valid rows are. A quote that never closes
    /// refuses the file. A `'` that export put before a cell is taken off.
    /// Rows that change nothing write nothing, so re-running a file is safe.
    /// Exits 1 when any row was rejected.
    Import(ImportArgs),
    /// Write every entry that has not expired as CSV (the import's columns) to FILE or stdout
    Export { file: Option<PathBuf> },
    /// Show the audit records of a number (its block and allow entries), newest first
    History(HistoryArgs),
    /// Publish the rules table's prefix rules and allow entries for the Lambda
    ///
    /// Every rule change publishes them already; run this after editing the
    /// rules table by other means, or when a publish failed.
    PublishRules,
    /// List callers reported by agents that wait for an admin (they do not block yet)
    Pending,
    /// Approve an agent's report: the number blocks from now on
    Approve(ApproveArgs),
    /// Make a monitoring entry (added with --monitor) block from now on, as it is otherwise
    Promote(RemoveArgs),
    /// Reject an agent's report: the pending entry is removed
    Reject(RejectArgs),
    /// Write an inbound flow that embeds the blocked numbers (no Lambda, no DynamoDB)
    ///
    /// The flow compares the caller's address with each number (Compare blocks
    /// of at most 100 conditions, chained) and has the same blocked and normal
    /// paths as contact-flows/block-unwanted-callers.json: callers who are not
    /// blocked are transferred to --next-flow. Numbers come from the
    /// table's active entries, or from a CSV file in the import format. A list
    /// too long for one flow (250 actions, 256,000 characters) is refused with
    /// the number that fits.
    RenderFlow(RenderFlowArgs),
    /// Run the supervisor console: a local web page to search, review and change entries
    ///
    /// Prints the address to open (with a per-run token after `#token=`) as
    /// the first line on stdout, then serves until stopped (Ctrl-C). Every
    /// change goes through the same checks and audit trail as the commands
    /// above, recorded as --actor (and your AWS identity, as they record it).
    Serve(ServeArgs),
}

// The arguments of `Add` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Phone number, in any format libphonenumber reads (+1 415 555 0123, (415) 555-0123, ...),
    /// or with --prefix an international prefix (+1900, +4470, +882)
    pub number: String,
    /// NUMBER is a prefix: block every number that starts with it
    #[arg(long)]
    pub prefix: bool,
    /// Only watch: never block; a call it matches that nothing else blocks is answered
    /// matchType monitor and counted. `blocklist promote` makes it block
    #[arg(long)]
    pub monitor: bool,
    #[command(flatten)]
    pub entry: EntryArgs,
    #[command(flatten)]
    pub action: ActionArgs,
    /// Overwrite an existing entry
    #[arg(long)]
    pub replace: bool,
}

// The arguments of `Remove` and `Unallow` (their help texts are the
// variants' docs above).
#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub number: String,
    /// NUMBER is a prefix (a prefix rule, or for unallow an allow prefix)
    #[arg(long)]
    pub prefix: bool,
    /// Why, for the audit trail
    #[arg(long)]
    pub reason: Option<String>,
}

// The arguments of `Allow` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct AllowArgs {
    pub number: String,
    /// NUMBER is a prefix
    #[arg(long)]
    pub prefix: bool,
    #[command(flatten)]
    pub entry: EntryArgs,
    /// Overwrite an existing entry
    #[arg(long)]
    pub replace: bool,
}

// The arguments of `List` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include entries whose expiry has passed
    #[arg(long)]
    pub include_expired: bool,
    /// Only entries that have not blocked a call for this long (90d, 12h...): candidates to prune
    #[arg(long, value_name = "AGE")]
    pub not_hit_since: Option<String>,
}

// The arguments of `Import` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// Check and report, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Reason for rows that have none
    #[arg(long)]
    pub reason: Option<String>,
    /// Expiry for rows that have none: 12h, 7d, 2026-12-31, 2026-12-31T18:00:00Z
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
}

// The arguments of `History` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub number: String,
    /// NUMBER is a prefix (its prefix and allowPrefix rules)
    #[arg(long)]
    pub prefix: bool,
}

// The arguments of `Approve` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct ApproveArgs {
    pub number: String,
    /// Why (replaces the report's reason when given)
    #[arg(long)]
    pub reason: Option<String>,
}

// The arguments of `Reject` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct RejectArgs {
    pub number: String,
    /// Why, for the audit trail
    #[arg(long)]
    pub reason: Option<String>,
}

// The arguments of `RenderFlow` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct RenderFlowArgs {
    /// Take the numbers from this CSV file instead of the table
    #[arg(long, value_name = "FILE")]
    pub from_csv: Option<PathBuf>,
    /// Where to write the flow JSON
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The contact flow that takes every call that is not blocked (its ARN)
    #[arg(long, value_name = "ARN")]
    pub next_flow: String,
}

/// What the flow does with a call the entry blocks.
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// disconnect (standard message, then hang up), message (play --message, then hang up)
    /// or queue (route to --queue-arn, e.g. a fraud team)
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// The message for --action message (at most 256 characters: what the answer carries)
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The Amazon Connect queue ARN for --action queue
    #[arg(long, value_name = "ARN")]
    pub queue_arn: Option<String>,
}

/// Fields of a new entry.
#[derive(Debug, Args)]
pub struct EntryArgs {
    /// Why it is blocked (returned to the flow as blockedReason)
    #[arg(long)]
    pub reason: Option<String>,
    /// When the block ends: 12h, 7d, 2026-12-31, 2026-12-31T18:00:00Z
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Free-text note for admins
    #[arg(long)]
    pub note: Option<String>,
    /// Apply only to calls dialled to this number (SystemEndpoint); repeat for several lines.
    /// Without it the entry applies to every line
    #[arg(long = "line", value_name = "NUMBER")]
    pub lines: Vec<String>,
}

// The arguments of `Check` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct CheckArgs {
    pub number: String,
    /// The dialled number (a line) the call came in on, for entries scoped with --line
    #[arg(long, value_name = "NUMBER")]
    pub line: Option<String>,
}

// The arguments of `Serve` (its help text is the variant's doc above).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Keep it a loopback address: the console speaks
    /// plain HTTP, and anyone who can reach it and read the token can change entries
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one (the address is printed either way)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// An origin allowed to frame the agent workspace app at /agent/ (the
    /// agent workspace's, e.g. https://example.my.connect.aws); repeat for more.
    /// Without one, no page may frame it
    #[arg(long = "agent-frame-ancestor", value_name = "ORIGIN")]
    pub agent_frame_ancestors: Vec<String>,
    /// What the token's holder may do: admin (everything), supervisor
    /// (entries and reports, no import or export) or agent (report a caller
    /// and see where a caller stands)
    #[arg(long, default_value = "admin", value_parser = ["admin", "supervisor", "agent"])]
    pub role: String,
    /// Rows the page's import applies a request, showing its progress after
    /// each; every request carries the whole file (the server checks it whole)
    #[arg(long, value_name = "ROWS", default_value_t = crate::console::transfer::IMPORT_PART_ROWS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub import_rows_per_request: usize,
}
