//! A merge policy that bounds the size of a merged segment.
//!
//! tantivy's default `LogMergePolicy` merges a level of eight similar segments whatever
//! their size, so in a large index one merge reads the whole index through its memory
//! mappings: at a million documents that was 2.1 GiB of mapped pages in the server's RSS.
//! Bounding the merged size bounds what one merge maps, at the price of a few more
//! segments per large index. The writer runs one merge at a time (see `index.rs`): several
//! bounded merges at once mapped 1.8 GiB in the next 1M run.

use std::collections::HashMap;

use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::merge_policy::{LogMergePolicy, MergeCandidate, MergePolicy};

/// Most documents a merge may produce in the server's indexes (about 600 MB of index at
/// the sizes measured for the 1M benchmark).
pub const MAX_MERGED_DOCS: u32 = 250_000;

/// `LogMergePolicy`'s choice of what to merge, cut into merges of at most `max_docs`
/// documents each.
#[derive(Debug)]
pub struct BoundedMergePolicy {
    log: LogMergePolicy,
    max_docs: u32,
}

impl BoundedMergePolicy {
    pub fn new(max_docs: u32) -> Self {
        let mut log = LogMergePolicy::default();
        // A segment above half the bound can pair with nothing; leave it out of the levels.
        log.set_max_docs_before_merge((max_docs / 2) as usize);
        Self { log, max_docs }
    }
}

impl MergePolicy for BoundedMergePolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let docs: HashMap<SegmentId, u32> =
            segments.iter().map(|s| (s.id(), s.num_docs())).collect();
        self.log
            .compute_merge_candidates(segments)
            .into_iter()
            .flat_map(|MergeCandidate(ids)| {
                let sized = ids
                    .into_iter()
                    .map(|id| (id, docs.get(&id).copied().unwrap_or(0)));
                split_by_docs(sized, self.max_docs)
            })
            .map(MergeCandidate)
            .collect()
    }
}

/// Groups items, smallest first, into runs whose documents add up to at most `max_docs`;
/// runs of one item are dropped (nothing to merge).
fn split_by_docs<T>(items: impl IntoIterator<Item = (T, u32)>, max_docs: u32) -> Vec<Vec<T>> {
    let mut items: Vec<(T, u32)> = items.into_iter().collect();
    items.sort_by_key(|&(_, d)| d);
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut sum = 0u64;
    for (item, d) in items {
        if sum + u64::from(d) > u64::from(max_docs) {
            if run.len() > 1 {
                runs.push(std::mem::take(&mut run));
            }
            run.clear();
            sum = 0;
        }
        if u64::from(d) <= u64::from(max_docs) {
            run.push(item);
            sum += u64::from(d);
        }
    }
    if run.len() > 1 {
        runs.push(run);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, INDEXED};
    use tantivy::{doc, Index, IndexWriter};

    #[test]
    fn runs_stay_under_the_bound_and_single_items_are_left_alone() {
        let items = [
            ("a", 10),
            ("b", 40),
            ("c", 30),
            ("d", 25),
            ("e", 90),
            ("f", 5),
        ];
        let runs = split_by_docs(items, 60);
        // Smallest first: f 5 + a 10 + d 25 = 40, + c 30 would be 70; c 30 + b 40 = 70 > 60,
        // so c and b stand alone; e is alone too.
        assert_eq!(runs, vec![vec!["f", "a", "d"]]);
        assert_eq!(
            split_by_docs([("x", 100), ("y", 100)], 60),
            Vec::<Vec<&str>>::new()
        );
        assert_eq!(
            split_by_docs([("x", 30), ("y", 30)], 60),
            vec![vec!["x", "y"]]
        );
    }

    #[test]
    fn an_index_under_the_policy_merges_but_no_segment_exceeds_the_bound() {
        let mut builder = Schema::builder();
        let n = builder.add_u64_field("n", INDEXED);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(BoundedMergePolicy::new(120)));
        for commit in 0..60u64 {
            for i in 0..10u64 {
                writer.add_document(doc!(n => commit * 10 + i)).unwrap();
            }
            writer.commit().unwrap();
        }
        writer.wait_merging_threads().unwrap();
        let segments = index.searchable_segment_metas().unwrap();
        let sizes: Vec<u32> = segments.iter().map(|s| s.num_docs()).collect();
        assert_eq!(sizes.iter().sum::<u32>(), 600, "{sizes:?}");
        assert!(sizes.iter().all(|&d| d <= 120), "{sizes:?}");
        assert!(sizes.iter().any(|&d| d > 10), "nothing merged: {sizes:?}");
        assert!(segments.len() < 60, "{sizes:?}");
    }
}
