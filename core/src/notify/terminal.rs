//! Notifications through the terminal itself: the bell, and a desktop notification as OSC 777
//! (`notify`: foot, VTE terminals, rxvt, WezTerm) or OSC 9 (iTerm2, kitty, WezTerm, Windows
//! Terminal, ghostty). Inside tmux each is wrapped for tmux's passthrough (which needs
//! `set -g allow-passthrough on`).

/// Which desktop-notification sequence the terminal understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Osc {
    /// `ESC ] 777 ; notify ; title ; body ST`
    Notify777,
    /// `ESC ] 9 ; text ST`
    Nine,
}

impl Osc {
    /// From the terminal's own environment: VTE, foot and rxvt speak 777; the rest take 9.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let term = env("TERM").unwrap_or_default();
        if env("VTE_VERSION").is_some() || term.starts_with("foot") || term.starts_with("rxvt") {
            Osc::Notify777
        } else {
            Osc::Nine
        }
    }
}

/// Text safe inside an OSC string: no control characters, and no `;` in a 777 field.
fn clean(s: &str, semicolons: bool) -> String {
    s.chars().filter(|c| !c.is_control()).map(|c| if c == ';' && !semicolons { ',' } else { c }).collect()
}

/// The notification as the terminal's sequence, wrapped for tmux when `tmux` is set.
pub fn notification(osc: Osc, title: &str, body: &str, tmux: bool) -> String {
    let seq = match osc {
        Osc::Notify777 => format!("\x1b]777;notify;{};{}\x1b\\", clean(title, false), clean(body, true)),
        Osc::Nine => {
            let text = if body.is_empty() { title.to_string() } else { format!("{title}: {body}") };
            format!("\x1b]9;{}\x1b\\", clean(&text, true))
        }
    };
    if tmux { passthrough(&seq) } else { seq }
}

/// tmux's passthrough: `ESC P tmux; <sequence with each ESC doubled> ESC \`.
pub fn passthrough(seq: &str) -> String {
    format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
}

pub const BELL: &str = "\x07";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_for_each_terminal_and_for_tmux() {
        assert_eq!(
            notification(Osc::Notify777, "opsboard; prod", "✖ payments CRIT: a;b", false),
            "\x1b]777;notify;opsboard, prod;✖ payments CRIT: a;b\x1b\\"
        );
        assert_eq!(notification(Osc::Nine, "opsboard", "x\x07y", false), "\x1b]9;opsboard: xy\x1b\\");
        assert_eq!(notification(Osc::Nine, "t", "b", true), "\x1bPtmux;\x1b\x1b]9;t: b\x1b\x1b\\\x1b\\");
        let env = |k: &str| (k == "TERM").then(|| "foot".to_string());
        assert_eq!(Osc::detect(&env), Osc::Notify777);
        assert_eq!(Osc::detect(&|_| None), Osc::Nine);
    }
}

/// The terminal's own notifications: the bell and the desktop notification, each with its policy.
#[derive(Debug)]
pub struct Alerts {
    bell: Option<super::policy::Outbox>,
    desktop: Option<super::policy::Outbox>,
    osc: Osc,
    tmux: bool,
    title: String,
}

/// The terminal does not ring for the same item more often than this.
const TERMINAL_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(60);

impl Alerts {
    pub fn new(board: &crate::config::schema::Board, env: &dyn Fn(&str) -> Option<String>) -> Self {
        use crate::config::schema::Bell;
        use crate::state::Status;
        let outbox = |min: Status| {
            super::policy::Outbox::new(super::policy::Policy {
                min_state: min,
                info: false,
                services: vec![],
                envs: vec![],
                cooldown: TERMINAL_COOLDOWN,
                group_wait: std::time::Duration::ZERO,
                repeat: None,
                budget_alerts: vec![crate::state::budget::Alert::Page, crate::state::budget::Alert::Ticket],
            })
        };
        Self {
            bell: match board.bell {
                Bell::Off => None,
                Bell::Warn => Some(outbox(Status::Warn)),
                Bell::Crit => Some(outbox(Status::Crit)),
            },
            desktop: board.notify.then(|| outbox(Status::Warn)),
            osc: Osc::detect(env),
            tmux: env("TMUX").is_some(),
            title: board.title.clone(),
        }
    }

    /// What to write to the terminal now: nothing, a bell, a notification, or both.
    pub fn due(
        &mut self,
        tracker: &super::change::Tracker,
        silenced: &dyn Fn(&str) -> bool,
        now: std::time::SystemTime,
    ) -> String {
        let mut out = String::new();
        if let Some(bell) = &mut self.bell
            && !bell.due(tracker, silenced, &|_| false, now).is_empty()
        {
            out.push_str(BELL);
        }
        if let Some(desktop) = &mut self.desktop {
            let due = desktop.due(tracker, silenced, &|_| false, now);
            if !due.is_empty() {
                out.push_str(&notification(self.osc, &self.title, &super::change::title(&due), self.tmux));
            }
        }
        out
    }
}
