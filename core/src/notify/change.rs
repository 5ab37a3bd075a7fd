//! What changed: every counted item's state, remembered with when it began, and the changes as
//! words a person reads in a chat or a desktop notification.

use crate::format;
use crate::state::{Kind, State, Status, Verdicts};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// One item's state as the board judges it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub kind: &'static str,
    pub name: String,
    /// The service's environment; none for other kinds.
    pub env: Option<String>,
    pub status: Status,
    pub reason: String,
    /// What it is blocked by now (`orders-db`): while blocked its failure is not sent.
    pub blocked_by: Vec<String>,
    /// How long a new failure waits for a cause to be seen before it is sent on its own.
    pub wait: Duration,
    /// The services blocked by it, when it is a cause.
    pub behind: Vec<String>,
    /// Inside a maintenance window: nothing about it is sent.
    pub maintenance: bool,
    /// When its state comes from its error budget's alert alone: which alert, and the state
    /// it would have without it (for destinations that do not take that alert).
    pub budget: Option<(crate::state::budget::Alert, Status)>,
}

impl Observed {
    pub fn new(kind: &'static str, name: String, env: Option<String>, status: Status, reason: String) -> Self {
        let (blocked_by, behind) = (Vec::new(), Vec::new());
        let wait = Duration::ZERO;
        Self { kind, name, env, status, reason, blocked_by, wait, behind, maintenance: false, budget: None }
    }

    /// `service payments`, `asg web-asg`: unique across kinds.
    pub fn key(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// The items of one moment's verdicts; accounts the board sees count as OK.
pub fn observe_items(state: &State, verdicts: &Verdicts) -> Vec<Observed> {
    // A service with no `env` is in the implicit "default" one: not worth a word.
    let envs: HashMap<&str, &str> =
        state.services.iter().filter(|s| s.env.name != "default").map(|s| (&*s.name, s.env.name.as_str())).collect();
    let waits: HashMap<&str, Duration> =
        (state.services.iter()).filter(|s| !s.depends_on.is_empty()).map(|s| (&*s.name, s.dependency_wait)).collect();
    let mut out: Vec<Observed> = verdicts
        .items
        .iter()
        .map(|item| {
            let (kind, name, env) = match item.kind {
                Kind::Service => {
                    let env = envs.get(item.name.as_str()).map(|e| e.to_string());
                    ("service", item.name.clone(), env)
                }
                Kind::Asg => ("asg", item.name.trim_start_matches("asg ").to_string(), None),
                Kind::Backup => ("backup", item.name.trim_start_matches("backup ").to_string(), None),
                Kind::Account => ("aws", item.name.trim_start_matches("aws ").to_string(), None),
                Kind::Queue => ("queue", item.name.trim_start_matches("queue ").to_string(), None),
                Kind::Database => ("database", item.name.trim_start_matches("database ").to_string(), None),
            };
            let mut o = Observed::new(kind, name, env, item.verdict.status, item.verdict.reason.clone());
            if item.kind == Kind::Service {
                o.wait = waits.get(item.name.as_str()).copied().unwrap_or_default();
            }
            o.blocked_by = item.blocked_by.clone();
            o.maintenance = item.maintenance;
            o.budget = item.budget;
            o.behind = (verdicts.blocking.causes.iter())
                .find(|c| c.name == item.name)
                .map(|c| c.behind.clone())
                .unwrap_or_default();
            o
        })
        .collect();
    // A blind account is counted only while blind: one seen again is OK.
    for account in &state.aws {
        if !out.iter().any(|o| o.kind == "aws" && o.name == account.spec.name) {
            out.push(Observed::new("aws", account.spec.name.clone(), None, Status::Ok, String::new()));
        }
    }
    out
}

/// The board itself: stale when nothing has answered for long.
pub fn observe_board(state: &State, now: SystemTime, started: SystemTime) -> Observed {
    let stale = state.board_staleness(now, started);
    Observed::new(
        "board",
        "the fleet".into(),
        None,
        if stale.is_some() { Status::Stale } else { Status::Ok },
        stale.map(|age| format!("no instance has answered for {}", format::elapsed(age))).unwrap_or_default(),
    )
}

/// An item's state and since when.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub now: Observed,
    pub since: SystemTime,
    /// The state before this one, and how long it lasted.
    pub before: Option<(Status, Duration)>,
}

/// Every item's state with memory of when it began. Unknown states are not remembered: an item
/// not yet checked keeps what it had.
#[derive(Debug, Default)]
pub struct Tracker {
    items: HashMap<String, Tracked>,
    order: Vec<String>,
}

impl Tracker {
    pub fn update(&mut self, observed: Vec<Observed>, now: SystemTime) {
        for o in observed.into_iter().filter(|o| o.status != Status::Unknown) {
            let key = o.key();
            match self.items.get_mut(&key) {
                Some(t) if t.now.status == o.status => t.now = o,
                Some(t) => {
                    let held = now.duration_since(t.since).unwrap_or_default();
                    t.before = Some((t.now.status, held));
                    t.now = o;
                    t.since = now;
                }
                None => {
                    self.order.push(key.clone());
                    self.items.insert(key, Tracked { now: o, since: now, before: None });
                }
            }
        }
    }

    /// Items in the order they were first seen.
    pub fn items(&self) -> impl Iterator<Item = (&str, &Tracked)> {
        self.order.iter().filter_map(|k| self.items.get(k).map(|t| (k.as_str(), t)))
    }

    pub fn get(&self, key: &str) -> Option<&Tracked> {
        self.items.get(key)
    }
}

/// One change a notification reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Change {
    pub kind: &'static str,
    pub name: String,
    pub env: Option<String>,
    /// The state now and the one last reported (`ok` for a first report).
    pub state: Status,
    pub previous: Status,
    pub reason: String,
    /// Seconds the item spent in its previous state, when known.
    pub previous_for_s: Option<u64>,
    /// Who is on it, when someone took it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken: Option<crate::state::taken::Taking>,
    /// A reminder (`repeat`): nothing changed, and the item has been in its state this many
    /// seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder_after_s: Option<u64>,
    /// The services blocked by this one, when it is a cause: they send nothing of their own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behind: Vec<String>,
}

impl Change {
    pub fn flapping(&self) -> bool {
        self.reason.starts_with("flapping")
    }

    /// "✖ payments CRIT: 2/3 instances refusing connections", "✔ payments OK after 4m 10s",
    /// "✖ payments CRIT: HTTP 503 · taken by alice — looking at the DB".
    pub fn line(&self) -> String {
        let line = self.bare_line();
        match &self.taken {
            Some(t) if self.kind != TAKEN && self.kind != HANDED_BACK => format!("{line} · {}", taker(t)),
            _ => line,
        }
    }

    fn bare_line(&self) -> String {
        let who = match self.kind {
            "service" | "board" | TAKEN | HANDED_BACK => self.name.clone(),
            kind => format!("{kind} {}", self.name),
        };
        let env = self.env.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
        match self.kind {
            "instances" => return format!("ℹ {}{env}: {}", self.name, self.reason),
            TAKEN => {
                let by = self.taken.as_ref().map(taker).unwrap_or_else(|| "taken".into());
                return format!("☝ {who}{env} {} {by}", self.state.word());
            }
            HANDED_BACK => return format!("☝ {who}{env} {}: {}", self.state.word(), self.reason),
            _ => {}
        }
        if let Some(after) = self.reminder_after_s {
            let reason = if self.reason.is_empty() { String::new() } else { format!(": {}", self.reason) };
            let symbol = if self.state == Status::Crit { "✖" } else { "▲" };
            let held = format::elapsed(Duration::from_secs(after));
            return format!("{symbol} {who}{env} still {} after {held}{reason}", self.state.word());
        }
        match self.state {
            Status::Ok => {
                let after = self
                    .previous_for_s
                    .map(|s| format!(" after {}", format::elapsed(Duration::from_secs(s))))
                    .unwrap_or_default();
                let was = if self.previous_for_s.is_some() {
                    format!(" (was {})", self.previous.word())
                } else {
                    String::new()
                };
                format!("✔ {who}{env} OK{after}{was}")
            }
            _ if self.flapping() => format!("〰 {who}{env} {}", self.reason),
            s => {
                let symbol = if s == Status::Crit { "✖" } else { "▲" };
                let reason = if self.reason.is_empty() { String::new() } else { format!(": {}", self.reason) };
                format!("{symbol} {who}{env} {}{reason}{}", s.word(), behind(&self.behind))
            }
        }
    }
}

/// The headline of changes that go out together: the one line, or "3 services CRIT: a, b, c".
pub fn title(changes: &[Change]) -> String {
    match changes {
        [] => String::new(),
        [one] => one.line(),
        many => {
            let worst = many.iter().map(|c| c.state).max().unwrap_or_default();
            let same: Vec<&Change> = many.iter().filter(|c| c.state == worst).collect();
            let names: Vec<&str> = same.iter().map(|c| c.name.as_str()).collect();
            let noun = if same.iter().all(|c| c.kind == "service") { "services" } else { "items" };
            let head = if same.len() == 1 {
                same[0].line()
            } else {
                format!("{} {} {noun} {}: {}", symbol(worst), same.len(), worst.word(), names.join(", "))
            };
            let rest = many.len() - same.len();
            if rest == 0 { head } else { format!("{head} (+{rest} more)") }
        }
    }
}

/// ` — 4 services behind it: web, api, cart, search`.
fn behind(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(" — {one} is behind it"),
        many => format!(" — {} services behind it: {}", many.len(), many.join(", ")),
    }
}

/// The kinds of notice about people on an item: taken, handed back while still failing.
pub const TAKEN: &str = "taken";
pub const HANDED_BACK: &str = "handed back";

/// "taken by alice — looking at the DB".
fn taker(t: &crate::state::taken::Taking) -> String {
    if t.note.is_empty() { t.short() } else { format!("{} — {}", t.short(), t.note) }
}

fn symbol(s: Status) -> &'static str {
    match s {
        Status::Ok => "✔",
        Status::Crit => "✖",
        _ => "▲",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, state: Status, reason: &str) -> Change {
        Change {
            kind: "service",
            name: name.into(),
            env: Some("prod".into()),
            state,
            previous: Status::Ok,
            reason: reason.into(),
            previous_for_s: None,
            ..Default::default()
        }
    }

    #[test]
    fn lines_and_titles_read_as_words() {
        let crit = change("payments", Status::Crit, "2/3 instances refusing connections");
        assert_eq!(crit.line(), "✖ payments (prod) CRIT: 2/3 instances refusing connections");
        let ok = Change { state: Status::Ok, previous: Status::Crit, previous_for_s: Some(250), ..crit.clone() };
        assert_eq!(ok.line(), "✔ payments (prod) OK after 4m 10s (was CRIT)");
        let many = [crit.clone(), change("auth", Status::Crit, "x"), change("search", Status::Crit, "y")];
        assert_eq!(title(&many), "✖ 3 services CRIT: payments, auth, search");
        let flap = change("web", Status::Warn, "flapping between OK and CRIT (6 changes in 21 checks)");
        assert_eq!(flap.line(), "〰 web (prod) flapping between OK and CRIT (6 changes in 21 checks)");
        let alice = crate::state::taken::Taking::new("service payments", "alice", "b", "the DB", SystemTime::now());
        let taken = Change { taken: Some(alice.clone()), ..crit.clone() };
        assert_eq!(
            taken.line(),
            "✖ payments (prod) CRIT: 2/3 instances refusing connections · taken by alice — the DB"
        );
        let notice = Change { kind: TAKEN, taken: Some(alice), ..crit.clone() };
        assert_eq!(notice.line(), "☝ payments (prod) CRIT taken by alice — the DB");
        let cause = Change { behind: vec!["web".into(), "api".into()], ..crit.clone() };
        assert_eq!(
            cause.line(),
            "✖ payments (prod) CRIT: 2/3 instances refusing connections — 2 services behind it: web, api"
        );
        let reminder = Change { reminder_after_s: Some(1800), ..crit };
        assert_eq!(reminder.line(), "✖ payments (prod) still CRIT after 30m 0s: 2/3 instances refusing connections");
    }
}
