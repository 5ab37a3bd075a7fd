//! The overview: every panel the board exists for on one screen, each as tall as what it holds.
//!
//! ```text
//! ≥150 columns                              narrower
//! ┌ health ────────┐┌ errors & latency ┐    ┌ health ──────────────┐
//! │ one row a svc  ││ one row a svc    │    ├ errors & latency ────┤
//! └────────────────┘└──────────────────┘    ├ backups (late first) ┤
//! ┌ deploys ───────┐┌ backups ─────────┐    ├ deploys ─────────────┤
//! └────────────────┘└──────────────────┘    ├ AWS ─────────────────┤
//! ┌ AWS ───────────────────────────────┐    └──────────────────────┘
//! └────────────────────────────────────┘
//! ```
//! When not all fit, each keeps at least a row of its own and what is failing comes first;
//! panels that get no room at all are left to their keys (`d`, `b`) and the header's count.

use super::{Scene, aws, backups, deploys, health, signals};
use crate::state::{Kind, Status};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
};

/// Side by side from this width; stacked below it.
pub const SIDE_BY_SIDE_WIDTH: u16 = 150;
/// Borders and a header row: a panel needs this plus one row to say anything.
const CHROME: u16 = 3;
/// Deploys shown on the overview; `d` lists them all.
const RECENT_DEPLOYS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    Health,
    Signals,
    Deploys,
    Backups,
    Aws,
}

/// One band of the screen: its panels side by side, the height they want, how bad the worst
/// thing in them is.
#[derive(Debug, Clone)]
struct Band {
    panels: Vec<Panel>,
    /// Health and errors & latency: what the board is for, kept while there is room for a row.
    core: bool,
    wanted: u16,
    status: Status,
}

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, rows: usize) {
    let bands = bands(scene, rows, area.width >= SIDE_BY_SIDE_WIDTH);
    let heights = allot(&bands, area.height);
    let constraints: Vec<Constraint> = heights.iter().map(|h| Constraint::Length(*h)).collect();
    let areas = Layout::vertical(constraints).split(area);
    for ((band, height), band_area) in bands.iter().zip(&heights).zip(areas.iter()) {
        if *height == 0 {
            continue;
        }
        let n = band.panels.len() as u32;
        let columns = Layout::horizontal(vec![Constraint::Ratio(1, n); n as usize]).split(*band_area);
        for (panel, a) in band.panels.iter().zip(columns.iter()) {
            draw(frame, *a, scene, *panel);
        }
    }
}

fn draw(frame: &mut Frame, area: Rect, scene: &Scene, panel: Panel) {
    match panel {
        Panel::Health => health::render(frame, area, scene),
        Panel::Signals => signals::render(frame, area, scene),
        Panel::Deploys => deploys::render(frame, area, scene),
        Panel::Backups => backups::render(frame, area, scene),
        Panel::Aws => aws::render(frame, area, scene),
    }
}

/// The bands for this state, in screen order: services first, then what else is configured.
fn bands(scene: &Scene, rows: usize, wide: bool) -> Vec<Band> {
    let v = &scene.verdicts;
    let services = rows as u16 + CHROME;
    let worst = |it: &mut dyn Iterator<Item = Status>| it.max().unwrap_or(Status::Ok);
    let service_status = worst(&mut v.services.iter().map(|s| s.status()));
    let signals = scene.state.services.iter().any(|s| s.has_signal_source());
    let deploy_rows = deploys::rows_wanted(scene, RECENT_DEPLOYS);
    let backup_status = worst(&mut v.backups.iter().map(|b| b.status));
    let aws_status =
        worst(&mut v.items.iter().filter(|i| matches!(i.kind, Kind::Asg | Kind::Account)).map(|i| i.verdict.status));
    let mut out = Vec::new();
    let mut push = |panels: Vec<Panel>, wanted: u16, status: Status| {
        if !panels.is_empty() {
            let core = panels.iter().all(|p| matches!(p, Panel::Health | Panel::Signals));
            out.push(Band { panels, core, wanted, status });
        }
    };
    let deploys = (deploy_rows > 0).then_some((Panel::Deploys, deploy_rows as u16 + CHROME, Status::Ok));
    let backups = (!scene.state.backups.is_empty()).then_some((
        Panel::Backups,
        scene.state.backups.len() as u16 + CHROME,
        backup_status,
    ));
    let aws = (!scene.state.aws.is_empty()).then_some((Panel::Aws, aws::height(scene), aws_status));
    if wide {
        let main = if signals { vec![Panel::Health, Panel::Signals] } else { vec![Panel::Health] };
        push(main, services, service_status);
        let pair: Vec<_> = [deploys, backups].into_iter().flatten().collect();
        let wanted = pair.iter().map(|p| p.1).max().unwrap_or(0);
        let status = pair.iter().map(|p| p.2).max().unwrap_or(Status::Ok);
        push(pair.into_iter().map(|p| p.0).collect(), wanted, status);
    } else {
        push(vec![Panel::Health], services, service_status);
        if signals {
            push(vec![Panel::Signals], services, service_status);
        }
        // Late backups before deploys, as what is failing comes first.
        let mut rest: Vec<_> = [backups, deploys].into_iter().flatten().collect();
        rest.sort_by_key(|p| std::cmp::Reverse(p.2));
        for (panel, wanted, status) in rest {
            push(vec![panel], wanted, status);
        }
    }
    if let Some((panel, wanted, status)) = aws {
        push(vec![panel], wanted, status);
    }
    out
}

/// Heights for the bands in `total` rows. Every band gets what it wants when that fits, and the
/// first band (the services) takes what is left. Short of room, a band with nothing failing
/// shrinks to one row of content first, and is dropped (least urgent first) only while the
/// services and what is failing still cannot have what they want; then, while not every band can
/// keep one row, the least urgent go (the services' band stays). The rows there are go first to
/// the services and what is failing, the shortest whole and the rest shared, then to the quiet.
fn allot(bands: &[Band], total: u16) -> Vec<u16> {
    let min = CHROME + 1;
    let want = |i: usize| bands[i].wanted.max(min);
    let quiet = |i: usize| !bands[i].core && bands[i].status < Status::Warn;
    let mut kept: Vec<usize> = (0..bands.len()).collect();
    // Least urgent last: bands are dropped from the end of this order.
    let mut by_urgency: Vec<usize> = (1..bands.len()).collect();
    by_urgency.sort_by_key(|&i| (std::cmp::Reverse(bands[i].status), i));
    let need = |kept: &[usize]| kept.iter().map(|&i| if quiet(i) { min } else { want(i) }).sum::<u16>();
    let quiet_order: Vec<usize> = by_urgency.iter().rev().copied().filter(|&i| quiet(i)).collect();
    for drop in quiet_order {
        if need(&kept) <= total {
            break;
        }
        kept.retain(|&i| i != drop);
        by_urgency.retain(|&i| i != drop);
    }
    while kept.len() > 1 && kept.len() as u16 * min > total {
        let Some(drop) = by_urgency.pop() else { break };
        kept.retain(|&i| i != drop);
    }
    let mut heights = vec![0u16; bands.len()];
    for &i in &kept {
        heights[i] = min.min(total);
    }
    let mut left = total.saturating_sub(kept.len() as u16 * min);
    let (loud, calm): (Vec<usize>, Vec<usize>) = kept.iter().partition(|&&i| !quiet(i));
    for group in [loud, calm] {
        fill(&mut heights, &group, &want, &mut left);
    }
    heights[kept[0]] += left;
    heights
}

/// Water-filling: the smallest wants in `group` are met first, the rest share what `left` holds.
fn fill(heights: &mut [u16], group: &[usize], want: &dyn Fn(usize) -> u16, left: &mut u16) {
    let mut order = group.to_vec();
    order.sort_by_key(|&i| want(i));
    for (n, &i) in order.iter().enumerate() {
        let share = *left / (order.len() - n) as u16;
        let add = want(i).saturating_sub(heights[i]).min(share);
        heights[i] += add;
        *left -= add;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(wanted: u16, status: Status) -> Band {
        Band { panels: vec![Panel::Backups], core: false, wanted, status }
    }

    fn core(wanted: u16, status: Status) -> Band {
        Band { panels: vec![Panel::Health], core: true, wanted, status }
    }

    #[test]
    fn everything_fits_and_the_services_take_the_rest() {
        let bands = [core(10, Status::Ok), band(6, Status::Ok), band(5, Status::Ok)];
        assert_eq!(allot(&bands, 30), vec![19, 6, 5]);
    }

    #[test]
    fn short_of_room_the_small_are_whole_and_the_rest_share() {
        let bands = [core(20, Status::Ok), core(20, Status::Ok), band(5, Status::Crit)];
        let h = allot(&bands, 30);
        assert_eq!(h.iter().sum::<u16>(), 30);
        assert_eq!(h[2], 5, "{h:?}");
        assert!(h[0] >= 12 && h[1] >= 12, "{h:?}");
    }

    #[test]
    fn short_of_room_a_band_with_nothing_failing_gives_way_to_the_rest() {
        let bands = [core(9, Status::Ok), core(9, Status::Ok), band(4, Status::Crit), band(5, Status::Ok)];
        assert_eq!(allot(&bands, 22), vec![9, 9, 4, 0]);
    }

    #[test]
    fn a_quiet_band_shrinks_to_one_row_before_it_is_dropped() {
        let bands = [
            core(10, Status::Crit),
            core(10, Status::Crit),
            band(6, Status::Crit),
            band(8, Status::Ok),
            band(7, Status::Ok),
        ];
        let h = allot(&bands, 38);
        assert_eq!(h.iter().sum::<u16>(), 38);
        assert_eq!(&h[..3], &[10, 10, 6], "{h:?}");
        assert!(h[3] >= 4 && h[4] >= 4, "{h:?}");
    }

    #[test]
    fn with_no_room_for_all_the_least_urgent_go_first() {
        let bands = [core(10, Status::Ok), core(10, Status::Warn), band(5, Status::Crit), band(5, Status::Warn)];
        let h = allot(&bands, 12);
        assert_eq!(h.iter().filter(|&&x| x > 0).count(), 3, "{h:?}");
        assert!(h[2] >= 4, "the failing one stays: {h:?}");
        assert_eq!(h[3], 0, "{h:?}");
    }
}
