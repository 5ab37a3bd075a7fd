//! Error budgets' counts on disk: a redb file in the data dir (`budgets.redb`), crash-safe (a
//! kill -9 loses at most what came after the last flush, and never tears a bucket). Buckets are
//! kept in blocks, an hour of minutes or a day of hours to a row, keyed by (service, ledger and
//! resolution, block since the epoch): a flush rewrites the one or two blocks that changed. The
//! store knows rows only; `state::budget` turns them into ledgers.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};

/// One bucket: good events, all events, seconds a board was watching.
pub type Row = (u64, u64, u32);
const BLOCKS: TableDefinition<(&str, u8, u64), &[u8]> = TableDefinition::new("blocks");

/// Minutes in a block of minutes, hours in a block of hours.
pub const MINUTES_PER_BLOCK: u64 = 60;
pub const HOURS_PER_BLOCK: u64 = 24;
/// One bucket in a block: its offset in the block, then its row, little-endian.
const ENTRY: usize = 1 + 8 + 8 + 4;

/// One ledger's buckets as rows, oldest first. For a save: every bucket of the blocks that
/// changed since the last one, and the oldest index still kept (blocks wholly before it go).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub minutes: Vec<(u64, Row)>,
    pub hours: Vec<(u64, Row)>,
    pub oldest_minute: Option<u64>,
    pub oldest_hour: Option<u64>,
}

/// A service's two ledgers: its requests' and its checks'.
pub type Ledgers = [Rows; 2];

pub struct BudgetStore {
    db: Database,
    path: PathBuf,
}

/// What went wrong, with the file: `…/budgets.redb: Database already open`.
pub type StoreError = String;

fn fail(path: &Path, e: impl std::fmt::Display) -> StoreError {
    format!("{}: {e}", path.display())
}

/// One process (the board) writes; others (`check --gate`) may read beside it. The cache is
/// small: a flush touches a few blocks per service, and reads happen once, at start.
fn builder() -> redb::Builder {
    let mut b = redb::Builder::new();
    b.set_concurrency_mode(redb::ConcurrencyMode::SingleWriter);
    b.set_cache_size(4 << 20);
    b
}

/// The key's middle part: which ledger, and minutes (0) or hours (1).
fn series(kind: usize, hours: bool) -> u8 {
    (kind as u8) * 2 + u8::from(hours)
}

impl BudgetStore {
    /// Opens the store at `path`, making it when it is not there.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(path, e))?;
        }
        let db = builder().create(path).map_err(|e| fail(path, e))?;
        // The table exists from the start, so that reading never finds it missing.
        let made = (|| -> Result<(), redb::Error> {
            let txn = db.begin_write()?;
            txn.open_table(BLOCKS)?;
            txn.commit()?;
            Ok(())
        })();
        made.map_err(|e| fail(path, e))?;
        Ok(Self { db, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the free space of blocks rewritten and dropped back to the file system (the board
    /// does it once, when it opens the store).
    pub fn compact(&mut self) -> Result<(), StoreError> {
        self.db.compact(redb::CompactionMode::Balanced).map(drop).map_err(|e| fail(&self.path, e))
    }

    /// What the store holds for `service`.
    pub fn load(&self, service: &str) -> Result<Ledgers, StoreError> {
        load_from(&self.db, service).map_err(|e| fail(&self.path, e))
    }

    /// What the store at `path` holds for each of `services`, opened to read only: while a board
    /// writes it, another process (`check --gate`) reads what it last flushed. A file a crash
    /// left to repair, with no board holding it, is repaired first.
    pub fn read(path: &Path, services: &[&str]) -> Result<Vec<Ledgers>, StoreError> {
        let each = |db: &dyn Fn(&str) -> Result<Ledgers, redb::Error>| -> Result<Vec<Ledgers>, StoreError> {
            services.iter().map(|s| db(s).map_err(|e| fail(path, e))).collect()
        };
        match builder().open_read_only(path) {
            Ok(db) => each(&|s| load_from(&db, s)),
            Err(first) => match builder().open(path) {
                Ok(db) => each(&|s| load_from(&db, s)),
                Err(e) => Err(fail(path, format!("{first}; {e}"))),
            },
        }
    }

    /// Writes each service's changed blocks and drops those before what it keeps, in one
    /// transaction.
    pub fn save<S: AsRef<str>>(&self, ledgers: impl Iterator<Item = (S, Ledgers)>) -> Result<(), StoreError> {
        let saved = (|| -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            {
                let mut table = txn.open_table(BLOCKS)?;
                for (service, pair) in ledgers {
                    let service = service.as_ref();
                    for (kind, rows) in pair.iter().enumerate() {
                        write(
                            &mut table,
                            service,
                            series(kind, false),
                            &rows.minutes,
                            MINUTES_PER_BLOCK,
                            rows.oldest_minute,
                        )?;
                        write(&mut table, service, series(kind, true), &rows.hours, HOURS_PER_BLOCK, rows.oldest_hour)?;
                    }
                }
            }
            txn.commit()?;
            Ok(())
        })();
        saved.map_err(|e| fail(&self.path, e))
    }
}

fn load_from(db: &impl ReadableDatabase, service: &str) -> Result<Ledgers, redb::Error> {
    let txn = db.begin_read()?;
    let table = txn.open_table(BLOCKS)?;
    let mut out: Ledgers = Default::default();
    for (kind, rows) in out.iter_mut().enumerate() {
        for (hours, per) in [(false, MINUTES_PER_BLOCK), (true, HOURS_PER_BLOCK)] {
            let code = series(kind, hours);
            let found = if hours { &mut rows.hours } else { &mut rows.minutes };
            for entry in table.range((service, code, 0)..=(service, code, u64::MAX))? {
                let (k, v) = entry?;
                let block = k.value().2;
                found.extend(decode(v.value()).map(|(offset, row)| (block * per + offset, row)));
            }
        }
    }
    Ok(out)
}

fn decode(bytes: &[u8]) -> impl Iterator<Item = (u64, Row)> + '_ {
    bytes.chunks_exact(ENTRY).map(|e| {
        let u64_at = |at: usize| u64::from_le_bytes(e[at..at + 8].try_into().unwrap_or_default());
        let seen = u32::from_le_bytes(e[17..21].try_into().unwrap_or_default());
        (u64::from(e[0]), (u64_at(1), u64_at(9), seen))
    })
}

/// Writes the blocks `rows` fall in, whole, and drops the blocks wholly before `oldest`.
fn write(
    table: &mut redb::Table<(&str, u8, u64), &[u8]>,
    service: &str,
    code: u8,
    rows: &[(u64, Row)],
    per: u64,
    oldest: Option<u64>,
) -> Result<(), redb::Error> {
    let mut at = 0;
    while at < rows.len() {
        let block = rows[at].0 / per;
        let mut bytes = Vec::with_capacity(per as usize * ENTRY);
        while at < rows.len() && rows[at].0 / per == block {
            let (index, (good, total, seen)) = rows[at];
            bytes.push((index % per) as u8);
            bytes.extend_from_slice(&good.to_le_bytes());
            bytes.extend_from_slice(&total.to_le_bytes());
            bytes.extend_from_slice(&seen.to_le_bytes());
            at += 1;
        }
        table.insert((service, code, block), bytes.as_slice())?;
    }
    if let Some(oldest) = oldest {
        table.retain_in((service, code, 0)..(service, code, oldest / per), |_, _| false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_saved_come_back_and_rows_before_the_oldest_kept_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = BudgetStore::open(&dir.path().join("b.redb")).unwrap();
        let rows = |from: u64, to: u64| (from..to).map(|i| (i, (i, i + 1, 60))).collect::<Vec<_>>();
        let first = Rows { minutes: rows(0, 70), hours: rows(0, 2), ..Rows::default() };
        store.save([("api", [first, Rows::default()])].into_iter()).unwrap();
        // The second block again, whole, with one more minute; the first block is now too old.
        let later = Rows { minutes: rows(60, 71), oldest_minute: Some(62), ..Rows::default() };
        store.save([("api", [later, Rows::default()])].into_iter()).unwrap();
        let [requests, checks] = store.load("api").unwrap();
        assert_eq!(requests.minutes, rows(60, 71));
        assert_eq!(requests.hours, rows(0, 2));
        assert_eq!(checks, Rows::default());
        assert_eq!(store.load("web").unwrap(), Ledgers::default());
    }
}
