//! `warren-server check` for run logs: every stored chunk decodes, each run's chunks start at
//! line 1 and follow one another without gap or overlap, and the last stored line is the one
//! the run's log progress names.

use std::collections::BTreeMap;

use redb::{ReadTransaction, ReadableTable};

use super::codec;
use super::progress::Progress;
use crate::store::tables::{LOG_CHUNKS, LOG_PROGRESS};
use crate::store::{StoreError, decode};

/// Checks the log tables, reporting each problem through `problem`.
pub fn check(txn: &ReadTransaction, problem: &mut impl FnMut(String)) -> Result<(), StoreError> {
    let mut progress: BTreeMap<(String, String), Progress> = BTreeMap::new();
    match txn.open_table(LOG_PROGRESS) {
        Ok(table) => {
            for row in table.iter()? {
                let (key, value) = row?;
                let (ws, run) = key.value();
                match decode::<Progress>("log progress", value.value()) {
                    Ok(p) => {
                        progress.insert((ws.to_owned(), run.to_owned()), p);
                    }
                    Err(e) => problem(format!(
                        "log progress of run {run}: it does not decode ({e})"
                    )),
                }
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    // The last stored line of each run, as the chunks show it.
    let mut last: BTreeMap<(String, String), u64> = BTreeMap::new();
    match txn.open_table(LOG_CHUNKS) {
        Ok(table) => {
            for row in table.iter()? {
                let (key, value) = row?;
                let (ws, run, first) = key.value();
                let id = (ws.to_owned(), run.to_owned());
                let expected = last.get(&id).map_or(1, |l| l + 1);
                if first != expected {
                    problem(format!(
                        "log of run {run}: a chunk starts at line {first} where line {expected} was expected (a gap or an overlap)"
                    ));
                }
                match codec::decode(first, value.value()) {
                    Ok(lines) => {
                        // An empty chunk (never written) would leave the run where it was.
                        last.insert(id, (first + lines.len() as u64).saturating_sub(1));
                    }
                    Err(e) => {
                        problem(format!("log of run {run}: the chunk at line {first}: {e}"));
                        last.insert(id, first);
                    }
                }
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    for ((ws, run), stored) in &last {
        let said = progress
            .get(&(ws.clone(), run.clone()))
            .map(Progress::last_stored);
        if said != Some(*stored) {
            problem(format!(
                "log of run {run}: {stored} lines are stored but its progress says {}",
                said.map_or_else(|| "nothing".to_owned(), |s| s.to_string())
            ));
        }
    }
    for ((ws, run), p) in &progress {
        if p.last_stored() > 0 && !last.contains_key(&(ws.clone(), run.clone())) {
            problem(format!(
                "log of run {run}: its progress says {} lines but none are stored",
                p.last_stored()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use warren_protocol::run::{LogLine, LogStream};

    use super::*;
    use crate::store::Store;

    fn lines(first: u64, count: u64) -> Vec<u8> {
        let lines: Vec<LogLine> = (first..first + count)
            .map(|n| LogLine {
                n,
                ts: 0,
                stream: LogStream::Out,
                text: format!("line {n}"),
                continued: false,
            })
            .collect();
        codec::encode(&lines)
    }

    fn problems(store: &Store) -> Vec<String> {
        let mut found = Vec::new();
        let txn = store.begin_read().expect("read");
        check(&txn, &mut |p| found.push(p)).expect("check");
        found
    }

    #[test]
    fn gaps_overlaps_and_a_wrong_progress_are_reported() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::create(dir.path()).expect("store");
        let txn = store.begin_write().expect("write");
        {
            let mut chunks = txn.open_table(LOG_CHUNKS).expect("chunks");
            chunks
                .insert(("ws", "run_a", 1), lines(1, 3).as_slice())
                .expect("a");
            chunks
                .insert(("ws", "run_a", 4), lines(4, 2).as_slice())
                .expect("a");
            chunks
                .insert(("ws", "run_b", 1), lines(1, 2).as_slice())
                .expect("b");
            chunks
                .insert(("ws", "run_b", 5), lines(5, 1).as_slice())
                .expect("b");
        }
        let progress = |lines| Progress {
            lines,
            ..Progress::default()
        };
        super::super::progress::write(&txn, "ws", "run_a", &progress(5)).expect("a");
        super::super::progress::write(&txn, "ws", "run_b", &progress(9)).expect("b");
        txn.commit().expect("commit");
        let found = problems(&store);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("run_b") && found[0].contains("line 5 where line 3"));
        assert!(found[1].contains("5 lines are stored but its progress says 9"));
    }
}
