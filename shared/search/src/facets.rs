//! Facet counts (kind, top plan unit, year) from fast fields, in the same pass over the hits
//! as counting and ranking. A word in most documents has tens of thousands of hits; reading
//! one column value per facet and hit into a small array costs a fraction of tantivy's
//! general facet collector, which walks each hit's facet paths.

use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnValues, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::doc::{DocKind, FacetCount, Facets};

/// Kinds in the order of their fast-field code ([`kind_code`]).
pub(crate) const KINDS: [DocKind; 5] = [
    DocKind::Eingang,
    DocKind::Ausgang,
    DocKind::Vermerk,
    DocKind::Bescheid,
    DocKind::Sonstiges,
];

/// The fast-field code of a kind.
pub(crate) fn kind_code(kind: DocKind) -> u64 {
    KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KINDS.len() - 1) as u64
}

/// Years counted in an array from this one on; others (rare) in a map.
const FIRST_YEAR: i64 = 1900;
const YEARS: usize = 256;

/// Counts facets of the hits; the fast fields are named by the index schema.
pub(crate) struct FacetCounter {
    pub(crate) kind: &'static str,
    pub(crate) plan: &'static str,
    pub(crate) year: &'static str,
}

/// Counts of one segment (or all of them, merged).
#[derive(Default)]
pub(crate) struct Counts {
    kind: [u64; KINDS.len()],
    year: BTreeMap<i64, u64>,
    plan: BTreeMap<String, u64>,
}

impl Counts {
    pub(crate) fn into_facets(self) -> Facets {
        let sorted = |mut v: Vec<FacetCount>| {
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            v
        };
        let kind = KINDS
            .iter()
            .zip(self.kind)
            .filter(|(_, n)| *n > 0)
            .map(|(k, count)| FacetCount {
                value: k.as_str().to_owned(),
                count,
            })
            .collect();
        let year = self
            .year
            .into_iter()
            .map(|(y, count)| FacetCount {
                value: y.to_string(),
                count,
            })
            .collect();
        let plan_unit = self
            .plan
            .into_iter()
            .map(|(value, count)| FacetCount { value, count })
            .collect();
        Facets {
            kind: sorted(kind),
            plan_unit: sorted(plan_unit),
            year: sorted(year),
        }
    }
}

/// No value in this document (the columns' default).
const NONE_U64: u64 = u64::MAX;
const NONE_I64: i64 = i64::MIN;

pub(crate) struct SegmentCounter {
    // One value per document (a default where there is none), read without the column
    // index's indirection: this runs for every hit.
    kind_column: Arc<dyn ColumnValues<u64>>,
    year_column: Arc<dyn ColumnValues<i64>>,
    plan_column: Option<StrColumn>,
    plan_ords: Arc<dyn ColumnValues<u64>>,
    kind: [u64; KINDS.len()],
    years: Vec<u64>,
    other_years: BTreeMap<i64, u64>,
    /// Per term ordinal of the segment's plan column.
    plan: Vec<u64>,
}

impl Collector for FacetCounter {
    type Fruit = Counts;
    type Child = SegmentCounter;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentCounter> {
        let fast = reader.fast_fields();
        let plan_column = fast.str(self.plan)?;
        let (plan_ords, terms) = match &plan_column {
            Some(c) => (c.ords().clone(), c.num_terms()),
            None => (Column::build_empty_column(reader.max_doc()), 0),
        };
        Ok(SegmentCounter {
            kind_column: fast.u64(self.kind)?.first_or_default_col(NONE_U64),
            year_column: fast.i64(self.year)?.first_or_default_col(NONE_I64),
            plan_ords: plan_ords.first_or_default_col(NONE_U64),
            plan_column,
            kind: [0; KINDS.len()],
            years: vec![0; YEARS],
            other_years: BTreeMap::new(),
            plan: vec![0; terms],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut all = Counts::default();
        for f in fruits {
            for (a, b) in all.kind.iter_mut().zip(f.kind) {
                *a += b;
            }
            for (y, n) in f.year {
                *all.year.entry(y).or_default() += n;
            }
            for (p, n) in f.plan {
                *all.plan.entry(p).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentCounter {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _: Score) {
        // Out-of-range codes (the defaults among them) count nowhere.
        let kind = self.kind_column.get_val(doc);
        if let Some(slot) = self.kind.get_mut(kind as usize) {
            *slot += 1;
        }
        let year = self.year_column.get_val(doc);
        if year != NONE_I64 {
            match usize::try_from(year.saturating_sub(FIRST_YEAR))
                .ok()
                .and_then(|i| self.years.get_mut(i))
            {
                Some(slot) => *slot += 1,
                None => *self.other_years.entry(year).or_default() += 1,
            }
        }
        let ord = self.plan_ords.get_val(doc);
        if let Some(slot) = self.plan.get_mut(ord as usize) {
            *slot += 1;
        }
    }

    fn harvest(self) -> Counts {
        let mut year = self.other_years;
        for (i, n) in self.years.into_iter().enumerate() {
            if n > 0 {
                *year.entry(FIRST_YEAR + i as i64).or_default() += n;
            }
        }
        let mut plan = BTreeMap::new();
        if let Some(column) = &self.plan_column {
            let mut name = String::new();
            for (ord, n) in self.plan.into_iter().enumerate() {
                if n > 0 && column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    *plan.entry(name.clone()).or_default() += n;
                }
            }
        }
        Counts {
            kind: self.kind,
            year,
            plan,
        }
    }
}
