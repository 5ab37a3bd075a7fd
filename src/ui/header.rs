//! The top line: title, fleet verdict, freshness and clock. It shortens itself to fit.

use super::Scene;
use super::symbols;
use crate::format;
use crate::state::{Status, Tally};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::Paragraph,
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let services = &scene.verdicts.service_tally;
    let instances = &scene.verdicts.instance_tally;
    let width = area.width as usize;
    let title = Span::styled(format!(" {} ", scene.look.title), theme.title());
    let ro = scene.look.read_only.then(|| Span::styled("[read-only] ", theme.dim()));
    let note = scene.look.note.as_ref().map(|n| Span::styled(format!("[{n}] "), theme.status(Status::Warn)));
    let inst = Span::styled(format!("  instances {}/{} ok", instances.ok, instances.total()), theme.dim());
    let clock = Span::styled(format!(" {} ", clock(scene)), theme.title());
    let updated = Span::styled(updated_text(scene), theme.dim());

    // A cause first ("orders-db CRIT — 4 services behind it"): the one row that matters. Else
    // what the count holds that no service row shows (a late backup, a group below min): named,
    // so that every red the header counts can be found.
    let offscreen = cause(scene).or_else(|| offscreen(scene));
    // Longest form first; drop parts until the line fits.
    let candidates = [
        (
            counts(services, Form::Long, scene),
            offscreen.as_ref().or(Some(&inst)),
            Some(&updated),
            ro.as_ref(),
            note.as_ref(),
        ),
        (counts(services, Form::Long, scene), Some(&inst), Some(&updated), ro.as_ref(), note.as_ref()),
        (counts(services, Form::Long, scene), None, Some(&updated), ro.as_ref(), note.as_ref()),
        (counts(services, Form::Medium, scene), None, Some(&updated), ro.as_ref(), note.as_ref()),
        (counts(services, Form::Medium, scene), None, Some(&updated), ro.as_ref(), None),
        (counts(services, Form::Short, scene), None, Some(&updated), None, None),
        (counts(services, Form::Short, scene), None, None, None, None),
    ];
    for (counts, inst, updated, ro, note) in candidates {
        let mut left: Vec<Span> = vec![title.clone()];
        left.extend(ro.cloned());
        left.extend(note.cloned());
        left.extend(counts);
        left.extend(inst.cloned());
        let mut right: Vec<Span> = updated.cloned().into_iter().collect();
        right.push(clock.clone());
        let lw: usize = left.iter().map(Span::width).sum();
        let rw: usize = right.iter().map(Span::width).sum();
        if lw + rw < width {
            left.push(Span::raw(" ".repeat(width - lw - rw)));
            left.extend(right);
            frame.render_widget(Paragraph::new(Line::from(left)).style(theme.base()), area);
            return;
        }
    }
    let mut left = vec![title];
    left.extend(counts(services, Form::Short, scene));
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.base()), area);
}

/// The worst cause with services behind it: "✖ orders-db CRIT — 4 services behind it  ".
fn cause(scene: &Scene) -> Option<Span<'static>> {
    let c = scene.verdicts.blocking.causes.first()?;
    let more = match scene.verdicts.blocking.causes.len() {
        1 => String::new(),
        n => format!(" (+{} causes)", n - 1),
    };
    let text = format!("{} {}{more}  ", symbols::status(c.verdict.status), c.headline());
    Some(Span::styled(text, scene.theme.status(c.verdict.status)))
}

/// The worst item at warn or worse that is not a service: "✖ backup postgres base: 30h old  ".
fn offscreen(scene: &Scene) -> Option<Span<'static>> {
    let items = &scene.verdicts.items;
    let item = items.iter().find(|i| i.kind != crate::state::Kind::Service && i.verdict.status >= Status::Warn)?;
    let v = &item.verdict;
    let text = format!("{} {}: {}  ", symbols::status(v.status), item.name, v.reason);
    Some(Span::styled(text, scene.theme.status(v.status)))
}

#[derive(Clone, Copy)]
enum Form {
    Long,
    Medium,
    Short,
}

/// `✖ 2 CRIT  ▲ 1 WARN` (long), `✖ 2 CRIT ▲ 1 WARN` (medium) or `✖2 ▲1` (short); only states that occur.
fn counts(t: &Tally, form: Form, scene: &Scene) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for status in Status::ALL {
        let n = t.get(status);
        if n == 0 && !(status == Status::Ok && t.total() == 0) {
            continue;
        }
        let sym = symbols::status(status);
        let text = match form {
            Form::Long => format!("{sym} {n} {}  ", status.word()),
            Form::Medium => format!("{sym} {n} {} ", status.word()),
            Form::Short => format!("{sym}{n} "),
        };
        spans.push(Span::styled(text, scene.theme.status(status)));
    }
    // Services in a maintenance window are not counted above: said, so that none goes missing.
    let planned = scene.verdicts.maintenance.iter().flatten().count();
    let text = match form {
        _ if planned == 0 => None,
        Form::Long => Some(format!("{planned} in maintenance  ")),
        Form::Medium => Some(format!("{planned} in maint. ")),
        Form::Short => None,
    };
    spans.extend(text.map(|t| Span::styled(t, scene.theme.dim())));
    spans
}

/// Results newer than this count as "just now".
const LIVE: std::time::Duration = std::time::Duration::from_secs(3);

/// "updated 3s ago" from the newest result, "waiting for data" before any.
pub fn updated_text(scene: &Scene) -> String {
    match scene.state.last_update() {
        // Within a couple of seconds the data is live; the count starts when it is not.
        Some(at) => match scene.now.duration_since(at).unwrap_or_default() {
            age if age < LIVE => "updated just now".into(),
            age => format!("updated {} ago", format::age(age)),
        },
        None => "waiting for data".into(),
    }
}

/// `HH:MM` in the board's local offset: a clock that ticks once a minute, not every second.
pub fn clock(scene: &Scene) -> String {
    let secs = scene.now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let local = (secs + i64::from(scene.look.utc_offset_secs)).rem_euclid(86_400);
    format!("{:02}:{:02}", local / 3600, local / 60 % 60)
}
