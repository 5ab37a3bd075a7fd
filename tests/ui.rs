//! Snapshots of the rendered board (ratatui TestBackend) at the sizes people use.

mod common;

use common::fixtures::{incident_state, now};
use opsboard::snapshot;
use opsboard::state::State;
use opsboard::ui::theme::Theme;
use opsboard::ui::view::{Action, Screen, View};
use opsboard::ui::{Look, Scene, render_to_buffer};

fn frame(state: &State, view: &View, width: u16, height: u16) -> String {
    let look = Look { title: "prod-eu".into(), theme: Theme::default(), utc_offset_secs: 0, read_only: false };
    let scene = Scene::new(state, view, &look, now());
    snapshot::text(&render_to_buffer(&scene, width, height))
}

fn view_after(state: &State, actions: &[Action]) -> View {
    let mut view = View::default();
    for a in actions {
        view.handle(*a, state, now());
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
    assert_eq!(state.services[selected].name, "payments");
    let view = view_after(&state, &[Action::Down, Action::ToggleSort]);
    assert_eq!(view.selected, Some(selected), "re-sorting keeps the same service selected");
}
