//! What people put on items from the board, kept per item: silences (mute the notifications)
//! and incidents taken (someone is on it). One mark per item and kind; gone when it ends.

/// A mark on one item (`service payments`, `asg web-asg`).
pub trait Mark {
    fn item(&self) -> &str;
}

/// The marks of one kind in force, one per item.
#[derive(Debug, Clone)]
pub struct Marks<T> {
    pub list: Vec<T>,
}

impl<T> Default for Marks<T> {
    fn default() -> Self {
        Self { list: Vec::new() }
    }
}

impl<T: Mark> Marks<T> {
    pub fn get(&self, item: &str) -> Option<&T> {
        self.list.iter().find(|s| s.item() == item)
    }

    /// Adds (or replaces) the item's mark.
    pub fn add(&mut self, m: T) {
        self.list.retain(|x| x.item() != m.item());
        self.list.push(m);
    }

    /// Lifts the marks of `items`; whether any was there.
    pub fn lift(&mut self, items: &[String]) -> bool {
        let before = self.list.len();
        self.list.retain(|x| !items.iter().any(|i| i == x.item()));
        self.list.len() != before
    }
}

/// `03:12` in the board's time zone.
pub fn clock(unix_secs: u64, utc_offset_secs: i32) -> String {
    let local = unix_secs as i64 + i64::from(utc_offset_secs);
    format!("{:02}:{:02}", local.rem_euclid(86400) / 3600, local.rem_euclid(3600) / 60)
}
