//! A config loaded again, looked over before it takes effect: what a running board cannot change
//! (where `serve` listens, the board's own settings, the actions and webhooks it started with)
//! keeps its old value and is named; a read-only guard removed or weakened is named too.

use super::Loaded;
use std::time::SystemTime;

/// What became of a reload, for the board's footer and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigNote {
    pub at: SystemTime,
    pub outcome: Result<Applied, String>,
}

/// A reload that took effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Tables changed in the file that take effect on a restart only: their old values stand.
    pub needs_restart: Vec<String>,
    /// Read-only guards the new config removes or weakens, in words.
    pub weakened: Vec<String>,
}

impl ConfigNote {
    /// The footer's words: "config not reloaded: …", "config reloaded (serve needs a restart)".
    pub fn words(&self) -> String {
        match &self.outcome {
            Err(e) => format!("config not reloaded: {e}"),
            Ok(a) => {
                let mut parts = Vec::new();
                if !a.weakened.is_empty() {
                    parts.push(format!("⚠ {}", a.weakened.join("; ")));
                }
                if !a.needs_restart.is_empty() {
                    parts.push(format!("{} needs a restart", a.needs_restart.join(", ")));
                }
                if parts.is_empty() {
                    "config reloaded".into()
                } else {
                    format!("config reloaded ({})", parts.join("; "))
                }
            }
        }
    }

    /// Whether the words warn (a refusal, a guard weakened) rather than inform.
    pub fn warns(&self) -> bool {
        self.outcome.as_ref().map_or(true, |a| !a.weakened.is_empty())
    }
}

/// `new` as it takes effect over `old`: the tables a running board cannot change keep `old`'s
/// values; what was kept and what guards weaken are said.
pub fn review(old: &Loaded, mut new: Loaded) -> (Loaded, Applied) {
    let mut applied = Applied::default();
    let (o, n) = (&old.config, &mut new.config);
    macro_rules! fixed {
        ($($field:ident),*) => {$(
            if format!("{:?}", o.$field) != format!("{:?}", n.$field) {
                applied.needs_restart.push(stringify!($field).to_string());
                n.$field = o.$field.clone();
            }
        )*};
    }
    fixed!(board, serve, actions, notify, attach);
    for (name, env) in &o.environments {
        if env.read_only && !n.environments.get(name).is_some_and(|e| e.read_only) {
            applied.weakened.push(format!("environment {name} is no longer read-only"));
        }
    }
    for svc in &new.fleet.services {
        let Some(was) = old.fleet.services.iter().find(|s| s.name == svc.name) else { continue };
        // Within one environment, the environment's own line says it.
        if was.env.read_only && !svc.env.read_only && was.env.name != svc.env.name {
            applied.weakened.push(format!("service {} left read-only environment {}", svc.name, was.env.name));
        }
    }
    (new, applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_running_board_cannot_change_keeps_its_value_and_a_weakened_guard_is_named() {
        let old = super::super::load_str(
            "a.toml",
            "[serve]\nlisten = \"127.0.0.1:7000\"\n[environments.prod]\nread_only = true\n\
             [environments.dev]\n[services.api]\nenv = \"prod\"\ninstances = [\"http://127.0.0.1:1\"]\n",
        )
        .unwrap();
        let new = super::super::load_str(
            "a.toml",
            "[serve]\nlisten = \"127.0.0.1:7001\"\n[environments.prod]\nread_only = true\n\
             [environments.dev]\n[services.api]\nenv = \"dev\"\ninstances = [\"http://127.0.0.1:1\"]\n",
        )
        .unwrap();
        let (took, applied) = review(&old, new);
        assert_eq!(took.config.serve.listen, "127.0.0.1:7000", "serve.listen keeps the old value");
        assert_eq!(applied.needs_restart, ["serve"]);
        assert_eq!(applied.weakened, ["service api left read-only environment prod"]);
        let note = ConfigNote { at: SystemTime::UNIX_EPOCH, outcome: Ok(applied) };
        assert!(note.words().contains("serve needs a restart"), "{}", note.words());
        assert!(note.warns());
    }
}
