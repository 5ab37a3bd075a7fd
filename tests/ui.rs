//! Snapshots of the rendered board (ratatui TestBackend) at the sizes people use.

mod common;

use common::fixtures::{incident_state, now};
use opsboard::config::schema::Page;
use opsboard::snapshot;
use opsboard::state::State;
use opsboard::ui::theme::Theme;
use opsboard::ui::view::{Action, Outcome, Screen, View, WallPages};
use opsboard::ui::{Look, Scene, render_to_buffer};
use std::time::Duration;

fn frame(state: &State, view: &View, width: u16, height: u16) -> String {
    let look = Look {
        title: "prod-eu".into(),
        theme: Theme::default(),
        utc_offset_secs: 0,
        read_only: false,
        started_at: now(),
        note: None,
    };
    let scene = Scene::new(state, view, &look, now());
    snapshot::text(&render_to_buffer(&scene, width, height))
}

fn view_after(state: &State, actions: &[Action]) -> View {
    let mut view = View::default();
    for a in actions {
        let _ = view.handle(*a, state, now());
    }
    view
}

#[test]
fn overview_80x24() {
    let state = incident_state();
    insta::assert_snapshot!(frame(&state, &View::default(), 80, 24));
}

#[test]
fn overview_160x45() {
    let state = incident_state();
    insta::assert_snapshot!(frame(&state, &View::default(), 160, 45));
}

#[test]
fn detail_80x24() {
    let state = incident_state();
    let view = view_after(&state, &[Action::Open, Action::Down, Action::Down]);
    assert_eq!(view.screen, Screen::Detail);
    insta::assert_snapshot!(frame(&state, &view, 80, 24));
}

#[test]
fn detail_160x45() {
    let state = incident_state();
    let view = view_after(&state, &[Action::Down, Action::Down, Action::Open]);
    insta::assert_snapshot!(frame(&state, &view, 160, 45));
}

#[test]
fn help_overlay_80x24() {
    let state = incident_state();
    insta::assert_snapshot!(frame(&state, &view_after(&state, &[Action::ToggleHelp]), 80, 24));
}

#[test]
fn filter_narrows_services() {
    let state = incident_state();
    let view = view_after(&state, &[Action::StartFilter, Action::FilterChar('p'), Action::FilterChar('a')]);
    let text = frame(&state, &view, 80, 24);
    assert!(text.contains("payments"), "{text}");
    assert!(!text.contains("checkout"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn terminal_too_small_says_so() {
    let state = incident_state();
    let text = frame(&state, &View::default(), 20, 5);
    assert!(text.contains("20x5 is too small"), "{text}");
    assert!(text.contains("CRIT"), "the fleet verdict still shows: {text}");
    insta::assert_snapshot!(text);
}

#[test]
fn no_size_panics() {
    let state = incident_state();
    let views = [
        View::default(),
        view_after(&state, &[Action::Open]),
        view_after(&state, &[Action::ToggleHelp]),
        view_after(&state, &[Action::StartFilter, Action::FilterChar('x')]),
    ];
    for view in &views {
        for w in (1..=200).step_by(7) {
            for h in (1..=60).step_by(5) {
                frame(&state, view, w, h);
            }
        }
    }
}

#[test]
fn selection_follows_the_service_not_the_row() {
    let state = incident_state();
    let view = view_after(&state, &[Action::Down]);
    let selected = view.selected.expect("a service is selected");
    assert_eq!(&*state.services[selected].name, "payments");
    let view = view_after(&state, &[Action::Down, Action::ToggleSort]);
    assert_eq!(view.selected, Some(selected), "re-sorting keeps the same service selected");
}

fn look(theme: Theme) -> Look {
    Look {
        title: "prod-eu".into(),
        theme,
        utc_offset_secs: 0,
        read_only: false,
        started_at: now() - Duration::from_secs(300),
        note: None,
    }
}

fn render_with(state: &State, view: &View, theme: Theme, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let look = look(theme);
    render_to_buffer(&Scene::new(state, view, &look, now()), width, height)
}

fn wall_view(page: usize) -> View {
    View {
        wall: Some(WallPages { pages: vec![Page::Overview, Page::Health, Page::Errors], current: page }),
        ..View::default()
    }
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

#[test]
fn every_page_at_every_size() {
    let state = incident_state();
    let pages: Vec<(&str, View)> = vec![
        ("overview", View::default()),
        ("detail", view_after(&state, &[Action::Open])),
        ("compact", view_after(&state, &[Action::ToggleCompact])),
        ("help", view_after(&state, &[Action::ToggleHelp])),
        ("wall-overview", wall_view(0)),
        ("wall-health", wall_view(1)),
        ("wall-errors", wall_view(2)),
    ];
    for (name, view) in &pages {
        for (w, h) in SIZES {
            let text = snapshot::text(&render_with(&state, view, Theme::default(), w, h));
            insta::assert_snapshot!(format!("page_{name}_{w}x{h}"), text);
        }
    }
}

#[test]
fn wall_names_what_is_failing_in_words() {
    let state = incident_state();
    let text = snapshot::text(&render_with(&state, &wall_view(0), Theme::default(), 120, 40));
    assert!(text.contains("2 CRIT: checkout, payments"), "{text}");
    assert!(text.contains("1 WARN: search"), "{text}");
    assert!(text.contains("page 1/3 · overview"), "{text}");
}

/// The incident fleet plus a backup job 30 h old against 26 h allowed: counted, but on no
/// service row.
fn with_late_backup() -> State {
    let incident = incident_state();
    let job: opsboard::config::schema::BackupJob =
        toml::from_str("name = \"postgres base\"\nmax_age = \"26h\"\nglob = \"/var/backups/pg/*\"\n").unwrap();
    let loaded = common::fixtures::loaded();
    let mut state = State::with_backups(&loaded.fleet, &[job], 120, 3);
    state.services = incident.services;
    let sample = opsboard::state::backups::BackupSample {
        at: now(),
        error: None,
        newest: Some(now() - Duration::from_secs(30 * 3600)),
        size: Some(1 << 30),
        previous_size: None,
        what: "base.tar".into(),
    };
    let job = state.backups[0].job.name.as_str().into();
    state.apply(opsboard::state::Event::Backup { job, sample });
    state
}

/// The group `web-asg` (desired 3, min 2, max 6) with one in-service instance per health given.
fn web_asg(health: &[&str]) -> opsboard::state::aws::AsgSnapshot {
    let instance = |i: usize, health: &str| opsboard::state::aws::AsgInstance {
        id: format!("i-{}", i + 1),
        health: health.into(),
        lifecycle: "InService".into(),
        zone: "eu-west-1a".into(),
    };
    opsboard::state::aws::AsgSnapshot {
        name: "web-asg".into(),
        desired: 3,
        min: 2,
        max: 6,
        instances: health.iter().enumerate().map(|(i, h)| instance(i, h)).collect(),
    }
}

/// A fleet with every kind of panel: the incident services, an AWS account with a group below
/// desired, a late backup, two deploys.
fn every_panel_state() -> State {
    use opsboard::state::Event;
    use opsboard::state::aws::AwsEvent;
    let toml = format!(
        "{}\n[aws.prod]\nregion = \"eu-west-1\"\nasgs = [\"web-asg\"]\n\n[[backups]]\nname = \"postgres base\"\nmax_age = \"26h\"\nglob = \"/var/backups/pg/*\"\n",
        common::fixtures::FLEET
    );
    let loaded = opsboard::config::load_str("all.toml", &toml).unwrap();
    let mut state = State::with_backups(&loaded.fleet, &loaded.config.backups, 120, 3);
    state.services = incident_state().services;
    let late = with_late_backup();
    state.backups[0].samples = late.backups[0].samples.clone();
    let group = web_asg(&["Healthy", "Healthy"]);
    let at = now() - Duration::from_secs(30);
    state.apply(Event::Aws {
        account: state.aws[0].spec.name.as_str().into(),
        event: AwsEvent::Asgs { at, groups: vec![group] },
    });
    let log = r#"{"service":"checkout","version":"1.5.0","who":"ci","when":1763999000}
{"service":"web","version":"2.1.0","who":"alice","when":1763990000}"#;
    let entries = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    state.apply(Event::DeployLog { entries });
    state
}

#[test]
fn every_panel_is_on_the_overview_from_120x40_up() {
    let state = every_panel_state();
    for (w, h) in [(120, 40), (160, 45), (200, 60)] {
        let text = frame(&state, &View::default(), w, h);
        // Each panel's title, and a row of its own below it.
        for (title, row) in [
            (" health ", "checkout"),
            (" errors & latency ", "payments"),
            (" deploys ", "1.5.0"),
            (" backups ", "postgres base"),
            (" AWS ", "web-asg"),
        ] {
            let lines: Vec<&str> = text.lines().collect();
            let at = lines
                .iter()
                .position(|l| l.contains(title))
                .unwrap_or_else(|| panic!("{w}x{h}: no{title}panel\n{text}"));
            let panel_col = lines[at].find(title).unwrap();
            let below = lines[at + 2..].iter().take_while(|l| !l.get(panel_col..).unwrap_or("").starts_with('└'));
            assert!(below.clone().any(|l| l.contains(row)), "{w}x{h}: {title} shows no `{row}`\n{text}");
        }
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("every_panel_120x40", text);
        }
    }
    // At 80x24 what is failing comes first; the rest is behind its key.
    let small = frame(&state, &View::default(), 80, 24);
    assert!(small.contains(" health ") && small.contains(" backups "), "{small}");
    insta::assert_snapshot!("every_panel_80x24", small);
}

#[test]
fn every_red_the_counts_hold_is_named_on_the_wall_and_in_the_header() {
    let state = with_late_backup();
    let wall = snapshot::text(&render_with(&state, &wall_view(0), Theme::default(), 200, 60));
    // The big count and the names agree: 3 critical, and the three are named.
    assert!(wall.contains("3 CRIT: checkout, payments, backup postgres base"), "{wall}");
    assert!(wall.contains("6 services · 19 instances · 1 backup"), "{wall}");
    let board = frame(&state, &View::default(), 160, 45);
    let header = board.lines().next().unwrap();
    assert!(header.contains("✖ 3 CRIT"), "{header}");
    assert!(header.contains("✖ backup postgres base: 30h old > 26h allowed"), "{header}");
}

#[test]
fn wall_says_stale_when_nothing_has_answered() {
    let state = incident_state();
    let view = wall_view(0);
    let look = look(Theme::default());
    // Two minutes after the last answer, with 5s intervals, the board's data is stale.
    let later = now() + Duration::from_secs(120);
    let text = snapshot::text(&render_to_buffer(&Scene::new(&state, &view, &look, later), 120, 40));
    assert!(text.contains("STALE: no answer from the fleet for 2m"), "{text}");
    assert!(!text.contains("CRITICAL"), "a stale wall must not show an old verdict: {text}");
}

#[test]
fn wall_ignores_every_key_but_quit() {
    let state = incident_state();
    let mut view = wall_view(0);
    for a in [
        Action::Down,
        Action::Open,
        Action::ToggleHelp,
        Action::StartFilter,
        Action::ToggleCompact,
        Action::FilterChar('x'),
    ] {
        assert_eq!(view.handle(a, &state, now()), Outcome::Nothing);
    }
    assert_eq!((view.screen, view.help, view.filter.as_str(), view.selected), (Screen::Overview, false, "", None));
    let _ = view.handle(Action::NextPage, &state, now());
    assert_eq!(view.wall.as_ref().unwrap().current, 1);
    assert_eq!(view.handle(Action::Quit, &state, now()), Outcome::Quit);
}

#[test]
fn compact_view_fits_eighty_services_on_120x40() {
    let mut toml = String::from("[defaults]\ninterval = \"5s\"\n");
    for i in 0..90 {
        toml.push_str(&format!(
            "[services.svc-{i:02}]\ninstances = [\"http://10.1.{}.{}:80\"]\n",
            i / 200,
            i % 200 + 1
        ));
    }
    let loaded = opsboard::config::load_str("many.toml", &toml).unwrap();
    let state = State::new(&loaded.fleet, 10, 3);
    let view = view_after(&state, &[Action::ToggleCompact]);
    let text = snapshot::text(&render_with(&state, &view, Theme::default(), 120, 40));
    let shown = (0..90).filter(|i| text.contains(&format!("svc-{i:02}"))).count();
    assert!(shown >= 80, "{shown} of 90 services shown:\n{text}");
}

/// A fleet of 2,000 services: the health table builds only the rows that fit, and the window
/// follows the selection as a scrolled table would.
#[test]
fn a_large_fleet_shows_the_window_around_the_selection() {
    let mut toml = String::from("[defaults]\ninterval = \"5s\"\n");
    for i in 0..2000 {
        toml.push_str(&format!("[services.svc-{i:04}]\ninstances = [\"http://10.{}.{}.1:80\"]\n", i / 200, i % 200));
    }
    let loaded = opsboard::config::load_str("many.toml", &toml).unwrap();
    let state = State::new(&loaded.fleet, 10, 3);
    // The health panel is the left half of the overview.
    let health = |view: &View| {
        let text = snapshot::text(&render_with(&state, view, Theme::default(), 160, 45));
        text.lines().map(|l| l.chars().take(80).collect::<String>()).collect::<Vec<_>>().join("\n")
    };
    let top = health(&view_after(&state, &[Action::Down]));
    assert!(top.contains("svc-0000") && top.contains("svc-0001") && !top.contains("svc-1999"), "{top}");
    let text = health(&view_after(&state, &[Action::Bottom]));
    assert!(text.contains("svc-1999") && !text.contains("svc-0000"), "{text}");
    assert!(text.contains("health · 2000 services"), "{text}");
    // One above the bottom: the selection is still in view, the window as long.
    let moved = health(&view_after(&state, &[Action::Bottom, Action::Up]));
    let rows = |t: &str| t.lines().filter(|l| l.contains("svc-")).map(|l| l.to_string()).collect::<Vec<_>>();
    assert_eq!(rows(&text).len(), rows(&moved).len());
    assert!(rows(&moved).iter().any(|r| r.contains("svc-1998")), "{moved}");
}

#[test]
fn every_theme_keeps_every_state_apart() {
    let state = incident_state();
    for (name, _) in opsboard::ui::theme::BUILTIN {
        let theme = Theme::builtin(name).unwrap();
        let buf = render_with(&state, &View::default(), theme, 120, 40);
        // Each state's word is drawn, and no two states share both symbol and style.
        let text = snapshot::text(&buf);
        for word in ["CRIT", "WARN", "STALE", "UNKNOWN", "OK"] {
            assert!(text.contains(word), "{name}: {word} missing");
        }
        let styles: Vec<ratatui::style::Style> =
            opsboard::state::Status::ALL.iter().map(|s| theme.status(*s)).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                if !theme.monochrome {
                    assert_ne!(a, b, "{name}: two states share a style");
                }
            }
        }
        insta::assert_snapshot!(
            format!("theme_{name}"),
            snapshot::ansi(&render_with(&state, &View::default(), theme, 80, 24))
        );
    }
}

#[test]
fn no_color_output_has_no_colour_escapes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsboard"))
        .args(["snapshot", "--demo", "--format", "ansi", "--size", "100x30"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ansi = String::from_utf8_lossy(&out.stdout);
    assert!(ansi.contains("web-frontend"), "{ansi}");
    for code in ansi.split("\x1b[").skip(1) {
        let params = code.split('m').next().unwrap_or("");
        for p in params.split(';') {
            let n: u32 = p.parse().unwrap_or(0);
            assert!(!(30..=49).contains(&n) && !(90..=107).contains(&n), "colour escape `{params}` under NO_COLOR");
        }
    }
}

#[test]
fn svg_output_is_well_formed_xml() {
    let state = incident_state();
    for (w, h) in SIZES {
        let svg = snapshot::svg(&render_with(&state, &View::default(), Theme::default(), w, h));
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(doc.descendants().filter(|n| n.has_tag_name("text")).count() > 10);
    }
}

#[test]
fn aws_panel_shows_groups_metrics_and_a_banner_when_blind() {
    use opsboard::state::Event;
    use opsboard::state::aws::AwsEvent;
    let toml = format!(
        "{}\n[aws.prod]\nregion = \"eu-west-1\"\nasgs = [\"web-asg\"]\n[[aws.prod.metrics]]\npreset = \"rds\"\ndb_instance = \"orders\"\n",
        common::fixtures::FLEET
    );
    let loaded = opsboard::config::load_str("aws.toml", &toml).unwrap();
    let mut state = State::new(&loaded.fleet, 10, 3);
    let group = web_asg(&["Healthy", "Healthy", "Unhealthy"]);
    let at = now() - Duration::from_secs(30);
    state.apply(Event::Aws {
        account: state.aws[0].spec.name.as_str().into(),
        event: AwsEvent::Asgs { at, groups: vec![group] },
    });
    state.apply(Event::Aws {
        account: state.aws[0].spec.name.as_str().into(),
        event: AwsEvent::Metrics { at, values: vec![(1, vec![(at, 57.0)])] },
    });
    state
        .apply(Event::Aws { account: state.aws[0].spec.name.as_str().into(), event: AwsEvent::Calls { at, count: 4 } });
    state.apply(Event::Aws {
        account: state.aws[0].spec.name.as_str().into(),
        event: AwsEvent::Failed {
            at: now(),
            error: "AWS credentials expired: refresh them (e.g. aws sso login)".into(),
        },
    });
    let text = snapshot::text(&render_with(&state, &View::default(), Theme::default(), 160, 45));
    assert!(text.contains("prod · eu-west-1 · 4 API calls/min"), "{text}");
    assert!(text.contains("can't see: AWS credentials expired"), "{text}");
    assert!(text.contains("2/3 in service") && text.contains("unhealthy: i-3"), "{text}");
    assert!(text.contains("orders connections") && text.contains("57"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn with_no_earlier_version_known_the_rollback_asks_for_one_then_the_name() {
    let state = incident_state();
    let search = state.services.iter().position(|s| &*s.name == "search").unwrap();
    let config: opsboard::config::schema::ActionConfig =
        toml::from_str("command = \"deploy {service} {version}\"\nkey = \"R\"\nneeds_version = true\n").unwrap();
    let mut view = View { selected: Some(search), ..View::default() };
    view.actions.specs.insert("rollback".into(), config);
    let _ = view.handle(Action::ActionKey('R'), &state, now());
    let d = view.dialog.as_ref().expect("the dialog opens though no earlier version was seen");
    assert!(d.entering_version && d.versions.is_empty());
    let text = frame(&state, &view, 120, 40);
    assert!(text.contains("no earlier version seen: type one"), "{text}");
    // An empty version is refused; a typed one moves on to the name.
    let _ = view.handle(Action::DialogConfirm, &state, now());
    assert!(view.dialog.as_ref().unwrap().entering_version);
    for c in "1.4.1".chars() {
        let _ = view.handle(Action::DialogChar(c), &state, now());
    }
    let _ = view.handle(Action::DialogConfirm, &state, now());
    for c in "search".chars() {
        let _ = view.handle(Action::DialogChar(c), &state, now());
    }
    match view.handle(Action::DialogConfirm, &state, now()) {
        Outcome::Run(req) => {
            assert_eq!(req.command, "deploy search 1.4.1");
            assert_eq!(req.to_version.as_deref(), Some("1.4.1"));
        }
        _ => panic!("the rollback should run"),
    }
}

#[test]
fn the_silence_dialog_and_a_muted_row() {
    let mut state = incident_state();
    let view = view_after(&state, &[Action::Silence, Action::DialogNextVersion, Action::DialogChar('x')]);
    let screen = frame(&state, &view, 120, 40);
    assert!(screen.contains("silence · checkout"), "{screen}");
    assert!(screen.contains("◀ 4h ▶") && screen.contains("reason   x"), "{screen}");
    assert!(screen.contains("only its notifications are muted"), "{screen}");
    let silence = opsboard::state::silences::Silence::new(
        "service checkout",
        Some(Duration::from_secs(3600)),
        "deploy in progress",
        "ana",
        "bastion",
        now(),
    );
    state.silences.list.push(silence);
    let screen = frame(&state, &View::default(), 120, 40);
    let row = screen.lines().find(|l| l.contains("checkout")).unwrap();
    assert!(row.contains("CRIT") && row.contains("🔇 until") && row.contains("deploy in progress"), "{row}");
    let mut ro = View { read_only: true, ..View::default() };
    assert_eq!(ro.handle(Action::Silence, &state, now()), Outcome::Nothing);
    assert!(ro.silencing.is_none() && ro.flash.as_deref().is_some_and(|f| f.contains("read-only")));
}

#[test]
fn taking_a_failing_service_and_who_is_on_it_on_the_row_the_detail_and_the_wall() {
    let mut state = incident_state();
    let view = view_after(&state, &[Action::Take, Action::DialogChar('d'), Action::DialogChar('b')]);
    let screen = frame(&state, &view, 120, 40);
    assert!(
        screen.contains("take · checkout") && screen.contains("take it") && screen.contains("note     db"),
        "{screen}"
    );
    let mut taking = view.clone();
    match taking.handle(Action::DialogConfirm, &state, now()) {
        Outcome::Mark(opsboard::notify::marks::Marking::Take(c)) => {
            assert_eq!((c.item.as_str(), c.note.as_str(), c.hand_back), ("service checkout", "db", false));
        }
        other => panic!("{other:?}"),
    }
    let taking =
        opsboard::state::taken::Taking::new("service checkout", "alice", "bastion", "looking at the DB", now());
    state.taken.list.push(taking);
    let screen = frame(&state, &View::default(), 120, 40);
    let row = screen.lines().find(|l| l.contains("checkout")).unwrap();
    assert!(row.contains("CRIT") && row.contains("taken by alice"), "{row}");
    let detail = view_after(&state, &[Action::Open]);
    let screen = frame(&state, &detail, 120, 40);
    assert!(screen.contains("taken by alice") && screen.contains("— looking at the DB"), "{screen}");
    let screen = frame(&state, &wall_view(0), 160, 45);
    assert!(screen.contains("taken by alice"), "the wall says who is on it:\n{screen}");
    // Taken: the dialog offers it back.
    let back = view_after(&state, &[Action::Take, Action::DialogNextVersion]);
    assert!(frame(&state, &back, 120, 40).contains("hand it back"));
    // An OK service has nothing to take; a read-only board takes nothing.
    let mut ro = View { read_only: true, ..View::default() };
    assert_eq!(ro.handle(Action::Take, &state, now()), Outcome::Nothing);
    assert!(ro.taking.is_none() && ro.flash.as_deref().is_some_and(|f| f.contains("taking incidents is off")));
}

#[test]
fn a_status_page_note_is_for_a_component_and_a_service_off_the_page_says_so() {
    let mut state = incident_state();
    let mut off = View::default();
    assert_eq!(off.handle(Action::Note, &state, now()), Outcome::Nothing);
    assert!(off.flash.as_deref().is_some_and(|f| f.contains("is not on the status page")), "{:?}", off.flash);
    state.components =
        vec![opsboard::config::schema::StatusComponent { name: "Checkout".into(), services: vec!["checkout".into()] }];
    let mut view = view_after(&state, &[Action::Note]);
    assert!(frame(&state, &view, 120, 40).contains("status page · Checkout"));
    assert_eq!(view.handle(Action::DialogConfirm, &state, now()), Outcome::Nothing, "an empty note is not posted");
    for c in "slow".chars() {
        view.handle(Action::DialogChar(c), &state, now());
    }
    match view.handle(Action::DialogConfirm, &state, now()) {
        Outcome::Mark(opsboard::notify::marks::Marking::Note(n)) => {
            assert_eq!((n.component.as_str(), n.text.as_str()), ("Checkout", "slow"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_snapshot_writes_the_same_frame_to_each_out_in_the_format_its_name_asks() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, txt) = (dir.path().join("frame.svg"), dir.path().join("frame.txt"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsboard"))
        .args(["snapshot", "--demo", "--size", "100x30", "--out"])
        .arg(&svg)
        .arg("--out")
        .arg(&txt)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "with --out nothing goes to standard output");
    let text = std::fs::read_to_string(&txt).unwrap();
    assert!(text.contains("web-frontend") && !text.contains("<svg"), "{text}");
    // The picture's rows, their characters without spaces, are the text's: one frame, not two
    // captures of a live demo a moment apart.
    let svg = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let mut rows: std::collections::BTreeMap<u64, String> = Default::default();
    for node in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let y: f64 = node.attribute("y").unwrap().parse().unwrap();
        rows.entry((y * 100.0) as u64).or_default().push_str(node.text().unwrap_or(""));
    }
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let pictured: Vec<String> = rows.values().map(|r| squeeze(r)).collect();
    let written: Vec<String> = text.lines().map(squeeze).filter(|l| !l.is_empty()).collect();
    assert_eq!(pictured, written);
}

#[test]
fn text_too_long_for_its_column_ends_in_an_ellipsis() {
    let mut state = with_late_backup();
    let long = "payments-settlement-reconciliation-worker";
    let si = state.services.iter().position(|s| &*s.name == "payments").unwrap();
    state.services[si].name = long.into();
    let text = frame(&state, &View::default(), 80, 24);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("payments-set")).collect();
    // The health and the errors panel both show the service, each cutting its name to a
    // quarter of the row, so the reason keeps its room.
    assert_eq!(rows.len(), 2, "{text}");
    for row in &rows {
        assert!(!row.contains(long), "a name longer than its column is cut: {row}");
        assert!(row.contains("payments-settlement…"), "and says so: {row}");
    }
    // The reason keeps most of its room, and what does not fit ends in … at the border.
    assert!(rows[0].trim_end().ends_with("HTTP 503 status…│"), "{}", rows[0]);
}

#[test]
fn a_long_instance_name_is_cut_with_an_ellipsis_in_the_detail_screen() {
    let mut state = incident_state();
    let long = "ip-10-0-2-1.eu-west-1.compute.internal:8080";
    let si = state.services.iter().position(|s| &*s.name == "checkout").unwrap();
    state.services[si].instances[0].spec.label = long.into();
    let view = view_after(&state, &[Action::Open]);
    assert_eq!(view.screen, Screen::Detail);
    let text = frame(&state, &view, 80, 24);
    // The table's row is cut and says so; the selected instance's history names it whole.
    let row = text.lines().find(|l| l.contains("✔ OK      ip-10-0-2-1.")).expect("the instance's row");
    assert!(row.contains("ip-10-0-2-1.eu…") && !row.contains(long), "{row}");
    assert!(text.lines().any(|l| l.contains(&format!("{long} · last results"))), "{text}");
}

#[test]
fn the_load_balancer_s_view_is_a_column_and_the_selected_row_s_line() {
    use opsboard::state::{LbView, Life, ViewBy};
    let mut state = incident_state();
    let si = state.services.iter().position(|s| &*s.name == "checkout").unwrap();
    let lb = |s: &str, reason: Option<&str>| LbView {
        by: ViewBy::LoadBalancer,
        state: s.into(),
        reason: reason.map(Into::into),
    };
    let instances = &mut state.services[si].instances;
    for i in instances.iter_mut() {
        i.lb = Some(lb("healthy", None));
    }
    instances[0].lb = Some(lb("draining", Some("Target.DeregistrationInProgress")));
    instances[0].life = Life::Draining;
    let view = view_after(&state, &[Action::Open]);
    let text = frame(&state, &view, 80, 24);
    let header = text.lines().find(|l| l.contains("STATE") && l.contains("INSTANCE")).unwrap();
    assert!(header.contains("INSTANCE") && header.contains(" LB "), "{header}");
    let row = text.lines().find(|l| l.contains("10.0.2.1:8080") && !l.contains("last results")).unwrap();
    assert!(row.contains(" DRAINING") && row.contains("draining"), "{row}");
    assert!(text.lines().any(|l| l.contains("10.0.2.2:8080") && l.contains("healthy")), "{text}");
    // The selected row's history names the load balancer's reason code in full.
    assert!(text.lines().any(|l| l.contains("load balancer: draining (Target.DeregistrationInProgress)")), "{text}");
    // A service none of whose instances has such a view has no such column.
    let plain = frame(&incident_state(), &view, 80, 24);
    assert!(!plain.lines().any(|l| l.contains("STATE") && l.contains(" LB ")), "{plain}");
}

#[test]
fn hosts_are_columns_and_a_full_disk_is_the_reason() {
    use opsboard::metrics::host::{Filesystem, HostSample};
    let mut state = incident_state();
    let si = state.services.iter().position(|s| &*s.name == "checkout").unwrap();
    let check = state.services[si].check.clone();
    let gib = 1024.0 * 1024.0 * 1024.0;
    let sample = |idle: f64, total: f64, avail: f64| HostSample {
        cpu_idle: idle,
        cpu_total: total,
        cpus: 2,
        mem_total: Some(16.0 * gib),
        mem_available: Some(8.0 * gib),
        fullest: Some(Filesystem { mountpoint: "/var".into(), size: 200.0 * gib, avail }),
        load1: Some(0.5),
    };
    for (n, inst) in state.services[si].instances.iter_mut().enumerate() {
        let avail = if n == 0 { 6.0 * gib } else { 120.0 * gib };
        let early = now() - Duration::from_secs(40);
        inst.host.apply(early, sample(100.0, 200.0, avail), &check.hosts, &check.thresholds, false);
        inst.host.apply(now(), sample(160.0, 280.0, avail), &check.hosts, &check.thresholds, false);
    }
    let view = view_after(&state, &[Action::Open]);
    let text = frame(&state, &view, 80, 24);
    let header = text.lines().find(|l| l.contains("STATE") && l.contains("INSTANCE")).unwrap();
    for column in ["CPU", "MEM", "DISK", "LOAD", "REASON"] {
        assert!(header.contains(column), "{header}");
    }
    // 80 columns: the trend and the version make room.
    assert!(!header.contains("TREND") && !header.contains("VERSION"), "{header}");
    let row = text.lines().find(|l| l.contains("10.0.2.1:8080") && !l.contains("last results")).unwrap();
    // 20 of 80 CPU-seconds idle: 25% busy; half the memory; 97% of the disk.
    assert!(row.contains(" 25% ") && row.contains(" 50% ") && row.contains(" 97% ") && row.contains("0.50"), "{row}");
    assert!(row.contains("disk /var 97"), "{row}");
    // The selected row's numbers in full above its results.
    let line = "host: cpu 25% · memory 50% · disk /var 97% (6.0G left) · load 0.50 on 2 CPUs";
    assert!(text.lines().any(|l| l.contains(line)), "{text}");
    let wide = frame(&state, &view, 160, 45);
    let header = wide.lines().find(|l| l.contains("STATE") && l.contains("INSTANCE")).unwrap();
    assert!(header.contains("TREND") && header.contains("VERSION") && header.contains("DISK"), "{header}");
    // None without a node exporter.
    let plain = frame(&incident_state(), &view, 80, 24);
    assert!(!plain.lines().any(|l| l.contains("STATE") && l.contains(" DISK ")), "{plain}");
}

/// The wall's errors page with few services fills the room with a tile each (the headline
/// numbers, the error rate in large type, trends across the tile); with many, the table.
#[test]
fn the_wall_s_errors_page_is_tiles_for_few_services_and_the_table_for_many() {
    let state = incident_state();
    let text = snapshot::text(&render_with(&state, &wall_view(2), Theme::default(), 160, 45));
    for svc in &state.services {
        assert!(text.contains(&format!("┌ {} ─", svc.name)), "no tile for {}:\n{text}", svc.name);
    }
    assert!(text.contains("23% errors · 60.0 req/s · p95 850ms"), "{text}");
    assert!(!text.contains("STATE     SERVICE"), "the table is not drawn under the tiles:\n{text}");
    // The payments tile's rate in large type: rows of block cells under its numbers.
    let big_rows = text.lines().filter(|l| l.starts_with('│') && l.contains("██")).count();
    assert!(big_rows >= 4, "{text}");

    let mut toml = String::from("[defaults]\ninterval = \"5s\"\n");
    for i in 0..40 {
        toml.push_str(&format!("[services.svc-{i:02}]\ninstances = [\"http://10.1.0.{}:80\"]\n", i + 1));
    }
    let loaded = opsboard::config::load_str("many.toml", &toml).unwrap();
    let many = State::new(&loaded.fleet, 10, 3);
    let text = snapshot::text(&render_with(&many, &wall_view(2), Theme::default(), 160, 45));
    assert!(text.contains("STATE     SERVICE"), "40 services are a table:\n{text}");
    assert!(!text.contains("┌ svc-00 ─"), "{text}");
}

/// The wall's health page too: a tile per service with its instances up in large type and each
/// instance's state; with many services, the table.
#[test]
fn the_wall_s_health_page_is_tiles_for_few_services_and_the_table_for_many() {
    let state = incident_state();
    let text = snapshot::text(&render_with(&state, &wall_view(1), Theme::default(), 160, 45));
    for svc in &state.services {
        assert!(text.contains(&format!("┌ {} ─", svc.name)), "no tile for {}:\n{text}", svc.name);
    }
    assert!(text.contains("instances up"), "{text}");
    assert!(!text.contains("STATE     SERVICE"), "the table is not drawn under the tiles:\n{text}");
    let mut toml = String::from("[defaults]\ninterval = \"5s\"\n");
    for i in 0..40 {
        toml.push_str(&format!("[services.svc-{i:02}]\ninstances = [\"http://10.1.0.{}:80\"]\n", i + 1));
    }
    let loaded = opsboard::config::load_str("many.toml", &toml).unwrap();
    let many = State::new(&loaded.fleet, 10, 3);
    let text = snapshot::text(&render_with(&many, &wall_view(1), Theme::default(), 160, 45));
    assert!(text.contains("STATE     SERVICE"), "40 services are a table:\n{text}");
}
