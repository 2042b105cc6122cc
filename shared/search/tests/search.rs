//! Behaviour of the per-tenant indexes through the public API, on a temporary directory.

use std::time::Instant;

use akta_search::{
    DocKind, DocStatus, IndexManager, Query, QueryErrorKind, SearchDoc, SearchError, SearchOptions,
    SearchResults, SortOrder, Visibility,
};
use time::macros::{date, datetime};
use uuid::Uuid;

struct Fixture {
    _dir: tempfile::TempDir,
    manager: IndexManager,
    tenant: Uuid,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let manager = IndexManager::with_writer_memory(dir.path().join("search"), 20_000_000).unwrap();
    Fixture {
        _dir: dir,
        manager,
        tenant: Uuid::new_v4(),
    }
}

fn doc(title: &str, content: &str) -> SearchDoc {
    SearchDoc {
        document_id: Uuid::new_v4(),
        version: 1,
        file_id: Uuid::new_v4(),
        case_id: None,
        title: title.into(),
        kind: DocKind::Eingang,
        reference: "63.01-0042/2026".into(),
        case_reference: Some("63.01-0042/2026-1".into()),
        subject: "Neubau Einfamilienhaus".into(),
        sender: "Erika Mustermann".into(),
        recipient: None,
        document_date: Some(date!(2026 - 03 - 14)),
        created_at: datetime!(2026-03-15 10:00 UTC),
        plan_unit_path: vec!["6".into(), "63".into(), "63.01".into()],
        org_unit: None,
        status: DocStatus::Offen,
        confidential: false,
        metadata: serde_json::Map::new(),
        content: content.into(),
    }
}

impl Fixture {
    fn add(&self, docs: &[SearchDoc]) {
        for d in docs {
            self.manager.upsert(self.tenant, d).unwrap();
        }
        self.manager.commit(self.tenant).unwrap();
    }

    fn search_with(&self, q: &str, o: &SearchOptions) -> SearchResults {
        self.manager
            .search(self.tenant, &Query::parse(q).unwrap(), o)
            .unwrap()
    }

    fn search(&self, q: &str) -> SearchResults {
        self.search_with(q, &SearchOptions::default())
    }

    fn ids(&self, q: &str) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self.search(q).items.iter().map(|h| h.document_id).collect();
        ids.sort();
        ids
    }
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[test]
fn compound_part_finds_the_compound() {
    let f = fixture();
    let d = doc("Schreiben", "Die Baugenehmigung wird erteilt.");
    f.add(&[d.clone(), doc("Sonstiges", "Nichts zu sehen.")]);
    assert_eq!(f.ids("Genehmigung"), vec![d.document_id]);
}

#[test]
fn compound_finds_its_plural_and_plural_finds_singular() {
    let f = fixture();
    let plural = doc("Liste", "Eingegangene Bauanträge im März");
    let singular = doc("Antrag", "Der Antrag ist vollständig.");
    f.add(&[plural.clone(), singular.clone()]);
    assert!(f.ids("Bauantrag").contains(&plural.document_id));
    assert!(f.ids("Anträge").contains(&singular.document_id));
}

#[test]
fn umlaut_and_sharp_s_spellings_meet() {
    let f = fixture();
    let strasse = doc(
        "Anlieger",
        "Sperrung der Hauptstraße wegen Bauarbeiten in der Straße",
    );
    let aenderung = doc("Plan", "Änderung des Bebauungsplans");
    let strasse2 = doc("Anlieger 2", "Anwohner der Strasse beschweren sich");
    f.add(&[strasse.clone(), aenderung.clone(), strasse2.clone()]);
    let both = sorted(vec![strasse.document_id, strasse2.document_id]);
    assert_eq!(f.ids("Strasse"), both);
    assert_eq!(f.ids("Straße"), both);
    assert_eq!(f.ids("Aenderung"), vec![aenderung.document_id]);
}

#[test]
fn stop_word_alone_finds_nothing() {
    let f = fixture();
    f.add(&[doc("Antrag und Anlage", "Antrag und Anlage und mehr")]);
    assert_eq!(f.search("und").total, 0);
    assert_eq!(f.search("\"und\"").total, 0);
    // Among other words a stop word is simply ignored.
    assert_eq!(f.search("und Anlage").total, 1);
    assert_eq!(f.search("und -Anlage").total, 0);
}

#[test]
fn manager_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IndexManager>();
}

#[test]
fn reference_matches_exactly_and_by_prefix() {
    let f = fixture();
    let mut a = doc("A", "eins");
    a.reference = "63.01-0042/2026".into();
    a.case_reference = Some("63.01-0042/2026-1".into());
    let mut b = doc("B", "zwei");
    b.reference = "63.01-0043/2026".into();
    b.case_reference = None;
    let mut c = doc("C", "drei");
    c.reference = "63.02-0001/2026".into();
    c.case_reference = None;
    f.add(&[a.clone(), b.clone(), c.clone()]);
    assert_eq!(f.ids("63.01-0042/2026"), vec![a.document_id]);
    assert_eq!(f.ids("63.01-"), sorted(vec![a.document_id, b.document_id]));
    assert_eq!(f.ids("63.01*"), sorted(vec![a.document_id, b.document_id]));
    assert_eq!(f.ids("az:63.0*").len(), 3);
    assert_eq!(f.ids("vz:63.01-0042/2026-1"), vec![a.document_id]);
    assert!(f.ids("az:63.01-0042/2026-1").is_empty());
}

#[test]
fn phrase_exclusion_and_fields() {
    let f = fixture();
    let mut a = doc(
        "Bauantrag Musterweg",
        "Antrag auf Baugenehmigung für das Grundstück Musterweg 3",
    );
    a.kind = DocKind::Bescheid;
    a.sender = "Max Muster".into();
    let mut b = doc(
        "Vermerk Garage",
        "Genehmigung für das Grundstück, Garage am Musterweg",
    );
    b.kind = DocKind::Vermerk;
    b.document_date = Some(date!(2025 - 01 - 02));
    f.add(&[a.clone(), b.clone()]);
    assert_eq!(f.ids("\"Grundstück Musterweg\""), vec![a.document_id]);
    assert_eq!(f.ids("Grundstück -Garage"), vec![a.document_id]);
    assert_eq!(f.ids("kind:vermerk"), vec![b.document_id]);
    assert_eq!(f.ids("absender:Muster"), vec![a.document_id]);
    assert_eq!(f.ids("titel:Garage"), vec![b.document_id]);
    assert_eq!(f.ids("jahr:2025"), vec![b.document_id]);
    assert_eq!(f.ids("status:offen").len(), 2);
}

#[test]
fn malformed_query_is_a_typed_error() {
    assert_eq!(
        Query::parse("\"offen").unwrap_err().kind,
        QueryErrorKind::UnclosedQuote
    );
    assert!(matches!(
        Query::parse("farbe:rot").unwrap_err().kind,
        QueryErrorKind::UnknownField(_)
    ));
    let f = fixture();
    let bad = SearchOptions {
        cursor: Some("xyz".into()),
        ..SearchOptions::default()
    };
    let err = f
        .manager
        .search(f.tenant, &Query::parse("x").unwrap(), &bad)
        .unwrap_err();
    assert!(matches!(err, SearchError::InvalidCursor));
    let deep = SearchOptions {
        cursor: Some("o1.100000000".into()),
        ..SearchOptions::default()
    };
    let err = f
        .manager
        .search(f.tenant, &Query::parse("x").unwrap(), &deep)
        .unwrap_err();
    assert!(matches!(err, SearchError::InvalidCursor));
}

#[test]
fn index_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = Uuid::new_v4();
    let d = doc("Bescheid", "Die Straßenreinigungsgebühr wird festgesetzt.");
    {
        let m = IndexManager::open(dir.path().to_path_buf()).unwrap();
        m.upsert(tenant, &d).unwrap();
        m.commit(tenant).unwrap();
    }
    let m = IndexManager::open(dir.path().to_path_buf()).unwrap();
    let r = m
        .search(
            tenant,
            &Query::parse("Strassenreinigung").unwrap(),
            &SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].document_id, d.document_id);
    assert!(dir.path().join(tenant.to_string()).is_dir());
}

#[test]
fn typo_falls_back_to_fuzzy_matching() {
    let f = fixture();
    let d = doc("Bescheid", "Ihre Baugenehmigung liegt bei.");
    f.add(std::slice::from_ref(&d));
    let r = f.search("Baugenehmigunk");
    assert!(r.fuzzy);
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].document_id, d.document_id);
    assert!(!f.search("Baugenehmigung").fuzzy);
}

#[test]
fn tenant_never_sees_another_tenants_documents() {
    let f = fixture();
    let other = Uuid::new_v4();
    let mine = doc("Hundesteuer", "Hundesteuer für den Dackel");
    let theirs = doc("Hundesteuer", "Hundesteuer für den Dackel");
    f.add(std::slice::from_ref(&mine));
    f.manager.upsert(other, &theirs).unwrap();
    f.manager.commit(other).unwrap();
    assert_eq!(f.ids("Dackel"), vec![mine.document_id]);
    assert_eq!(f.ids(""), vec![mine.document_id]);
    let r = f
        .manager
        .search(
            other,
            &Query::parse("Dackel").unwrap(),
            &SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].document_id, theirs.document_id);
    assert_eq!(f.manager.doc_count(f.tenant).unwrap(), 1);
    assert_eq!(f.manager.doc_count(Uuid::new_v4()).unwrap(), 0);
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let f = fixture();
    let mut d = doc("Antrag", "Erste Fassung mit Zaun");
    f.add(&[d.clone()]);
    d.version = 2;
    d.content = "Zweite Fassung mit Mauer".into();
    f.add(&[d.clone()]);
    assert_eq!(f.manager.doc_count(f.tenant).unwrap(), 1);
    assert!(f.search("Zaun").items.is_empty());
    let hits = f.search("Mauer").items;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].version, 2);
    f.manager.delete(f.tenant, d.document_id).unwrap();
    f.manager.commit(f.tenant).unwrap();
    assert_eq!(f.manager.doc_count(f.tenant).unwrap(), 0);
    assert_eq!(f.search("Mauer").total, 0);
}

#[test]
fn snippet_highlights_and_escapes() {
    let f = fixture();
    f.add(&[doc(
        "Mitteilung",
        "Sehr geehrte <Damen>, die Baugenehmigung liegt vor & gilt.",
    )]);
    let hit = &f.search("Genehmigung").items[0];
    assert!(
        hit.snippet.contains("<mark>Baugenehmigung</mark>"),
        "{}",
        hit.snippet
    );
    assert!(hit.snippet.contains("&lt;Damen&gt;"), "{}", hit.snippet);
}

#[test]
fn filters_sort_paging_and_facets() {
    let f = fixture();
    let file = Uuid::new_v4();
    let org = Uuid::new_v4();
    let mut docs = Vec::new();
    for i in 0..5 {
        let mut d = doc(
            &format!("Gebührenbescheid {i}"),
            "Gebühr für die Sondernutzung",
        );
        d.document_date = Some(date!(2024 - 01 - 01).replace_year(2022 + i).unwrap());
        d.kind = if i % 2 == 0 {
            DocKind::Bescheid
        } else {
            DocKind::Eingang
        };
        d.file_id = if i < 2 { file } else { Uuid::new_v4() };
        d.org_unit = (i == 4).then_some(org);
        d.status = if i == 3 {
            DocStatus::ZdA
        } else {
            DocStatus::Offen
        };
        d.plan_unit_path = if i == 0 {
            vec!["3".into(), "32".into()]
        } else {
            vec!["6".into(), "63".into(), "63.01".into()]
        };
        d.metadata = serde_json::json!({"antragsteller": {"ort": "Herdecke"}, "nr": i})
            .as_object()
            .cloned()
            .unwrap();
        docs.push(d);
    }
    f.add(&docs);
    let opts = |o: SearchOptions| f.search_with("Sondernutzung", &o).total;
    let all = SearchOptions::default();
    assert_eq!(opts(all.clone()), 5);
    assert_eq!(
        opts(SearchOptions {
            plan_unit: Some("63".into()),
            ..all.clone()
        }),
        4
    );
    assert_eq!(
        opts(SearchOptions {
            plan_unit: Some("3".into()),
            ..all.clone()
        }),
        1
    );
    assert_eq!(
        opts(SearchOptions {
            file_id: Some(file),
            ..all.clone()
        }),
        2
    );
    assert_eq!(
        opts(SearchOptions {
            org_unit: Some(org),
            ..all.clone()
        }),
        1
    );
    assert_eq!(
        opts(SearchOptions {
            kind: Some(DocKind::Bescheid),
            ..all.clone()
        }),
        3
    );
    assert_eq!(
        opts(SearchOptions {
            status: Some(DocStatus::ZdA),
            ..all.clone()
        }),
        1
    );
    let range = SearchOptions {
        date_from: Some(date!(2023 - 01 - 01)),
        date_to: Some(date!(2024 - 01 - 01)),
        ..all.clone()
    };
    assert_eq!(opts(range), 2);
    let meta = SearchOptions {
        metadata: vec![
            ("antragsteller.ort".into(), "herdecke".into()),
            ("nr".into(), "3".into()),
        ],
        ..all.clone()
    };
    assert_eq!(opts(meta), 1);
    assert_eq!(f.search("Herdecke").total, 5);

    // Newest first, two per page, cursor to the end.
    let mut page = SearchOptions {
        sort: SortOrder::DateDesc,
        limit: 2,
        facets: true,
        ..all
    };
    let mut years = Vec::new();
    loop {
        let r = f.search_with("Sondernutzung", &page);
        assert_eq!(r.total, 5);
        let facets = r.facets.unwrap();
        assert_eq!(facets.kind[0].value, "Bescheid");
        assert_eq!(facets.kind[0].count, 3);
        assert_eq!(facets.plan_unit[0].value, "6");
        assert_eq!(facets.plan_unit[0].count, 4);
        assert_eq!(facets.year.len(), 5);
        years.extend(r.items.iter().map(|h| h.document_date.unwrap().year()));
        match r.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(years, vec![2026, 2025, 2024, 2023, 2022]);
}

#[test]
fn timing_smoke_10000_documents() {
    let f = fixture();
    let words = [
        "Bauantrag",
        "Baugenehmigung",
        "Gewerbeanmeldung",
        "Hundesteuer",
        "Abfallgebühr",
        "Widerspruch",
        "Straßenreinigung",
        "Sondernutzung",
        "Bebauungsplan",
        "Wohngeld",
        "Kindergarten",
        "Personalakte",
        "Rechnung",
        "Stellungnahme",
        "Anhörung",
        "Grundsteuer",
    ];
    let start = Instant::now();
    for i in 0..10_000usize {
        let pick = |k: usize| words[(i * 7 + k * 13 + i / 3) % words.len()];
        let mut d =
            doc(
                &format!("{} Nr. {i}", pick(0)),
                &format!(
                "Sehr geehrte Damen und Herren, betreffend {} und {} teilen wir mit, dass die {} \
                 geprüft wurde. Die {} ist beigefügt. Mit freundlichen Grüßen",
                pick(1), pick(2), pick(3), pick(4)
            ),
            );
        d.reference = format!("63.{:02}-{:04}/2026", i % 7, i % 500);
        f.manager.upsert(f.tenant, &d).unwrap();
    }
    f.manager.commit(f.tenant).unwrap();
    let indexed = start.elapsed();
    let t = Instant::now();
    let r = f.search_with(
        "Rechnung",
        &SearchOptions {
            facets: true,
            ..SearchOptions::default()
        },
    );
    let q1 = t.elapsed();
    let t = Instant::now();
    let r2 = f.search("Genehmigung -Widerspruch az:63.01-");
    let q2 = t.elapsed();
    println!(
        "10,000 docs: indexed+committed in {indexed:?}; 'Rechnung' {} hits in {q1:?}; \
         compound+exclusion+prefix {} hits in {q2:?} (debug build)",
        r.total, r2.total
    );
    assert_eq!(f.manager.doc_count(f.tenant).unwrap(), 10_000);
    assert!(r.total > 0);
}

#[test]
fn visibility_limits_hits_totals_and_facets_inside_the_search() {
    let f = fixture();
    let open = doc("Beurteilung offen", "Beurteilung der Bewerberin");
    let mut secret = doc("Beurteilung geheim", "Beurteilung der Bewerberin");
    secret.confidential = true;
    let mut other_secret = doc("Beurteilung anderswo", "Beurteilung der Bewerberin");
    other_secret.confidential = true;
    let mut elsewhere = doc("Beurteilung Kämmerei", "Beurteilung der Bewerberin");
    elsewhere.plan_unit_path = vec!["2".into(), "20".into()];
    f.add(&[
        open.clone(),
        secret.clone(),
        other_secret.clone(),
        elsewhere.clone(),
    ]);
    let everything = SearchOptions {
        visibility: Visibility::everything(),
        ..SearchOptions::default()
    };
    assert_eq!(f.search_with("Beurteilung", &everything).total, 4);
    assert_eq!(
        f.search("Beurteilung").total,
        2,
        "by default no confidential Akte is visible"
    );

    let with = |visibility: Visibility| SearchOptions {
        visibility,
        facets: true,
        ..SearchOptions::default()
    };
    // Named on one confidential Akte: that one, not the other.
    let r = f.search_with(
        "Beurteilung",
        &with(Visibility {
            plan_scope: None,
            confidential_files: Some(vec![secret.file_id]),
        }),
    );
    let ids = sorted(r.items.iter().map(|h| h.document_id).collect());
    assert_eq!(
        ids,
        sorted(vec![
            open.document_id,
            secret.document_id,
            elsewhere.document_id
        ])
    );
    assert_eq!(r.total, 3);
    let kinds: u64 = r
        .facets
        .as_ref()
        .unwrap()
        .kind
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(kinds, 3, "facets count visible documents only");

    // Limited to plan unit 63 and named on nothing confidential.
    let r = f.search_with(
        "Beurteilung",
        &with(Visibility {
            plan_scope: Some("63".into()),
            confidential_files: Some(Vec::new()),
        }),
    );
    assert_eq!(r.total, 1);
    assert_eq!(r.items[0].document_id, open.document_id);
}
