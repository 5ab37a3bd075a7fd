//! The `opsboard` command line: flags, subcommands and dispatch.

/// Every health check allocates its socket's registration, its read buffer and its answer; with
/// mimalloc a check costs about a tenth less CPU than with glibc's allocator, side by side on
/// the 1,000 endpoints of `cargo bench --bench health_cost`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use opsboard::actions::ActionSpecs;
use opsboard::actions::audit::AuditLog;
use opsboard::app::{self, BoardOptions};
use opsboard::config::{self, Loaded, Mode, Sources};
use opsboard::history::DeployHistory;
use opsboard::snapshot::{self, Format};
use opsboard::ui::theme::{ColorDepth, Theme};
use opsboard::ui::view::{Screen, View, WallPages};
use opsboard::ui::{self, Look, Scene};
use opsboard::{check, demo, logging, terminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// Exit code when opsboard could not do its job at all (bad config, no terminal).
const EXIT_FAILURE: u8 = 3;

#[derive(Parser, Debug)]
#[command(name = "opsboard", version, about = "A live terminal dashboard for the health of a fleet of web services.")]
struct Cli {
    /// Config file (default: the XDG config dir's opsboard/config.toml).
    #[arg(long, short, global = true, env = "OPSBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Watch the built-in demo fleet instead of a config.
    #[arg(long, global = true)]
    demo: bool,
    /// Wall mode: read-only, large type, for a screen nobody touches.
    #[arg(long, global = true)]
    wall: bool,
    /// Theme: dark, light, high-contrast, solarized, mono, or one in the config dir's themes/.
    #[arg(long, global = true)]
    theme: Option<String>,
    /// Remove every action.
    #[arg(long, global = true)]
    read_only: bool,
    /// Redraw at most twice a second (on by default when SSH_CONNECTION is set).
    #[arg(long, global = true)]
    low_bandwidth: bool,
    /// Log file (default: the data dir's opsboard.log).
    #[arg(long, global = true)]
    log_file: Option<PathBuf>,
    /// Start the demo story this far into its cycle, e.g. "75s".
    #[arg(long, global = true, hide = true, value_parser = config::parse_duration)]
    demo_at: Option<Duration>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The board on the built-in demo fleet.
    Demo,
    /// Poll everything once, print a table, exit 0 ok / 1 warn / 2 crit.
    Check {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Time between the two scrapes that make the rates, e.g. `1m` for the window the board
        /// judges on (default 2s: quick, but often too few requests to judge the error rate).
        #[arg(long, value_parser = parse_window)]
        window: Option<Duration>,
        /// A deploy gate: exit 1 while a service is CRIT, burns its error budget faster than
        /// --max-burn over the last hour, or has spent it; 0 otherwise.
        #[arg(long)]
        gate: bool,
        /// With --gate: the fastest burn allowed over the last hour (1 spends the budget in
        /// exactly its window).
        #[arg(long, default_value_t = 1.0, requires = "gate")]
        max_burn: f64,
        /// With --gate: the team's running board, which keeps the budgets (default `[attach] url`).
        #[arg(long, requires = "gate")]
        server: Option<String>,
        /// With --gate: only these services (repeat it); default all.
        #[arg(long = "service", requires = "gate")]
        services: Vec<String>,
    },
    /// Render one frame after one round of polling.
    Snapshot {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// COLSxROWS, e.g. 120x40.
        #[arg(long, default_value = "120x40", value_parser = parse_size)]
        size: (u16, u16),
        /// Output file (default: standard output). Repeat it to write the same frame in several
        /// formats: a file ending in .txt, .ansi or .svg gets that format, any other `--format`.
        #[arg(long)]
        out: Vec<PathBuf>,
        /// Which screen to draw.
        #[arg(long, value_enum, default_value = "overview")]
        screen: Shot,
        /// The service to select (and open, with --screen detail).
        #[arg(long)]
        select: Option<String>,
        /// With --wall: the page to draw, from 1.
        #[arg(long, default_value_t = 1)]
        page: usize,
        /// Rounds of polling before the frame, a check interval apart (trends, deploys).
        #[arg(long, default_value_t = 1)]
        rounds: u32,
    },
    /// The demo fleet's deploy hook (what the demo's rollback command runs).
    #[command(hide = true)]
    DemoDeploy {
        #[arg(long)]
        service: String,
        #[arg(long)]
        version: String,
        /// A file of `service=url` lines, one per demo instance.
        #[arg(long)]
        targets: PathBuf,
    },
    /// Serve the board as a live web page (wall mode), with /api/state, /metrics and /healthz.
    Serve {
        /// host:port to listen on (default: serve.listen from the config, 127.0.0.1:7878).
        /// Anything but loopback needs a token.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// A file holding the token readers must present (overrides serve.token).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// host:port of the public status page (overrides serve.status_listen); it needs
        /// [[status.components]] (the demo has them).
        #[arg(long)]
        status_listen: Option<std::net::SocketAddr>,
    },
    /// The interactive board fed by a running `opsboard serve` instead of polling the fleet:
    /// every screen on one collector, each with its own view.
    Attach {
        /// The server, e.g. http://127.0.0.1:7878 (default: the config's `[attach] url`).
        url: Option<String>,
        /// A file holding the server's token (else OPSBOARD_TOKEN, else none).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// A file holding an operator's token, to run the server's actions (else
        /// OPSBOARD_OPERATOR_TOKEN, else `[attach] operator_token`, else read-only).
        #[arg(long)]
        operator_token_file: Option<PathBuf>,
        /// For an https:// server with a certificate of the team's own: the CA (PEM) it is
        /// checked against (else `[attach] ca_file`, else the system's roots).
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// Check a config file and point at the line that is wrong.
    Validate {
        /// The file to check (default: the one the board would use).
        path: Option<PathBuf>,
    },
}

/// The screens `snapshot` can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Shot {
    Overview,
    Detail,
    Compact,
    Help,
    /// The dialog of the first action that takes a version, on the selected service.
    Rollback,
}

fn parse_window(s: &str) -> Result<Duration, String> {
    config::parse_duration(s)
}

fn parse_size(s: &str) -> Result<(u16, u16), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or("write the size as COLSxROWS, e.g. 120x40")?;
    let w: u16 = w.parse().map_err(|_| format!("`{w}` is not a column count"))?;
    let h: u16 = h.parse().map_err(|_| format!("`{h}` is not a row count"))?;
    if w == 0 || h == 0 {
        return Err("size must be at least 1x1".into());
    }
    Ok((w, h))
}

fn main() -> ExitCode {
    app::mark_process_start();
    let cli = Cli::parse();
    // One thread serves the loop and every poller: at hundreds of checks a second the work is small,
    // and a single thread avoids cross-thread wake-ups, which cost more than the work itself.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsboard: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("opsboard: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let env = |k: &str| std::env::var(k).ok();
    if let Some(Command::DemoDeploy { service, version, targets }) = &cli.command {
        return Ok(match demo::deploy(service, version, targets).await {
            Ok(lines) => {
                for l in lines {
                    println!("{l}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("demo-deploy: {e}");
                ExitCode::from(1)
            }
        });
    }
    if let Some(Command::Attach { url, token_file, operator_token_file, ca_file }) = &cli.command {
        let files = (token_file.as_deref(), operator_token_file.as_deref(), ca_file.as_deref());
        return attach(&cli, url.as_deref(), files).await;
    }
    if let Some(Command::Validate { path }) = &cli.command {
        let sources = Sources::discover(path.clone().or(cli.config.clone()), &env);
        return Ok(match config::load(&sources, &env) {
            Ok(loaded) => {
                let instances: usize = loaded.fleet.services.iter().map(|s| s.instances.len()).sum();
                let files: Vec<String> = loaded.files.iter().map(|f| f.display().to_string()).collect();
                let sources: usize = loaded.fleet.services.iter().map(|s| s.discovery.len()).sum();
                let found = if sources > 0 { format!(" and {sources} sources of instances") } else { String::new() };
                let services = loaded.fleet.services.len();
                println!("ok: {services} services, {instances} instances{found} ({})", files.join(" < "));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        });
    }

    let demo_wanted = cli.demo || matches!(cli.command, Some(Command::Demo));
    let (_demo, loaded, config_files) = if demo_wanted {
        let fleet = demo::start(cli.demo_at.unwrap_or_default()).await.context("starting the demo fleet")?;
        opsboard::store::override_data_dir(fleet.data_dir());
        let loaded = fleet.load()?;
        (Some(fleet), loaded, None)
    } else {
        let sources = Sources::discover(cli.config.clone(), &env);
        if sources.user.is_none() && sources.override_file.is_none() {
            let path = config::default_config_path().map(|p| p.display().to_string()).unwrap_or_default();
            anyhow::bail!("no config found at {path}; pass --config PATH, or try `opsboard --demo`");
        }
        let loaded = config::load(&sources, &env)?;
        (None, loaded, Some(sources))
    };
    // One copy, shared with the collector, which follows the fleet as it changes shape.
    let loaded = std::sync::Arc::new(loaded);

    match &cli.command {
        Some(Command::Check { json, window, gate: true, max_burn, server, services }) => {
            let server = server.clone().or_else(|| loaded.config.attach.url.clone());
            let window = window.unwrap_or(check::DEFAULT_WINDOW);
            let verdict = check::gate::run(&loaded, server.as_deref(), services, *max_burn, window).await;
            let secrets = loaded.secrets();
            if *json {
                println!("{}", secrets.scrub(&serde_json::to_string_pretty(&verdict)?));
            } else {
                print!("{}", secrets.scrub(&verdict.text()));
            }
            Ok(ExitCode::from(u8::from(!verdict.pass)))
        }
        Some(Command::Check { json, window, .. }) => {
            let collector = check::gather(&loaded, window.unwrap_or(check::DEFAULT_WINDOW), 1).await;
            let report = opsboard::report::report(&collector.state, SystemTime::now());
            // Header values, passwords and tokens from the config never reach the output.
            let secrets = loaded.secrets();
            if *json {
                println!("{}", secrets.scrub(&serde_json::to_string_pretty(&report)?));
            } else {
                print!("{}", secrets.scrub(&check::table(&report)));
            }
            Ok(ExitCode::from(report.status.exit_code() as u8))
        }
        Some(Command::Snapshot { format, size, out, screen, select, page, rounds }) => {
            let opts = board_options(&cli, &loaded, None)?;
            let collector = check::gather(&loaded, check::DEFAULT_WINDOW, *rounds).await;
            let state = &collector.state;
            let mut view = View {
                wall: opts.wall.as_ref().map(|(pages, _)| WallPages {
                    pages: pages.clone(),
                    current: page.saturating_sub(1) % pages.len().max(1),
                }),
                help: *screen == Shot::Help,
                screen: match screen {
                    Shot::Detail => Screen::Detail,
                    Shot::Compact => Screen::Compact,
                    Shot::Overview | Shot::Help | Shot::Rollback => Screen::Overview,
                },
                actions: opts.actions.clone(),
                read_only: opts.look.read_only,
                ..View::default()
            };
            if let Some(name) = select {
                view.selected = state.services.iter().position(|s| *s.name == **name);
                anyhow::ensure!(view.selected.is_some(), "no service named `{name}`");
            }
            if *screen == Shot::Rollback {
                let key = opts.actions.specs.values().find(|a| a.needs_version).map(|a| a.key);
                let key = key.ok_or_else(|| anyhow::anyhow!("no action with needs_version = true is configured"))?;
                let _ = view.handle(ui::view::Action::ActionKey(key), state, SystemTime::now());
                anyhow::ensure!(view.dialog.is_some(), "{}", view.flash.clone().unwrap_or_default());
            }
            let scene = Scene::new(state, &view, &opts.look, SystemTime::now());
            let buffer = ui::render_to_buffer(&scene, size.0, size.1);
            if out.is_empty() {
                print!("{}", snapshot::encode(&buffer, *format));
            }
            for path in out {
                let frame = snapshot::encode(&buffer, snapshot::Format::of_path(path).unwrap_or(*format));
                std::fs::write(path, frame).with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Validate { .. } | Command::DemoDeploy { .. } | Command::Attach { .. }) => {
            unreachable!("handled above")
        }
        Some(Command::Serve { listen, token_file, status_listen }) => {
            let token = match token_file {
                Some(path) => Some(read_token(path)?),
                None => loaded.config.serve.token.clone().filter(|t| !t.is_empty()),
            };
            let listen = match listen {
                Some(l) => *l,
                None => loaded.config.serve.listen.parse().context("serve.listen")?,
            };
            opsboard::serve::guard(listen, token.as_deref())?;
            anyhow::ensure!(
                status_listen.is_none() || !loaded.config.status.components.is_empty(),
                "--status-listen: the status page has nothing to show: add [[status.components]] with a name and services"
            );
            let _log_guard = start_logging(&cli, &loaded);
            let board = board_options(&cli, &loaded, Some(cli.wall || loaded.config.serve.wall))?;
            let mut look = board.look;
            look.read_only = true;
            let opts = opsboard::serve::ServeOptions {
                listen,
                token,
                look,
                wall: board.wall,
                history: board.history,
                font_px: loaded.config.serve.font_size,
                secrets: loaded.secrets(),
                config_files,
                operators: operators(&loaded.config.serve.operators)?,
                may_act: !(cli.read_only || loaded.config.board.read_only),
                audit: board.audit,
                status_listen: match (status_listen, &loaded.config.serve.status_listen) {
                    (Some(at), _) => Some(*at),
                    (None, Some(at)) => Some(at.parse().context("serve.status_listen")?),
                    (None, None) => None,
                },
                tls: match (&loaded.config.serve.tls_cert, &loaded.config.serve.tls_key) {
                    (Some(cert), Some(key)) => {
                        Some(opsboard::serve::tls::acceptor(cert, key).map_err(anyhow::Error::msg)?)
                    }
                    _ => None,
                },
                unix_socket: loaded.config.serve.unix_socket.clone(),
            };
            let scheme = if opts.tls.is_some() { "https" } else { "http" };
            let unix = opts.unix_socket.clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                if let Ok((addr, status)) = rx.await {
                    eprintln!("opsboard: serving the board at {scheme}://{addr}/ (Ctrl-C to stop)");
                    if let Some(at) = status {
                        eprintln!("opsboard: the public status page at http://{at}/status");
                    }
                    if let Some(path) = unix {
                        eprintln!("opsboard: terminals attach on unix:{}", path.display());
                    }
                }
            });
            opsboard::serve::run(&loaded, opts, Some(tx)).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Demo) | None => {
            let _log_guard = start_logging(&cli, &loaded);
            let mut opts = BoardOptions { config_files, ..board_options(&cli, &loaded, None)? };
            // `[attach] url`: the team's server when it answers; polling alone when it does not.
            if let Some(url) = loaded.config.attach.url.clone().filter(|_| !demo_wanted) {
                let attach = attach_options(&cli, url.clone(), (None, None, None), Some(&loaded.config))?;
                match opsboard::attach::connect(&attach).await {
                    Ok(link) => {
                        opsboard::attach::run_on(link, &attach).await?;
                        return Ok(ExitCode::SUCCESS);
                    }
                    Err(why) => {
                        tracing::warn!(%url, %why, "the server did not answer; polling the fleet alone");
                        opts.look.note = Some(format!("no server at {url}: polling alone"));
                        opts.notify = loaded.config.attach.notify;
                    }
                }
            }
            tracing::info!(services = loaded.fleet.services.len(), "board starting");
            app::run(&loaded, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `[[serve.operators]]` with their tokens: from the config (after `${ENV}`) or their files.
fn operators(list: &[opsboard::config::schema::OperatorConfig]) -> anyhow::Result<Vec<(String, String)>> {
    list.iter()
        .map(|op| {
            let token = match (&op.token, &op.token_file) {
                (_, Some(path)) => read_token(path).with_context(|| format!("operator `{}`", op.name))?,
                (Some(t), None) => t.trim().to_string(),
                (None, None) => anyhow::bail!("operator `{}` has no token", op.name),
            };
            anyhow::ensure!(token.len() >= 16, "operator `{}`'s token is shorter than 16 characters", op.name);
            Ok((op.name.clone(), token))
        })
        .collect()
}

/// A token from its file, trimmed; an empty file is an error.
fn read_token(path: &std::path::Path) -> anyhow::Result<String> {
    let t = std::fs::read_to_string(path).with_context(|| format!("reading the token file {}", path.display()))?;
    let t = t.trim().to_string();
    anyhow::ensure!(!t.is_empty(), "the token file {} is empty", path.display());
    Ok(t)
}

/// `opsboard attach [URL]`: the server's config decides the fleet; this terminal's own (when
/// there is one) its theme, and the server's address when none is given.
/// A token file, an operator's token file and a CA file, as `attach`'s flags name them.
type AttachFiles<'a> = (Option<&'a std::path::Path>, Option<&'a std::path::Path>, Option<&'a std::path::Path>);

async fn attach(cli: &Cli, url: Option<&str>, files: AttachFiles<'_>) -> anyhow::Result<ExitCode> {
    let env = |k: &str| std::env::var(k).ok();
    let sources = Sources::discover(cli.config.clone(), &env);
    let config = if sources.user.is_some() || sources.override_file.is_some() {
        Some(config::load(&sources, &env)?.config)
    } else {
        None
    };
    let log_file = cli.log_file.clone().or(config.as_ref().and_then(|c| c.board.log_file.clone()));
    let _log_guard = log_file.or_else(logging::default_log_file).and_then(|p| logging::init(&p).ok());
    let url = url.map(str::to_string).or_else(|| config.as_ref().and_then(|c| c.attach.url.clone()));
    let url =
        url.ok_or_else(|| anyhow::anyhow!("attach to what? give the server's URL, or set [attach] url in the config"))?;
    let opts = attach_options(cli, url, files, config.as_ref())?;
    opsboard::attach::run(&opts).await?;
    Ok(ExitCode::SUCCESS)
}

/// How this terminal attaches to the server at `url`: the token from `token_file`, else
/// OPSBOARD_TOKEN, else the config's `[attach] token`; the theme and frame rate this terminal's.
fn attach_options(
    cli: &Cli,
    url: String,
    (token_file, operator_token_file, ca_file): AttachFiles<'_>,
    config: Option<&opsboard::config::schema::Config>,
) -> anyhow::Result<opsboard::attach::AttachOptions> {
    let token = match token_file {
        Some(path) => Some(read_token(path)?),
        None => std::env::var("OPSBOARD_TOKEN")
            .ok()
            .or_else(|| config.and_then(|c| c.attach.token.clone()))
            .filter(|t| !t.is_empty()),
    };
    let operator_token = match operator_token_file {
        Some(path) => Some(read_token(path)?),
        None => std::env::var("OPSBOARD_OPERATOR_TOKEN")
            .ok()
            .or_else(|| config.and_then(|c| c.attach.operator_token.clone()))
            .filter(|t| !t.is_empty()),
    };
    let board = config.map(|c| &c.board);
    let theme = pick_theme(cli, board.and_then(|b| b.theme.as_deref()), cli.wall, false)?;
    let slow_link = cli.low_bandwidth || std::env::var_os("SSH_CONNECTION").is_some();
    let max_fps = board.map_or(10, |b| b.max_fps);
    Ok(opsboard::attach::AttachOptions {
        url,
        token,
        operator_token,
        theme,
        utc_offset_secs: terminal::local_utc_offset_secs(),
        max_fps: if slow_link { max_fps.min(2) } else { max_fps },
        ca_file: ca_file.map(std::path::Path::to_path_buf).or_else(|| config.and_then(|c| c.attach.ca_file.clone())),
    })
}

/// The theme the flags, the environment and the config ask for; `web` is a browser's (full
/// colour whatever this terminal says).
fn pick_theme(cli: &Cli, configured: Option<&str>, wall: bool, web: bool) -> anyhow::Result<Theme> {
    let no_color = !web && std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb");
    let theme_name = match (&cli.theme, configured) {
        (Some(t), _) => t.clone(),
        (None, _) if no_color => "mono".into(),
        (None, Some(t)) => t.to_string(),
        (None, None) if wall => "high-contrast".into(),
        (None, None) => "dark".into(),
    };
    let env = |k: &str| std::env::var(k).ok();
    let depth = if web { ColorDepth::TrueColor } else { ColorDepth::detect(&env) };
    Ok(Theme::load(&theme_name, config::config_dir().as_deref())?.for_depth(depth))
}

/// Logs to the file the flags or config name, else the data dir's; never to the terminal.
fn start_logging(cli: &Cli, loaded: &Loaded) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let log_file = cli.log_file.clone().or(loaded.config.board.log_file.clone()).or_else(logging::default_log_file);
    log_file.and_then(|p| match logging::init(&p) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("opsboard: not logging to {}: {e}", p.display());
            None
        }
    })
}

/// The board's look and behaviour; `web_wall` is set for a browser (full colour, wall or not).
fn board_options(cli: &Cli, loaded: &Loaded, web_wall: Option<bool>) -> anyhow::Result<BoardOptions> {
    let board = &loaded.config.board;
    let wall = web_wall.unwrap_or(cli.wall || board.mode == Mode::Wall);
    let theme = pick_theme(cli, board.theme.as_deref(), wall, web_wall.is_some())?;
    let slow_link = cli.low_bandwidth || std::env::var_os("SSH_CONNECTION").is_some();
    Ok(BoardOptions {
        look: Look {
            title: board.title.clone(),
            theme,
            read_only: cli.read_only || wall || board.read_only,
            utc_offset_secs: terminal::local_utc_offset_secs(),
            started_at: SystemTime::now(),
            note: None,
        },
        wall: wall.then(|| {
            let mut pages = board.wall.pages.clone();
            // The default rotation shows AWS too when accounts are configured.
            if !loaded.fleet.aws.is_empty() && pages == opsboard::config::schema::Wall::default().pages {
                pages.push(opsboard::config::schema::Page::Aws);
            }
            (pages, board.wall.page_interval)
        }),
        actions: ActionSpecs { specs: loaded.config.actions.clone() },
        history: DeployHistory::new(DeployHistory::default_path().unwrap_or_else(|| PathBuf::from("deploys.jsonl"))),
        audit: AuditLog::new(AuditLog::default_path().unwrap_or_else(|| PathBuf::from("audit.jsonl"))),
        max_fps: if slow_link { board.max_fps.min(2) } else { board.max_fps },
        mouse: board.mouse,
        config_files: None,
        notify: true,
    })
}
